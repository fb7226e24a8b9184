package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.verifier.BpfTcpSock;

/**
 * {@code struct bpf_tcp_sock} (112 bytes), what bpf_tcp_sock() points to: the TCP socket's counters,
 * read-only, each field whole (bpf_tcp_sock_is_valid_access). Read live from {@link TcpSock}, as
 * bpf_tcp_sock_convert_ctx_access reads the tcp_sock. Fields the engine does not move (ecn_flags,
 * data segments, sacked_out, bytes_received, dsack_dups, delivered_ce) read 0, as they do in the
 * kernel for a connect without data.
 */
final class BpfTcpSockCtx extends UapiCtx {
    /** Where each of {@link TcpSock#counters()} lies (snd_cwnd at 0 ... icsk_retransmits at 108). */
    private static final int[] COUNTERS = {0, 4, 8, 12, 16, 20, 24, 28, 36, 40, 44, 48, 52, 56, 64, 72, 88, 100, 108};

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
        putCounters(COUNTERS, tcp);
        return get(off, size);
    }
}
