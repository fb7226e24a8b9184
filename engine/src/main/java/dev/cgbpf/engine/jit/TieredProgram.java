package dev.cgbpf.engine.jit;

import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.isa.Program;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one loaded program runs: on the interpreter first (the reference, and the cold path), on
 * its compiled class once the {@link JitMode} says so. Compiling happens once, on the thread
 * whose run reaches the threshold (or at load in {@link JitMode#ON}); a program the compiler does
 * not cover stays on the interpreter, with the reason in the debug log (logger
 * {@code dev.cgbpf.engine.jit}).
 */
public final class TieredProgram {
    /**
     * Runs on the interpreter before {@link JitMode#AUTO} compiles. Measured (docs/perf.md,
     * `cgbpf-tools bench interp`): compiling a benchmark program takes 0.4 to 14 ms (on a loaded
     * VM) and pays off after a few hundred to a few thousand runs (under 20,000 for the
     * 10-instruction one, whose run the compiler shortens least), so a program run a few times (a policy check, a dry run)
     * never pays for compiling, and one on a busy hook is compiled within its first milliseconds.
     */
    public static final int AUTO_THRESHOLD = 2000;

    private static final Logger LOG = LoggerFactory.getLogger("dev.cgbpf.engine.jit");

    private final String name;
    private final Program program;
    private final Interpreter interp;
    private final JitMode mode;
    private final JitStats stats;
    private final AtomicBoolean tried = new AtomicBoolean();
    private volatile JitCode compiled;
    private volatile JitCompiler.Result result;
    /** Runs so far, counted without synchronisation: the threshold only needs to be reached roughly. */
    private int runs;

    /** @param stats where the compile's outcome is counted (the host's) */
    public TieredProgram(String name, Program program, Interpreter interp, JitMode mode, JitStats stats) {
        this.name = name;
        this.program = program;
        this.interp = interp;
        this.mode = mode;
        this.stats = stats;
        if (mode == JitMode.ON) {
            compile();
        }
    }

    /** Runs the program as {@link Interpreter#run} does, on whichever tier it is on. */
    public long run(Machine m, long budget) {
        JitCode c = compiled;
        if (c != null) {
            return c.run(m, budget, interp);
        }
        if (mode == JitMode.AUTO && ++runs >= AUTO_THRESHOLD && !tried.get()) {
            compile();
            c = compiled;
            if (c != null) {
                return c.run(m, budget, interp);
            }
        }
        return interp.run(m, budget);
    }

    /**
     * Runs the program as the target of a tail call ({@link Interpreter#runTail}): compiled code
     * never holds a tail call of its own, so it runs as from {@link #run}.
     */
    public long runTail(Machine m, long budget) {
        JitCode c = compiled;
        return c != null ? c.run(m, budget, interp) : interp.runTail(m, budget);
    }

    /** Compiles now, whatever the mode says (once: later calls return the first result). */
    public JitCompiler.Result compile() {
        if (!tried.compareAndSet(false, true)) {
            return result;
        }
        JitCompiler.Result r;
        try {
            r = JitCompiler.compile(program, interp);
        } catch (RuntimeException e) {
            // a compiler bug must not stop the program: the interpreter runs it
            r = new JitCompiler.NotCompiled("compiler error: " + e);
        }
        result = r;
        stats.record(program.size(), r);
        if (r instanceof JitCompiler.Compiled c) {
            compiled = c.code();
            LOG.debug("jit: program {} compiled: {} instructions, {} bytes of bytecode, {} µs", name, program.size(),
                    c.bytecodeLength(), c.compileNanos() / 1000);
        } else if (r instanceof JitCompiler.NotCompiled nc) {
            LOG.debug("jit: program {} stays on the interpreter: {}", name, nc.reason());
        }
        return r;
    }

    /** Whether runs go to compiled code now. */
    public boolean isCompiled() {
        return compiled != null;
    }

    /** The compile result, or null before any attempt. */
    public JitCompiler.Result result() {
        return result;
    }

    public JitMode mode() {
        return mode;
    }

    public Interpreter interpreter() {
        return interp;
    }

    /**
     * The program is freed (its last reference went): let go of the compiled class, so that it
     * is unloaded even while something still holds this object.
     */
    public void free() {
        tried.set(true);
        compiled = null;
        result = null;
    }
}
