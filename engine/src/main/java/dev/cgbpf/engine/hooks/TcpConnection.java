package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.cgroup.Cgroup;

import java.util.Arrays;
import java.util.function.IntSupplier;

/**
 * The active open of a TCP connect probe over loopback, as the cgroup_skb and sock_ops programs
 * of the connecting socket's cgroup see it. The listener lives outside every scenario cgroup, so
 * only the client's side runs programs: its egress programs on what it sends, its ingress
 * programs on what comes back to it, its sock_ops programs at TCP's callbacks.
 *
 * <p>The sequence, recorded on Linux 6.18 by programs appending to one shared log:
 * <pre>
 *   sock_ops TCP_CONNECT_CB, RWND_INIT, TIMEOUT_INIT, NEEDS_ECN   (state SYN_SENT)
 *   egress SYN
 *   ingress SYN-ACK                      (or RST|ACK when nothing listens: ECONNREFUSED)
 *   sock_ops ACTIVE_ESTABLISHED_CB        (state ESTABLISHED, skb = the SYN-ACK from its TCP header)
 *   egress ACK
 *   -- the probe has its answer and closes the socket --
 *   egress FIN|ACK
 *   ingress ACK                           (the listener's child acknowledging the FIN)
 * </pre>
 * A dropped SYN, SYN-ACK or RST is retried: the probe waits 2 s, the client's first RTO is 1 s
 * and so is the listener's SYN-ACK timer, so at 1 s the client sends its SYN again (egress, then
 * sock_ops TIMEOUT_INIT), the listener answers that SYN with a SYN-ACK (or a RST) and, if it
 * already held a request from the first SYN, its timer sends one more SYN-ACK; the next
 * retransmissions fall after the 2 s, so the connect is ETIMEDOUT (closing a SYN_SENT socket
 * sends nothing). What happens after the FIN exchange (the listener's FIN reaches a TIME_WAIT
 * socket, which runs no programs) and retransmissions of a dropped ACK or FIN, which the kernel
 * sends after the probe returned, are not modelled.
 *
 * <p>The socket's {@link TcpSock} follows the same steps (its values at each are in that class), and
 * the optional callbacks a program enabled with bpf_sock_ops_cb_flags_set run where the kernel runs
 * them (observed): RTT_CB when an ACK gives an RTT sample (the SYN-ACK, the FIN's ACK), before the
 * state change it causes; STATE_CB in tcp_set_state, before the new state is stored (ctx->state
 * reads the old one): SYN_SENT to ESTABLISHED before ACTIVE_ESTABLISHED_CB, ESTABLISHED to
 * FIN_WAIT1 before the FIN, FIN_WAIT1 to FIN_WAIT2 on its ACK and at once FIN_WAIT2 to CLOSE
 * (__tcp_close hands an orphan in FIN_WAIT2 to tcp_time_wait when tcp_fin_timeout is at most
 * TCP_TIMEWAIT_LEN, and tcp_done closes it), SYN_SENT to CLOSE on a RST or when the probe closes a
 * socket that never connected. The retransmitted SYN changes the counters as the kernel's RTO does
 * ({@link TcpSock#retransmitTimeout}); RTO_CB and RETRANS_CB are not made. After a dropped SYN-ACK
 * the established socket also takes the listener's second SYN-ACK and answers it with an ACK (one
 * more ingress and egress packet; observed as counters, the ACK's bytes not compared).
 *
 * <p>The header-option callbacks ({@link TcpHdrOptCallbacks}) run while each segment the socket
 * sends is built, before its egress programs, and on the FIN's ACK before tcp_ack's callbacks.
 */
final class TcpConnection {
    enum Outcome { ESTABLISHED, REFUSED, TIMED_OUT }

    static final int TCP_FIN_WAIT1 = 4;
    static final int TCP_FIN_WAIT2 = 5;
    /** The MSS loopback advertises (and the SYN's window): 65495 over IPv4, 65476 over IPv6. */
    static final int MSS_V4 = 65495;
    static final int MSS_V6 = 65476;
    /** The window scale of a SYN: 10 with this host's tcp_rmem maximum of 32 MiB. */
    static final int WSCALE = 10;
    /** The window field after the handshake: 65536 >> 10. */
    static final int SCALED_WINDOW = 64;
    /** lo's MTU less the IPv4 / IPv6 and TCP headers: the MSS of the route (tcp_mtu_to_mss). */
    static final int MTU_MSS_V4 = 65536 - 20 - 20;
    static final int MTU_MSS_V6 = 65536 - 40 - 20;
    static final int RTO_MS = 1000;

