package dev.cgbpf.engine.conformance;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Program;

/**
 * BPF_PROG_TEST_RUN of a map-free socket_filter program on the engine's {@link Interpreter} alone,
 * without the verifier: the same context, helpers and answer as {@link EngineBackend#testRun} for
 * that type (r0's low 32 bits, the frame that comes back). For interpreter-semantics tests only:
 * the conformance cases the engine verifier cannot take yet (bpf-to-bpf calls, a gap listed in
 * docs/fidelity.md) still have their instructions run and compared through this.
 */
public final class InterpreterTestRun {
    private InterpreterTestRun() {
    }

    /** What one run answered. */
    public record Result(long retval, byte[] dataOut) {
    }

    public static Result run(Program program, byte[] packet) {
        SkBuffContext ctx = new SkBuffContext(packet);
        Machine machine = new Machine(new AddressSpace(), BaseHelpers.TABLE, ctx);
        long r0 = Interpreter.decode(program, PseudoResolver.NONE).run(machine, Interpreter.DEFAULT_BUDGET);
        return new Result(r0 & 0xffffffffL, ctx.dataOut());
    }
}
