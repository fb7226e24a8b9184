package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.cgroup.BpfProgArray;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupTree;
import dev.cgbpf.engine.interp.ProgContext;

/**
 * Runs a cgroup's effective array for one hook through {@link CgroupTree#runEffective}: every
 * program on the same context object (a rewrite by one is what the next sees), each with the run
 * context of its slot.
 */
public final class HookRunner {
    private final CgroupTree tree;
    private final ProgExecutor executor;

    public HookRunner(CgroupTree tree, ProgExecutor executor) {
        this.tree = tree;
        this.executor = executor;
    }

    public CgroupTree tree() {
        return tree;
    }

    /**
     * @param retFlags true where the hook takes flags from R0's upper bits (bind, egress skb)
     */
    BpfProgArray.RunResult run(Cgroup cgroup, AttachType type, ProgContext ctx, HookEnv env, boolean retFlags) {
        return tree.runEffective(cgroup, type, (prog, runCtx) -> {
            env.enter(runCtx);
            return executor.execute(prog, ctx, env);
        }, retFlags);
    }
}
