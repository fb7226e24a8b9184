package dev.cgbpf.tools.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.hook.script.ScenarioRunner;
import dev.cgbpf.kernel.KernelRequired;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A bounded run of the socket fuzz: random socket operations against random sock_addr and
 * sock_create programs, on the engine and the kernel, line for line. (The manual run uses
 * --count 10000; see docs/fidelity.md.)
 */
class SocketFuzzTest {

    @Test
    void engineAndKernelPrintTheSameLines() throws Exception {
        KernelRequired.check();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        SocketFuzz.Report r = SocketFuzz.run(400, 7, true, null, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String findings = buf.toString(StandardCharsets.UTF_8);
        System.out.println("socket fuzz: " + r.summary());
        assertTrue(r.kernel());
        assertEquals(0, r.engineErrors(), findings);
        assertEquals(0, r.differing(), findings);
    }

    @Test
    void theEngineAloneLetsNoExceptionOut() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        SocketFuzz.Report r = SocketFuzz.run(2000, 3, false, null, new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertEquals(0, r.engineErrors(), buf.toString(StandardCharsets.UTF_8));
        assertEquals(2000, r.ops());
    }

    /** The generator's programs load on the engine (a fuzz of refused programs would test nothing). */
    @Test
    void generatedProgramsLoad() throws Exception {
        SocketScenarioGenerator gen = new SocketScenarioGenerator(new SplittableRandom(5));
        int loads = 0;
        for (int i = 0; i < 20; i++) {
            List<String> s = gen.scenario(i, 5, 5);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (EngineBackend e = new EngineBackend()) {
                new ScenarioRunner(e).run(s, new PrintStream(out, true, StandardCharsets.UTF_8));
            }
            List<String> results = List.of(out.toString(StandardCharsets.UTF_8).split("\n"));
            for (int l = 0; l < s.size(); l++) {
                if (s.get(l).startsWith("{\"op\":\"load\"")) {
                    loads++;
                    assertEquals("{\"op\":\"load\",\"ok\":true}", results.get(l), s.get(l));
                }
            }
        }
        assertTrue(loads >= 20, loads + " programs");
    }
}
