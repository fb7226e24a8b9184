package dev.cgbpf.engine.jit;

import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;

/**
 * One program compiled to JVM bytecode: what the class the {@link JitCompiler} writes implements.
 * Runs as {@link Interpreter#run} does, with the same results, memory effects and faults.
 */
public interface JitCode {
    /**
     * @param interp the program's interpreter, which the compiled code hands the run to when an
     *               instruction budget is about to run out inside a block (the interpreter then
     *               stops at the exact instruction)
     */
    long run(Machine m, long budget, Interpreter interp);
}
