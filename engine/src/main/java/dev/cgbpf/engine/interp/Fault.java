package dev.cgbpf.engine.interp;

/**
 * A run-time fault raised somewhere below the interpreter loop (a memory access, a context field,
 * a helper). It carries only the reason; the interpreter adds the instruction index and rethrows
 * it as a {@link ProgramFault}. No stack trace: faults of unverified programs are expected input,
 * and building a trace per fault would dominate their cost.
 */
public final class Fault extends RuntimeException {
    public Fault(String reason) {
        super(reason, null, false, false);
    }
}
