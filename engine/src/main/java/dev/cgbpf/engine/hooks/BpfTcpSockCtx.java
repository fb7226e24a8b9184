package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.verifier.BpfTcpSock;

/**
 * {@code struct bpf_tcp_sock} (112 bytes), what bpf_tcp_sock() points to: the TCP socket's counters,
 * read-only, each field whole (bpf_tcp_sock_is_valid_access). Read live from {@link TcpSock}, as
 * bpf_tcp_sock_convert_ctx_access reads the tcp_sock. Fields the engine does not move (ecn_flags,
 * retrans_out, total_retrans, data segments, lost/sacked, bytes_received, dsack_dups, delivered_ce,
 * icsk_retransmits) read 0, as they do in the kernel for a handshake and a close without data or loss.
 */
final class BpfTcpSockCtx extends UapiCtx {
    static final int SNDCWND = 0;
    static final int SRTT_US = 4;
    static final int RTT_MIN = 8;
    static final int SND_SSTHRESH = 12;
    static final int RCV_NXT = 16;
    static final int SND_NXT = 20;
    static final int SND_UNA = 24;
    static final int MSS_CACHE = 28;
    static final int RATE_DELIVERED = 36;
    static final int RATE_INTERVAL_US = 40;
    static final int PACKETS_OUT = 44;
    static final int SEGS_IN = 56;
    static final int SEGS_OUT = 64;
    static final int BYTES_ACKED = 88;
    static final int DELIVERED = 100;

    private final TcpSock tcp;
    /** As {@link BpfSockCtx#origin()}: the acquired reference this pointer shares, -1 for none. */
    private final int origin;

    BpfTcpSockCtx(TcpSock tcp, int origin) {
        super(BpfTcpSock.END);
        this.tcp = tcp;
        this.origin = origin;
    }

    int origin() {
        return origin;
    }

    TcpSock tcp() {
        return tcp;
    }

    @Override
    protected boolean allowed(int off, int size, boolean write) {
        return !write && BpfTcpSock.isValidAccess(off, size);
    }

    @Override
    protected long read(int off, int size) {
        put(SNDCWND, 4, tcp.sndCwnd);
        put(SRTT_US, 4, tcp.srttUs);
        put(RTT_MIN, 4, tcp.rttMin);
        put(SND_SSTHRESH, 4, tcp.sndSsthresh);
        put(RCV_NXT, 4, tcp.rcvNxt);
        put(SND_NXT, 4, tcp.sndNxt);
        put(SND_UNA, 4, tcp.sndUna);
        put(MSS_CACHE, 4, tcp.mssCache);
        put(RATE_DELIVERED, 4, tcp.rateDelivered);
        put(RATE_INTERVAL_US, 4, tcp.rateIntervalUs);
        put(PACKETS_OUT, 4, tcp.packetsOut);
        put(SEGS_IN, 4, tcp.segsIn);
        put(SEGS_OUT, 4, tcp.segsOut);
        put(BYTES_ACKED, 8, tcp.bytesAcked);
        put(DELIVERED, 4, tcp.delivered);
        return get(off, size);
    }
}
