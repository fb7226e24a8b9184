package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.conformance.ConformanceCase;
import dev.cgbpf.engine.conformance.ConformanceTable;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of the engine's conformance table on the host kernel (socket_filter through
 * BPF_PROG_TEST_RUN) and on the engine backend: for both 32-bit halves of the 64-bit result,
 * kernel == expected == engine, and the packet that comes back is the same. One dynamic test per
 * case, named after it. The engine runs the bpf-to-bpf call cases on its interpreter alone, as its
 * verifier does not take calls yet.
 */
class KernelConformanceTest {
    private static KernelBackend kernel;
    private static EngineBackend engine;

    @BeforeAll
    static void backends() {
        KernelRequired.check();
        kernel = new KernelBackend();
        engine = new EngineBackend();
    }

    @AfterAll
    static void close() {
        if (kernel != null) {
            kernel.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    /** What one backend answered for one half. */
    private record Answer(long retval, byte[] dataOut) {
    }

    private static Answer run(Backend b, String caseName, String half, Program p, byte[] packet) {
        // log level 1 only matters when the kernel refuses the case: then the reason names the problem
        try (LoadedProg prog = b.load(new LoadRequest(half, ProgType.SOCKET_FILTER, null, p, "GPL", 1))) {
            TestRun.Result r = b.testRun(prog, new TestRun.Request(packet, 1));
            return new Answer(r.retval(), r.dataOut());
        } catch (BpfException e) {
            return fail(caseName + " (" + half + " half): " + b.name() + " refused it: " + e.getMessage()
                    + (e.logReason() == null ? "" : " — " + e.logReason()));
        }
    }

    @TestFactory
    Stream<DynamicTest> kernelEqualsExpectedEqualsEngine() {
        List<ConformanceCase> cases = ConformanceTable.all();
        assertTrue(cases.size() >= 300, "the table has only " + cases.size() + " cases");
        Assembler asm = new Assembler();
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Program low = asm.assemble(c.program());
            Program high = asm.assemble(c.highHalfProgram());
            check(c, "low", low, c.expectedLow());
            check(c, "high", high, c.expectedHigh());
        }));
    }

    private static void check(ConformanceCase c, String half, Program p, long expected) {
        Answer k = run(kernel, c.name(), half, p, c.packet());
        Answer e = run(engine, c.name(), half, p, c.packet());
        assertEquals(expected, k.retval(), () -> String.format("%s %s half: expected 0x%x, kernel 0x%x (engine 0x%x)",
                c.name(), half, expected, k.retval(), e.retval()));
        assertEquals(expected, e.retval(), () -> String.format("%s %s half: expected and kernel 0x%x, engine 0x%x",
                c.name(), half, expected, e.retval()));
        assertArrayEquals(k.dataOut(), e.dataOut(), c.name() + " " + half + " half: packet out, kernel vs engine");
    }
}
