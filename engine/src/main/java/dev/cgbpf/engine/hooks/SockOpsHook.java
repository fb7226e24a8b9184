package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.cgroup.BpfProgArray;
import dev.cgbpf.engine.cgroup.Cgroup;

import java.net.InetAddress;

/**
 * The sock_ops hook (__cgroup_bpf_run_filter_sock_ops) at library level: TCP calls the cgroup's
 * programs with an op and args and reads the reply; tcp_call_bpf's answer is the reply when the
 * array's retval is 0, else -1.
 */
public final class SockOpsHook {
    /** @param retval the array's retval (0 or -errno); {@code reply} what the programs left in reply */
    public record Result(int retval, int reply) {
        /** tcp_call_bpf: the reply, or -1 when a program refused. */
        public int tcpCallBpf() {
            return retval == 0 ? reply : -1;
        }
    }

    /** BPF_SOCK_OPS_* ops that an active open calls. */
    static final int TIMEOUT_INIT = 1;
    static final int RWND_INIT = 2;
    static final int TCP_CONNECT_CB = 3;
    static final int ACTIVE_ESTABLISHED_CB = 4;
    static final int NEEDS_ECN = 6;
    /** Ops the engine never calls (it models no passive open and no listen), named for the helpers that check them. */
    static final int PASSIVE_ESTABLISHED_CB = 5;
    static final int TCP_LISTEN_CB = 11;
    /** The optional callbacks that bpf_sock_ops_cb_flags_set enables: tcp_set_state's and tcp_rtt_estimator's. */
    static final int STATE_CB = 10;
    static final int RTT_CB = 12;
    /** The header-option callbacks (bpf_skops_parse_hdr, bpf_skops_hdr_opt_len, bpf_skops_write_hdr_opt). */
    static final int PARSE_HDR_OPT_CB = 13;
    static final int HDR_OPT_LEN_CB = 14;
    static final int WRITE_HDR_OPT_CB = 15;

    private final HookRunner runner;

    public SockOpsHook(HookRunner runner) {
        this.runner = runner;
    }

    /** One callback for a TCP socket of the cgroup connected from {@code local} to {@code remote}. */
    public Result call(Cgroup cgroup, int op, int[] args, Probe.Family family, InetAddress local, int localPort,
                       InetAddress remote, int remotePort) {
        boolean v6 = family == Probe.Family.INET6;
        InetSock sk = new InetSock(v6, InetSock.SOCK_STREAM, InetSock.IPPROTO_TCP);
        sk.rcvSaddr = SockAddr.of(local, v6);
        sk.num = localPort;
        sk.peer = SockAddr.of(remote, v6);
        sk.dport = remotePort;
        sk.state = InetSock.TCP_ESTABLISHED;
        return run(cgroup, sk, new BpfSockOpsCtx(op, args, sk));
    }

    /** tcp_call_bpf (tcp_call_bpf_2arg, _3arg) on a socket of the engine's socket layer. */
    Result call(Cgroup cgroup, InetSock sk, int op, int[] args, byte[] segment) {
        return run(cgroup, sk, segment == null ? new BpfSockOpsCtx(op, args, sk) : new BpfSockOpsCtx(op, args, sk, segment));
    }

    /** A callback with a packet whose header options the programs may read or write. */
    Result call(Cgroup cgroup, InetSock sk, int op, int[] args, HdrOptSkb skb) {
        return run(cgroup, sk, new BpfSockOpsCtx(op, args, sk, skb));
    }

    private Result run(Cgroup cgroup, InetSock sk, BpfSockOpsCtx ctx) {
        AttachType at = AttachType.CGROUP_SOCK_OPS;
        BpfProgArray.RunResult r = runner.run(cgroup, at, ctx, new HookEnv(cgroup, at, sk, null), false);
        return new Result(r.retval(), ctx.reply());
    }
}