    private final SkbHooks skb;
    private final SockOpsHook sockOps;
    private final Cgroup cgroup;
    private final InetSock sk;
    private final boolean listening;
    private final SockAddr local;
    private final SockAddr remote;
    private final TcpSock tcp;
    private final TcpHdrOptCallbacks hdrOpt;
    private final int mss;
    private final int clientIsn;
    private final int serverIsn;
    private final int clientTsOff;
    private final int serverTsOff;
    private final int clientFlow;
    private final int serverFlow;
    private final int txHash;
    private final int rxHash;
    private int ipId;
    private final int serverIpId;
    private int establishedAt = -1;
    private int synAckTsval;

    /**
     * @param sk        the connecting socket: bound (rcvSaddr, num) and with its peer set
     * @param listening whether a listener takes the SYN (else the host answers with a RST)
     * @param random    the kernel's random numbers (ISNs, IP ids, timestamp offsets, flow labels, hashes)
     */
    TcpConnection(SkbHooks skb, SockOpsHook sockOps, Cgroup cgroup, InetSock sk, boolean listening,
                  IntSupplier random) {
        this.skb = skb;
        this.sockOps = sockOps;
        this.cgroup = cgroup;
        this.sk = sk;
        this.listening = listening;
        byte[] peer4 = sk.peer.v4();
        this.local = peer4 != null ? new SockAddr(sk.rcvSaddr.v4()) : sk.rcvSaddr;
        this.remote = peer4 != null ? new SockAddr(peer4) : sk.peer;
        this.mss = peer4 != null ? MSS_V4 : MSS_V6;
        this.tcp = sk.tcp;
        this.hdrOpt = new TcpHdrOptCallbacks(sockOps, cgroup, sk);
        this.clientIsn = random.getAsInt();
        this.serverIsn = random.getAsInt();
        this.clientTsOff = random.getAsInt();
        this.serverTsOff = random.getAsInt();
        this.clientFlow = flowLabel(random.getAsInt());
        this.serverFlow = flowLabel(random.getAsInt());
        this.txHash = random.getAsInt() | 1;
        this.rxHash = random.getAsInt() | 1;
        this.ipId = random.getAsInt() & 0xffff;
        this.serverIpId = random.getAsInt() & 0xffff;
    }

    private static int flowLabel(int r) {
        int label = r & 0xfffff;
        return label == 0 ? 1 : label;
    }

    /** The handshake, until established, refused, or the probe's 2 s are over. */
    Outcome connect() {
        sk.state = InetSock.TCP_SYN_SENT;
        sockOps(SockOpsHook.TCP_CONNECT_CB, null);
        tcp.connectInit(remote.isV6(), remote.isV6() ? MTU_MSS_V6 : MTU_MSS_V4);
        sockOps(SockOpsHook.RWND_INIT, null);
        tcp.initSeq(clientIsn);
        sockOps(SockOpsHook.TIMEOUT_INIT, null);
        tcp.packetsOut = 1; // tcp_connect_queue_skb
        sockOps(SockOpsHook.NEEDS_ECN, null);
        boolean requestHeld = false;
        for (int attempt = 0; attempt < 2; attempt++) {
            int now = attempt * RTO_MS;
            int synTsval = clientTsOff + now;
            if (attempt > 0) {
                tcp.retransmitTimeout(SockOpt.congestion(sk));
                hdrOpt.currentMss(false); // __tcp_retransmit_skb
            }
            // the header-option callbacks run while the SYN is built, before segs_out counts it
            byte[] syn = segment(clientIsn, 0, LoopbackPacket.SYN, mss, synOptions(synTsval, 0));
            tcp.segmentOut();
            boolean sent = egress(syn);
            if (attempt > 0) {
                if (sent) {
                    tcp.retransmitted();
                }
                sockOps(SockOpsHook.TIMEOUT_INIT, null);
            }
            if (!listening) {
                if (sent && ingress(rst(), 0)) {
                    refused();
                    return Outcome.REFUSED;
                }
                tcp.sndNxt = clientIsn + 1;
                continue;
            }
            // a request held from an earlier SYN makes the listener's timer send its SYN-ACK again;
            // a SYN that arrives is answered with one
            int synAcks = (requestHeld ? 1 : 0) + (sent ? 1 : 0);
            requestHeld |= sent;
            for (int i = 0; i < synAcks; i++) {
                synAckTsval = serverTsOff + now;
                byte[] synAck = serverSegment(serverIsn, clientIsn + 1, LoopbackPacket.SYN | LoopbackPacket.ACK,
                        mss - 12, synOptions(synAckTsval, synTsval));
                if (ingress(synAck, 0)) {
                    established(now, synAck);
                    if (i + 1 < synAcks) {
                        duplicateSynAck(now, synAck.clone());
                    }
                    return Outcome.ESTABLISHED;
                }
            }
            // the SYN-ACK ran the ingress programs inside the SYN's transmission; snd_nxt moves after it
            tcp.sndNxt = clientIsn + 1;
        }
        return Outcome.TIMED_OUT;
    }

