package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.cgroup.Cgroup;

import java.util.function.Function;

/**
 * The header-option callbacks of one connecting socket, where 6.18 makes them (recorded in
 * examples/scenarios/tcp-hdr-opt-active):
 * <ul>
 * <li>every segment the socket sends, when WRITE_HDR_OPT_CB_FLAG is set and the kernel's options
 *   leave room: HDR_OPT_LEN_CB (bpf_skops_hdr_opt_len, from tcp_syn_options or
 *   tcp_established_options) with the room left of the 40 option bytes; what the programs reserved,
 *   rounded up to 4, is added to the header, and WRITE_HDR_OPT_CB (bpf_skops_write_hdr_opt) lets them
 *   store options there; what they leave unwritten is NOPs. Both run before the egress programs.</li>
 * <li>tcp_current_mss asks for the length of the established options with no packet: HDR_OPT_LEN_CB
 *   with args[0] BPF_WRITE_HDR_TCP_CURRENT_MSS (1), as tcp_send_fin does before the FIN and
 *   tcp_retransmit_skb before the SYN is sent again. The room is 40 bytes less the timestamps' 12
 *   once they are agreed on, all 40 before (measured by what can be reserved).</li>
 * <li>every segment received in a state past the handshake, when PARSE_ALL_HDR_OPT_CB_FLAG is set:
 *   PARSE_HDR_OPT_CB (bpf_skops_parse_hdr, from tcp_validate_incoming), skb_data_end at the end of
 *   the TCP header. PARSE_UNKNOWN_HDR_OPT_CB_FLAG alone makes none: the listener writes no option
 *   the kernel does not know.</li>
 * </ul>
 */
final class TcpHdrOptCallbacks {
    /** MAX_TCP_OPTION_SPACE. */
    private static final int MAX_OPTION_SPACE = 40;
    /** The timestamps option, NOP-aligned: all an established segment of the engine carries. */
    private static final int TIMESTAMPS = 12;
    private static final int CURRENT_MSS = 1;
    private static final byte TCPOPT_NOP = 1;
    private static final int CHECK = 16;

    private final SockOpsHook sockOps;
    private final Cgroup cgroup;
    private final InetSock sk;

    TcpHdrOptCallbacks(SockOpsHook sockOps, Cgroup cgroup, InetSock sk) {
        this.sockOps = sockOps;
        this.cgroup = cgroup;
        this.sk = sk;
    }

    private boolean flag(int f) {
        return (sk.tcp.cbFlags & f) != 0;
    }

    /**
     * The options of a segment being sent: the kernel's, then what the programs reserved and wrote.
     *
     * @param header the TCP header (its checksum computed) for given options
     */
    byte[] options(byte[] kernel, int tcpFlags, Function<byte[], byte[]> header) {
        int remaining = MAX_OPTION_SPACE - kernel.length;
        if (!flag(TcpSock.WRITE_HDR_OPT_CB_FLAG) || remaining == 0) {
            return kernel;
        }
        HdrOptSkb len = HdrOptSkb.beforeHeader(0, tcpFlags, remaining);
        SockOpsHook.Result r = sockOps.call(cgroup, sk, SockOpsHook.HDR_OPT_LEN_CB, new int[] {0}, len);
        if (r.retval() != 0 || len.remaining == remaining) {
            return kernel;
        }
        int reserved = (remaining - len.remaining + 3) & ~3;
        byte[] options = new byte[kernel.length + reserved];
        System.arraycopy(kernel, 0, options, 0, kernel.length);
        byte[] h = header.apply(options);
        // th->check is filled in after the options are written
        h[CHECK] = 0;
        h[CHECK + 1] = 0;
        HdrOptSkb write = HdrOptSkb.toWrite(h, 0, reserved);
        r = sockOps.call(cgroup, sk, SockOpsHook.WRITE_HDR_OPT_CB, new int[] {0}, write);
        int written = r.retval() != 0 ? 0 : reserved - write.remaining;
        int first = h.length - reserved;
        System.arraycopy(h, first, options, kernel.length, written);
        java.util.Arrays.fill(options, kernel.length + written, options.length, TCPOPT_NOP);
        return options;
    }

    /**
     * tcp_current_mss: HDR_OPT_LEN_CB without a packet; its answer changes no segment of the engine.
     *
     * @param timestamps whether the handshake agreed on timestamps (tcp_established_options counts them)
     */
    void currentMss(boolean timestamps) {
        if (flag(TcpSock.WRITE_HDR_OPT_CB_FLAG)) {
            sockOps.call(cgroup, sk, SockOpsHook.HDR_OPT_LEN_CB, new int[] {CURRENT_MSS},
                    HdrOptSkb.none(MAX_OPTION_SPACE - (timestamps ? TIMESTAMPS : 0)));
        }
    }

    /** bpf_skops_parse_hdr on a received segment (from its TCP header on) in the socket's present state. */
    void parse(byte[] tcpSegment) {
        if (!flag(TcpSock.PARSE_ALL_HDR_OPT_CB_FLAG) || sk.state == InetSock.TCP_SYN_SENT) {
            return; // a SYN-ACK is ACTIVE_ESTABLISHED_CB's to read
        }
        sockOps.call(cgroup, sk, SockOpsHook.PARSE_HDR_OPT_CB, new int[0], HdrOptSkb.received(tcpSegment));
    }
}
