package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.cgroup.CgRunCtx;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.interp.Region;
import dev.cgbpf.engine.maps.CgroupStorageMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the helpers of a cgroup hook reach besides the context: the kernel finds these through
 * {@code current} (the task's cgroup), the run context of bpf_prog_run_array_cg (the slot being
 * run, its retval) and the context's socket.
 */
public final class HookEnv {
    private final Cgroup taskCgroup;
    private final AttachType attachType;
    private final InetSock sock;
    private final SocketLayer net;
    private CgRunCtx runCtx;
    /** A test run's own cgroup storages, made at the first bpf_get_local_storage of each map. */
    private final Map<CgroupStorageMap, Region> testRunStorages = new LinkedHashMap<>();

    HookEnv(Cgroup taskCgroup, AttachType attachType, InetSock sock, SocketLayer net) {
        this.taskCgroup = taskCgroup;
        this.attachType = attachType;
        this.sock = sock;
        this.net = net;
    }

    /** The cgroup of the task that triggered the hook (bpf_get_current_cgroup_id). */
    public Cgroup taskCgroup() {
        return taskCgroup;
    }

    /** The hook being run, which with the slot's cgroup keys the cgroup storage. */
    public AttachType attachType() {
        return attachType;
    }

    /** The run context of the program being run now. */
    public CgRunCtx runCtx() {
        return runCtx;
    }

    void enter(CgRunCtx ctx) {
        this.runCtx = ctx;
    }

    /** The storage a test run's program gets for {@code map}: zeroed at first use, kept for every repeat. */
    long testRunStorage(CgroupStorageMap map) {
        return testRunStorages.computeIfAbsent(map, CgroupStorageMap::allocateForTestRun).elementAddress(0);
    }

    /** The test run is over: its storages go. */
    void releaseTestRunStorages() {
        testRunStorages.forEach(CgroupStorageMap::releaseTestRunStorage);
        testRunStorages.clear();
    }

    InetSock sock() {
        return sock;
    }

    SocketLayer net() {
        return net;
    }
}