    /** tcp_reset, then tcp_done: the RST closes the socket. */
    private void refused() {
        tcp.sndNxt = clientIsn + 1;
        tcp.segmentIn();
        tcp.packetsOut = 0;
        setState(InetSock.TCP_CLOSE);
    }

    /** tcp_rcv_synsent_state_process, tcp_finish_connect and tcp_init_transfer, then the handshake's ACK. */
    private void established(int now, byte[] synAck) {
        establishedAt = now;
        tcp.sndNxt = clientIsn + 1;
        tcp.segmentIn();
        tcp.peerMss(mss);
        tcp.ack(mss - 12, 1);
        rttSample();
        if (bbr()) {
            tcp.sndCwnd = TcpSock.BBR_CWND_MIN;
        }
        tcp.rcvNxt = serverIsn + 1;
        setState(InetSock.TCP_ESTABLISHED);
        // tcp_init_transfer: the initial window (one retransmission is not enough to start at 1)
        // and no slow-start threshold
        tcp.sndCwnd = TcpSock.TCP_INIT_CWND;
        tcp.sndSsthresh = TcpSock.TCP_INFINITE_SSTHRESH;
        sockOps(SockOpsHook.ACTIVE_ESTABLISHED_CB, transportPart(synAck));
        byte[] ack = segment(clientIsn + 1, serverIsn + 1, LoopbackPacket.ACK, SCALED_WINDOW,
                ackOptions(clientTsOff + now, synAckTsval));
        tcp.segmentOut();
        egress(ack);
    }

    /**
     * The listener's other SYN-ACK (the same segment) reaching the established socket:
     * tcp_validate_incoming answers a SYN in ESTABLISHED with a challenge ACK (RFC 5961; the first one
     * is not rate-limited), which is the handshake's ACK again.
     */
    private void duplicateSynAck(int now, byte[] synAck) {
        if (ingress(synAck, 0)) {
            tcp.segmentIn();
            byte[] ack = segment(clientIsn + 1, serverIsn + 1, LoopbackPacket.ACK, SCALED_WINDOW,
                    ackOptions(clientTsOff + now, synAckTsval));
            tcp.segmentOut();
            egress(ack);
        }
    }

    /** close(2): the FIN and the ACK the listener's side sends back; a socket that never connected just closes. */
    void close() {
        SockMapHelpers.close(sk); // sock_map_close runs before tcp_close: the FIN leaves no socket in a map
        if (establishedAt < 0) {
            if (sk.state == InetSock.TCP_SYN_SENT) {
                setState(InetSock.TCP_CLOSE);
            }
            return; // closing a SYN_SENT socket sends nothing
        }
        setState(TCP_FIN_WAIT1);
        hdrOpt.currentMss(true); // tcp_send_fin
        int finTsval = clientTsOff + establishedAt;
        byte[] fin = segment(clientIsn + 1, serverIsn + 1, LoopbackPacket.FIN | LoopbackPacket.ACK,
                SCALED_WINDOW, ackOptions(finTsval, synAckTsval));
        tcp.segmentOut();
        boolean sent = egress(fin);
        tcp.sndNxt = clientIsn + 2;
        tcp.packetsOut = 1;
        byte[] finAck = serverSegment(serverIsn + 1, clientIsn + 2, LoopbackPacket.ACK, SCALED_WINDOW,
                ackOptions(serverTsOff + establishedAt, finTsval));
        if (sent && ingress(finAck, 1)) {
            tcp.segmentIn();
            hdrOpt.parse(transportPart(finAck)); // tcp_validate_incoming, before tcp_ack

            tcp.ack(SCALED_WINDOW << WSCALE, 1);
            rttSample();
            tcp.rateDelivered = 1;
            tcp.rateIntervalUs = TcpSock.RTT_US;
            if (bbr()) {
                tcp.sndCwnd++; // startup: the window grows by what was acknowledged
            }
            setState(TCP_FIN_WAIT2);
            setState(InetSock.TCP_CLOSE);
        }
    }

