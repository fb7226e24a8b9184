package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.HelperTable;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.ProgContext;
import dev.cgbpf.engine.interp.ProgramFault;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Program;
import java.util.HexFormat;
import java.util.function.Supplier;

/**
 * Runs one program on the interpreter and on the compiler, each on a fresh machine of its own over
 * a fresh context, and compares what a caller can see: r0 or the fault (instruction and reason),
 * the packet and the stack frame afterwards.
 */
final class TwoTiers {
    private TwoTiers() {
    }

    /** What one run left behind. */
    record Outcome(String result, String packet, String stack) {
    }

    static Outcome run(Supplier<Machine> machine, java.util.function.Function<Machine, Long> body) {
        Machine m = machine.get();
        String result;
        try {
            result = "r0=0x" + Long.toHexString(body.apply(m));
        } catch (ProgramFault f) {
            result = "fault " + f.getMessage();
        }
        ProgContext ctx = m.ctx();
        String packet = ctx != null && ctx.packet() != null ? HexFormat.of().formatHex(ctx.packet().region().bytes()) : "";
        String stack = HexFormat.of().formatHex(m.frame(0).bytes());
        return new Outcome(result, packet, stack);
    }

    static Supplier<Machine> skb(byte[] packet, AddressSpace space, HelperTable helpers) {
        return () -> new Machine(space, helpers, new SkBuffContext(packet));
    }

    /** Compiles {@code p} (which must compile) and checks both tiers agree; returns the interpreter's outcome. */
    static Outcome agree(String name, Program p, PseudoResolver resolver, Supplier<Machine> machine, long budget) {
        Interpreter interp = Interpreter.decode(p, resolver);
        JitCompiler.Result r = JitCompiler.compile(p, interp);
        if (!(r instanceof JitCompiler.Compiled c)) {
            fail(name + ": not compiled: " + ((JitCompiler.NotCompiled) r).reason());
            return null;
        }
        Outcome expected = run(machine, m -> interp.run(m, budget));
        Outcome actual = run(machine, m -> c.code().run(m, budget, interp));
        assertEquals(expected, actual, name);
        return expected;
    }

    static Outcome agree(String name, Program p, byte[] packet) {
        return agree(name, p, PseudoResolver.NONE, skb(packet, new AddressSpace(), BaseHelpers.TABLE),
                Interpreter.DEFAULT_BUDGET);
    }

    static void check(boolean b, String what) {
        assertTrue(b, what);
    }
}
