package dev.cgbpf.engine.conformance;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs every conformance case on the engine: the interpreter's full r0, and both halves through the backend. */
class EngineConformanceTest {

    @Test
    void tableIsLargeEnough() {
        assertTrue(ConformanceTable.all().size() >= 300, "only " + ConformanceTable.all().size() + " cases");
    }

    @TestFactory
    Stream<DynamicTest> interpreterFull64Bits() {
        Assembler asm = new Assembler();
        return ConformanceTable.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Program p = asm.assemble(c.program());
            Interpreter interp = Interpreter.decode(p, PseudoResolver.NONE);
            Machine m = new Machine(new AddressSpace(), BaseHelpers.TABLE, new SkBuffContext(c.packet()));
            long r0 = interp.run(m, Interpreter.DEFAULT_BUDGET);
            assertEquals(c.expected(), r0, () -> String.format("%s: expected 0x%x, engine 0x%x", c.name(),
                    c.expected(), r0));
        }));
    }

    /**
     * Both halves through the backend, verifier included. The bpf-to-bpf call cases cannot pass the
     * engine's verifier yet (docs/fidelity.md), so their halves run on the interpreter alone with
     * the backend's test_run context; {@link #bpfToBpfCallsAreTheVerifierGap} pins that refusal.
     */
    @TestFactory
    Stream<DynamicTest> backendBothHalves() {
        Assembler asm = new Assembler();
        EngineBackend engine = new EngineBackend();
        return ConformanceTable.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Program low = asm.assemble(c.program());
            Program high = asm.assemble(c.highHalfProgram());
            if (c.callsSubprograms()) {
                assertEquals(c.expectedLow(), InterpreterTestRun.run(low, c.packet()).retval(), "low half (interpreter)");
                assertEquals(c.expectedHigh(), InterpreterTestRun.run(high, c.packet()).retval(), "high half (interpreter)");
                return;
            }
            try (LoadedProg lo = engine.load(new LoadRequest("lo", ProgType.SOCKET_FILTER, null, low, "GPL", 0));
                 LoadedProg hi = engine.load(new LoadRequest("hi", ProgType.SOCKET_FILTER, null, high, "GPL", 0))) {
                assertEquals(c.expectedLow(), engine.testRun(lo, new TestRun.Request(c.packet(), 1)).retval(), "low half");
                assertEquals(c.expectedHigh(), engine.testRun(hi, new TestRun.Request(c.packet(), 1)).retval(), "high half");
            }
        }));
    }

    /**
     * The engine verifier refuses every call case with EINVAL and an "engine: ..." reason (the
     * kernel loads them). When it learns bpf-to-bpf calls this fails: route those cases back
     * through the backend in {@link #backendBothHalves} and in native KernelConformanceTest.
     */
    @Test
    void bpfToBpfCallsAreTheVerifierGap() {
        Assembler asm = new Assembler();
        List<ConformanceCase> calls = ConformanceTable.all().stream().filter(ConformanceCase::callsSubprograms).toList();
        assertEquals(6, calls.size(), "call cases");
        try (EngineBackend engine = new EngineBackend()) {
            for (ConformanceCase c : calls) {
                BpfException e = assertThrows(BpfException.class, () -> engine.load(new LoadRequest("call",
                        ProgType.SOCKET_FILTER, null, asm.assemble(c.program()), "GPL", 0)), c.name());
                assertEquals("EINVAL", e.errno(), c.name());
                assertTrue(String.valueOf(e.logReason()).startsWith("engine: bpf-to-bpf calls"), c.name() + ": " + e.logReason());
            }
        }
    }
}
