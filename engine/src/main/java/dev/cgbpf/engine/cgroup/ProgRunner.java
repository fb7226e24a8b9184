package dev.cgbpf.engine.cgroup;

/** Runs one program of an effective array on the hook's context; returns R0 (a u32). */
@FunctionalInterface
public interface ProgRunner {
    long run(CgroupProg prog, CgRunCtx ctx);
}
