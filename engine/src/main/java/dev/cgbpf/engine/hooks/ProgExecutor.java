package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.interp.ProgContext;

/**
 * Runs one loaded program on a hook's context: the backend that loaded it knows its decoded form,
 * its helper table and the address space. Returns R0 as a u32. A program that does what a
 * verifier would have refused stops with a {@link HookFault}.
 */
@FunctionalInterface
public interface ProgExecutor {
    long execute(CgroupProg prog, ProgContext ctx, Object env);
}
