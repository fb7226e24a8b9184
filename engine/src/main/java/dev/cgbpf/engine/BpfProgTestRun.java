package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.hooks.CgroupSkbTestRun;
import dev.cgbpf.engine.hooks.HookFault;
import dev.cgbpf.engine.hooks.ProgExecutor;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.ProgramFault;
import dev.cgbpf.engine.interp.SkBuffContext;

/**
 * BPF_PROG_TEST_RUN of an engine backend (the kernel's bpf_prog_test_run_skb in
 * net/bpf/test_run.c): socket_filter programs on an skb context, cgroup_skb programs as
 * {@link CgroupSkbTestRun} runs them, the packet checks and ENOTSUPP for the other cgroup types as
 * the running kernel answers them.
 */
final class BpfProgTestRun {
    /** Largest test_run packet: PAGE_SIZE - headroom (NET_SKB_PAD) - skb_shared_info tail, as the kernel measures. */
    static final int MAX_SKB_DATA = 3712;
    static final int IPV4_HLEN = 20;
    static final int IPV6_HLEN = 40;

    private final EngineHost host;
    private final FdTable fds;
    private final ProgExecutor executor;
    private final long insnBudget;

    BpfProgTestRun(EngineHost host, FdTable fds, ProgExecutor executor, long insnBudget) {
        this.host = host;
        this.fds = fds;
        this.executor = executor;
        this.insnBudget = insnBudget;
    }

    /** kernel: bpf_prog_test_run, bpf_prog_test_run_skb */
    TestRun.Result testRun(LoadedProg loaded, TestRun.Request request) throws BpfException {
        EngineProg prog = fds.prog(loaded);
        if (prog.type != ProgType.SOCKET_FILTER && prog.type != ProgType.CGROUP_SKB) {
            // the kernel has no test_run for the other cgroup types (ENOTSUPP)
            throw new BpfException(Errno.ENOTSUPP, "test_run of " + prog.type.scenarioName() + " programs is not supported");
        }
        byte[] data = request.dataIn() == null ? new byte[0] : request.dataIn();
        checkSkbData(data);
        if (prog.type == ProgType.CGROUP_SKB) {
            return testRunCgroupSkb(prog, data, Math.max(1, request.repeat()));
        }
        SkBuffContext ctx = new SkBuffContext(data);
        Machine machine = new Machine(host.space, BaseHelpers.TABLE, ctx);
        int repeat = Math.max(1, request.repeat());
        long r0 = 0;
        long start = System.nanoTime();
        try {
            for (int i = 0; i < repeat; i++) {
                r0 = prog.code.run(machine, insnBudget);
            }
        } catch (ProgramFault f) {
            throw new BpfException(Errno.EFAULT, "program '" + prog.name + "' faulted: " + f.getMessage());
        }
        long duration = (System.nanoTime() - start) / repeat;
        return new TestRun.Result(r0 & 0xffffffffL, ctx.dataOut(), duration);
    }

    /** bpf_prog_test_run_skb for a cgroup_skb program ({@link CgroupSkbTestRun}). */
    private TestRun.Result testRunCgroupSkb(EngineProg prog, byte[] frame, int repeat) throws BpfException {
        long start = System.nanoTime();
        try {
            CgroupSkbTestRun.Result r = new CgroupSkbTestRun(executor, host.tree.root()).run(prog, frame, repeat);
            return new TestRun.Result(r.retval(), r.dataOut(), (System.nanoTime() - start) / repeat);
        } catch (HookFault f) {
            throw new BpfException(Errno.EFAULT, f.getMessage());
        }
    }

    /** The packet checks of bpf_prog_test_run_skb, as the running kernel answers them. */
    private static void checkSkbData(byte[] data) throws BpfException {
        if (data.length < SkBuffContext.ETH_HLEN || data.length > MAX_SKB_DATA) {
            throw new BpfException(Errno.EINVAL, "test_run data of " + data.length + " bytes: need "
                    + SkBuffContext.ETH_HLEN + ".." + MAX_SKB_DATA);
        }
        int etherType = ((data[12] & 0xff) << 8) | (data[13] & 0xff);
        int payload = data.length - SkBuffContext.ETH_HLEN;
        if ((etherType == 0x0800 && payload < IPV4_HLEN) || (etherType == 0x86dd && payload < IPV6_HLEN)) {
            throw new BpfException(Errno.EINVAL, "test_run data: EtherType 0x" + Integer.toHexString(etherType)
                    + " with a " + payload + "-byte network header is too short");
        }
    }
}
