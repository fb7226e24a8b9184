package dev.cgbpf.engine.hooks;

/**
 * The part of the kernel's {@code struct tcp_sock} that programs read (bpf_tcp_sock, the statistics
 * fields of bpf_sock_ops) for the engine's TCP sockets, with the values the kernel has at each step
 * of a loopback active open and close ({@link TcpConnection} drives it). Recorded on 6.18 through
 * sock_ops, egress and ingress programs dumping bpf_tcp_sock at every callback and packet:
 *
 * <ul>
 * <li>tcp_init_sock: snd_cwnd 10 (TCP_INIT_CWND), snd_ssthresh TCP_INFINITE_SSTHRESH, mss_cache 536
 *     (TCP_MSS_DEFAULT), rtt_min ~0 (the windowed minimum before any sample), the rest 0.</li>
 * <li>tcp_connect_init syncs the MSS to the route's MTU, capped by mss_clamp (536, or IPv6's
 *     IPV6_MIN_MTU - 60 = 1220 from tcp_v6_connect) minus the timestamp option's 12 bytes, before
 *     RWND_INIT; snd_una = snd_nxt = the ISN before TIMEOUT_INIT.</li>
 * <li>On loopback the SYN-ACK reaches the ingress programs while the SYN is being sent: snd_nxt is
 *     still the ISN there and becomes ISN + 1 only after.</li>
 * <li>The SYN-ACK: the peer's MSS option lifts the clamp; the MSS is then bounded by half the
 *     largest window seen (tcp_bound_to_half_wnd: the SYN-ACK's unscaled window, 32741 over IPv4,
 *     32732 over IPv6; after the FIN's ACK, a scaled window of 65536: 32768).</li>
 * </ul>
 *
 * <p>Timing: srtt_us, rtt_min, rate_interval_us and the RTT callback's arguments come from the
 * kernel's clock; the engine uses a fixed loopback round trip of {@link #RTT_US} (scenarios do not
 * record them). The congestion window after an ACK depends on the congestion control: cubic and
 * reno keep 10 (the connection is not cwnd-limited); bbr, whose state is not yet initialised when
 * the SYN-ACK is acknowledged, floors it at 4 (bbr_cwnd_min_target) until tcp_init_transfer sets
 * 10, and grows it by the one packet the FIN's ACK acknowledges (startup).
 */
final class TcpSock {
    static final int TCP_INIT_CWND = 10;
    static final int TCP_INFINITE_SSTHRESH = 0x7fffffff;
    static final int TCP_MSS_DEFAULT = 536;
    /** IPV6_MIN_MTU - sizeof(ipv6hdr) - sizeof(tcphdr): tcp_v6_connect's mss_clamp. */
    static final int IPV6_MSS_CLAMP = 1220;
    /** The timestamp option every segment after the SYN carries (tcp_header_len - 20). */
    static final int TIMESTAMP_OPTION = 12;
    /** The engine's loopback round trip, in microseconds (the kernel measures some tens). */
    static final int RTT_US = 40;
    /** bbr_cwnd_min_target. */
    static final int BBR_CWND_MIN = 4;

    /** BPF_SOCK_OPS_*_CB_FLAG. */
    static final int RTO_CB_FLAG = 1;
    static final int RETRANS_CB_FLAG = 2;
    static final int STATE_CB_FLAG = 4;
    static final int RTT_CB_FLAG = 8;
    static final int PARSE_ALL_HDR_OPT_CB_FLAG = 0x10;
    static final int WRITE_HDR_OPT_CB_FLAG = 0x40;
    /** BPF_SOCK_OPS_ALL_CB_FLAGS in 6.18: up to BPF_SOCK_OPS_WRITE_HDR_OPT_CB_FLAG (0x40). */
    static final int ALL_CB_FLAGS = 0x7f;

    int sndCwnd = TCP_INIT_CWND;
    /** Smoothed RTT << 3, as the kernel keeps it; 0 before the first sample. */
    int srttUs;
    int rttMin = -1;
    int sndSsthresh = TCP_INFINITE_SSTHRESH;
    int rcvNxt;
    int sndNxt;
    int sndUna;
    int mssCache = TCP_MSS_DEFAULT;
    int rateDelivered;
    int rateIntervalUs;
    int packetsOut;
    int retransOut;
    int totalRetrans;
    int lostOut;
    /** icsk_retransmits: retransmissions of the segment the timer is for, 0 again once it is acknowledged. */
    int icskRetransmits;
    int segsIn;
    int segsOut;
    long bytesAcked;
    int delivered;
    /** tp->bpf_sock_ops_cb_flags: which optional sock_ops callbacks run (bpf_sock_ops_cb_flags_set). */
    int cbFlags;
    /** The largest window the peer offered (max_window), 0 before the SYN-ACK. */
    private int maxWindow;
    private int mssClamp;
    private int mtuMss;

