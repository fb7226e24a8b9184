package dev.cgbpf.engine.interp;

/**
 * A kernel helper as a program calls it: arguments in r1-r5, result into r0. A helper faults
 * (throws {@link Fault}) only where the verifier would have refused the call; kernel-level
 * failures are negative errno results, as in the kernel.
 */
@FunctionalInterface
public interface Helper {
    long call(Machine m, long r1, long r2, long r3, long r4, long r5);
}
