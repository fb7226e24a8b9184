package dev.cgbpf.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.KernelBackend;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark's programs: sizes as promised, and the same result on the engine and the kernel. */
class BenchProgramsTest {
    static final InterpBench.Settings TINY = new InterpBench.Settings(1_000_000L, 1_000_000L, 1);

    @Test
    void sizesSpanTenToAThousandSlots() {
        List<BenchProgram> suite = BenchPrograms.suite();
        assertTrue(suite.size() >= 5);
        Map<String, Integer> sizes = new HashMap<>();
        suite.forEach(p -> sizes.put(p.name(), p.build().apply(3).size()));
        assertEquals(10, sizes.get("alu_10"));
        assertEquals(50, sizes.get("branch_50"));
        assertEquals(100, sizes.get("stack_100"));
        assertEquals(300, sizes.get("mixed_300"));
        assertEquals(1000, sizes.get("mixed_1000"));
        // the same seed gives the same program
        suite.forEach(p -> assertEquals(p.build().apply(3), p.build().apply(3), p.name()));
    }

    @Test
    void engineAndKernelComputeTheSameResults() throws BpfException {
        KernelRequired.check();
        InterpBench bench = new InterpBench(TINY);
        try (EngineBackend engine = new EngineBackend(); KernelBackend kernel = new KernelBackend()) {
            for (BenchProgram p : BenchPrograms.suite()) {
                // the kernel loading it at all is the first check: the verifier accepts every program
                long k = bench.measure(kernel, p).retval();
                assertEquals(k, bench.measure(engine, p).retval(), p.name());
            }
        }
    }

    @Test
    void theMapLoopSumsTheMap() throws BpfException {
        try (EngineBackend engine = new EngineBackend()) {
            BenchProgram loop = BenchPrograms.suite().stream().filter(BenchProgram::usesMap).findFirst().orElseThrow();
            // values are 3*i for i in 0..15
            assertEquals(3L * (15 * 16 / 2), new InterpBench(TINY).measure(engine, loop).retval());
        }
    }
}
