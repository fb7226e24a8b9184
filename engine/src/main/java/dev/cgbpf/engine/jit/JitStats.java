package dev.cgbpf.engine.jit;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the compiler did for the programs of one engine host: how many it compiled (with their
 * instructions, bytecode and time) and how many it left to the interpreter. Tests read it to know
 * that compiled code really ran; the benchmark reads the compile cost from it.
 */
public final class JitStats {
    private final AtomicLong compiled = new AtomicLong();
    private final AtomicLong notCompiled = new AtomicLong();
    private final AtomicLong insns = new AtomicLong();
    private final AtomicLong bytecodeBytes = new AtomicLong();
    private final AtomicLong compileNanos = new AtomicLong();

    /** One moment's figures. */
    public record Snapshot(long compiled, long notCompiled, long insns, long bytecodeBytes, long compileNanos) {
    }

    void record(int programInsns, JitCompiler.Result r) {
        if (r instanceof JitCompiler.Compiled c) {
            compiled.incrementAndGet();
            insns.addAndGet(programInsns);
            bytecodeBytes.addAndGet(c.bytecodeLength());
            compileNanos.addAndGet(c.compileNanos());
        } else {
            notCompiled.incrementAndGet();
        }
    }

    public Snapshot snapshot() {
        return new Snapshot(compiled.get(), notCompiled.get(), insns.get(), bytecodeBytes.get(), compileNanos.get());
    }
}
