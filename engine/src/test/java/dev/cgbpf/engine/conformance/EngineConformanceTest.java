package dev.cgbpf.engine.conformance;

import dev.cgbpf.engine.EngineBackend;
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

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
     * Both halves through the backend, verifier included: every case, the bpf-to-bpf call cases too
     * (static subprograms are verified at each call site, as the kernel does), must load and give
     * the expected value from test_run.
     */
    @TestFactory
    Stream<DynamicTest> backendBothHalves() {
        Assembler asm = new Assembler();
        EngineBackend engine = new EngineBackend();
        return ConformanceTable.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Program low = asm.assemble(c.program());
            Program high = asm.assemble(c.highHalfProgram());
            try (LoadedProg lo = engine.load(new LoadRequest("lo", ProgType.SOCKET_FILTER, null, low, "GPL", 0));
                 LoadedProg hi = engine.load(new LoadRequest("hi", ProgType.SOCKET_FILTER, null, high, "GPL", 0))) {
                assertEquals(c.expectedLow(), engine.testRun(lo, new TestRun.Request(c.packet(), 1)).retval(), "low half");
                assertEquals(c.expectedHigh(), engine.testRun(hi, new TestRun.Request(c.packet(), 1)).retval(), "high half");
            }
        }));
    }

    @Test
    void theTableHasBpfToBpfCallCases() {
        assertEquals(6, ConformanceTable.all().stream().filter(ConformanceCase::callsSubprograms).count(),
                "call cases");
    }
}
