package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.Region;

/**
 * The helpers that reach a socket's TCP state: bpf_tcp_sock (cgroup_skb, sock_ops) and
 * bpf_sock_ops_cb_flags_set (sock_ops).
 */
final class TcpSockHelpers {
    static final int SOCK_OPS_CB_FLAGS_SET = 59;
    static final int TCP_SOCK = 96;

    private TcpSockHelpers() {
    }

    /**
     * struct bpf_tcp_sock *bpf_tcp_sock(struct bpf_sock *sk): the socket as a tcp_sock when it is a
     * full TCP stream socket, NULL otherwise (a UDP socket, a test run's fake socket). A tcp_sock
     * pointer passed back is itself. One run-local pointer per socket for the run (the kernel returns
     * the socket's own address); NULL when the run has no slot left for a new one.
     */
    static long tcpSock(Machine m, long sk, long r2, long r3, long r4, long r5) {
        Region r = m.region(sk, 1, false);
        if (r.ctx() instanceof BpfTcpSockCtx) {
            return sk;
        }
        if (!(r.ctx() instanceof BpfSockCtx view)) {
            throw new Fault("bpf_tcp_sock: R1 is not a socket (0x" + Long.toHexString(sk) + ")");
        }
        InetSock s = view.sock();
        // sk_fullsock holds for every socket of the engine (no request or time-wait sockets)
        if (s.tcp == null) {
            return 0;
        }
        int origin = view.origin();
        return m.mapRunLocal(t -> t.ctx() instanceof BpfTcpSockCtx c && c.tcp() == s.tcp && c.origin() == origin,
                slot -> Region.ctx(slot, new BpfTcpSockCtx(s.tcp, origin)));
    }

    /**
     * long bpf_sock_ops_cb_flags_set(bpf_sock_ops, int argval): keeps the supported bits
     * (BPF_SOCK_OPS_ALL_CB_FLAGS) as the socket's callback flags and returns the others, as an int
     * widened with its sign (-1 gives 0xffffffffffffff80). -EINVAL for a socket that is not full,
     * which no callback of the engine has.
     */
    static long cbFlagsSet(Machine m, long ctx, long argval, long r3, long r4, long r5) {
        InetSock sk = m.env(HookEnv.class).sock();
        if (sk == null || sk.tcp == null) {
            return -Errnos.EINVAL;
        }
        int val = (int) argval;
        sk.tcp.cbFlags = val & TcpSock.ALL_CB_FLAGS;
        return val & ~TcpSock.ALL_CB_FLAGS;
    }
}