    /** Whether the socket's congestion control is bbr now (a program may set TCP_CONGESTION at any callback). */
    private boolean bbr() {
        return "bbr".equals(SockOpt.congestion(sk));
    }

    /** tcp_set_state: STATE_CB (old and new state) when enabled, then the new state. */
    private void setState(int state) {
        if ((tcp.cbFlags & TcpSock.STATE_CB_FLAG) != 0) {
            sockOps.call(cgroup, sk, SockOpsHook.STATE_CB, new int[] {sk.state, state}, (byte[]) null);
        }
        sk.state = state;
    }

    /** tcp_rtt_estimator with the engine's fixed round trip: RTT_CB (the sample, the new srtt) when enabled. */
    private void rttSample() {
        if ((tcp.cbFlags & TcpSock.RTT_CB_FLAG) != 0) {
            sockOps.call(cgroup, sk, SockOpsHook.RTT_CB, new int[] {TcpSock.RTT_US, TcpSock.RTT_US << 3}, (byte[]) null);
        }
        tcp.rttEstimated();
    }

    // ---------------------------------------------------------------- packets

    /** A segment from the client, as an IP packet. */
    private byte[] segment(int seq, int ack, int flags, int window, byte[] options) {
        byte[] withBpf = hdrOpt.options(options, flags,
                o -> LoopbackPacket.tcp(local, remote, sk.num, sk.dport, seq, ack, flags, window, o, false));
        byte[] tcp = LoopbackPacket.tcp(local, remote, sk.num, sk.dport, seq, ack, flags, window, withBpf, false);
        return LoopbackPacket.ip(local, remote, InetSock.IPPROTO_TCP, ipId++, clientFlow, tcp);
    }

    /** A segment from the listener's side: a request socket's SYN-ACK (IP id 0) or the child's ACK (its own ids). */
    private byte[] serverSegment(int seq, int ack, int flags, int window, byte[] options) {
        byte[] tcp = LoopbackPacket.tcp(remote, local, sk.dport, sk.num, seq, ack, flags, window, options, false);
        int id = (flags & LoopbackPacket.SYN) != 0 ? 0 : serverIpId;
        return LoopbackPacket.ip(remote, local, InetSock.IPPROTO_TCP, id, serverFlow, tcp);
    }

    /** The control socket's answer to a SYN for a port nobody listens on: RST|ACK, window 0, full checksum. */
    private byte[] rst() {
        byte[] tcp = LoopbackPacket.tcp(remote, local, sk.dport, sk.num, 0, clientIsn + 1,
                LoopbackPacket.RST | LoopbackPacket.ACK, 0, new byte[0], true);
        return LoopbackPacket.ip(remote, local, InetSock.IPPROTO_TCP, 0, serverFlow, tcp);
    }

    /** MSS, SACK permitted + timestamps, NOP + window scale: the 20 option bytes of a SYN and a SYN-ACK. */
    private byte[] synOptions(int tsval, int tsecr) {
        byte[] o = new byte[20];
        o[0] = 2;
        o[1] = 4;
        LoopbackPacket.putShort(o, 2, mss);
        o[4] = 4;
        o[5] = 2;
        o[6] = 8;
        o[7] = 10;
        LoopbackPacket.putInt(o, 8, tsval);
        LoopbackPacket.putInt(o, 12, tsecr);
        o[16] = 1;
        o[17] = 3;
        o[18] = 3;
        o[19] = WSCALE;
        return o;
    }

    /** NOP, NOP, timestamps: the 12 option bytes of every later segment. */
    private static byte[] ackOptions(int tsval, int tsecr) {
        byte[] o = new byte[12];
        o[0] = 1;
        o[1] = 1;
        o[2] = 8;
        o[3] = 10;
        LoopbackPacket.putInt(o, 4, tsval);
        LoopbackPacket.putInt(o, 8, tsecr);
        return o;
    }

    private static byte[] transportPart(byte[] ipPacket) {
        int off = LoopbackPacket.transportOffset(ipPacket);
        return Arrays.copyOfRange(ipPacket, off, ipPacket.length);
    }

    // ---------------------------------------------------------------- hooks

    private boolean egress(byte[] packet) {
        return skb.egress(cgroup, sk, SkBuff.egress(packet, sk, txHash, true)).pass();
    }

    private boolean ingress(byte[] packet, int gsoSegs) {
        return skb.ingress(cgroup, sk, SkBuff.ingress(packet, rxHash, gsoSegs)).pass();
    }

    private void sockOps(int op, byte[] segment) {
        sockOps.call(cgroup, sk, op, new int[0], segment);
    }
}