    /**
     * The modelled counters, in struct bpf_tcp_sock's order: snd_cwnd, srtt_us, rtt_min,
     * snd_ssthresh, rcv_nxt, snd_nxt, snd_una, mss_cache, rate_delivered, rate_interval_us,
     * packets_out, retrans_out, total_retrans, segs_in, segs_out, lost_out, bytes_acked (the one
     * u64), delivered, icsk_retransmits. The uapi structs that show them give an offset for each.
     */
    long[] counters() {
        return new long[] {sndCwnd, srttUs, rttMin, sndSsthresh, rcvNxt, sndNxt, sndUna, mssCache, rateDelivered,
                rateIntervalUs, packetsOut, retransOut, totalRetrans, segsIn, segsOut, lostOut, bytesAcked, delivered,
                icskRetransmits};
    }

    /** The index of bytes_acked in {@link #counters()}, the one 8-byte field. */
    static final int BYTES_ACKED = 16;

    /**
     * tcp_connect_init's tcp_sync_mss: the MSS of lo's MTU (65536 less the IP and TCP headers),
     * capped by the clamp the connect gave, less the timestamp option.
     */
    void connectInit(boolean v6, int mtuMss) {
        this.mtuMss = mtuMss;
        this.mssClamp = v6 ? IPV6_MSS_CLAMP : TCP_MSS_DEFAULT;
        syncMss();
    }

    /** The ISN in snd_una and snd_nxt (tcp_connect_init, before TIMEOUT_INIT). */
    void initSeq(int isn) {
        sndUna = isn;
        sndNxt = isn;
    }

    /** A segment sent: tcp_transmit_skb counts it before the egress programs see it. */
    void segmentOut() {
        segsOut++;
    }

    /** A segment taken in (after the ingress programs let it through). */
    void segmentIn() {
        segsIn++;
    }

    /** The peer's MSS option (tcp_parse_options) lifts the clamp to it. */
    void peerMss(int mss) {
        mssClamp = mss;
    }

    /**
     * tcp_ack of {@code acked} sequence numbers with the peer's window: snd_una moves, the window may
     * grow max_window (and with it the MSS), the RTT is sampled.
     */
    void ack(int window, int acked) {
        if (window > maxWindow) {
            maxWindow = window;
            syncMss();
        }
        sndUna += acked;
        packetsOut = 0;
        retransOut = 0;
        lostOut = 0;
        icskRetransmits = 0;
        bytesAcked += acked;
        delivered += acked;
        rttMin = RTT_US;
    }

    /**
     * tcp_retransmit_timer for the unanswered SYN: tcp_enter_loss takes the slow-start threshold
     * from the congestion control (cubic: 717/1024 of the window, reno: half, at least 2; bbr keeps
     * it), sets the window to 1 and marks the SYN lost; the retransmission is counted before the
     * egress programs see it, retrans_out only once it left ({@link #retransmitted}).
     */
    void retransmitTimeout(String congestion) {
        sndSsthresh = switch (congestion) {
            case "cubic" -> Math.max(sndCwnd * 717 >> 10, 2);
            case "reno" -> Math.max(sndCwnd >> 1, 2);
            default -> sndSsthresh;
        };
        sndCwnd = 1;
        lostOut = 1;
        icskRetransmits++;
        totalRetrans++;
    }

    void retransmitted() {
        retransOut = 1;
    }

    /** The sample reaches srtt_us after the RTT callback (tcp_rtt_estimator; the first sample is 8 x RTT). */
    void rttEstimated() {
        srttUs = RTT_US << 3;
    }

    /** tcp_sync_mss: min(MTU's MSS, clamp) less the timestamp option, bounded by half of max_window. */
    private void syncMss() {
        int mss = Math.min(mtuMss, mssClamp) - TIMESTAMP_OPTION;
        int cutoff = maxWindow > TCP_MSS_DEFAULT ? maxWindow / 2 : maxWindow;
        if (cutoff != 0 && mss > cutoff) {
            mss = Math.max(cutoff, 68 - 20 - TIMESTAMP_OPTION);
        }
        mssCache = mss;
    }
}
