package dev.cgbpf.tools.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.kernel.KernelRequired;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * 10,000 generated programs on the kernel, the engine's interpreter and its compiler: every program
 * all three accept gives the same return value or error, packet and map contents on the two engine
 * tiers; the engine and the kernel differ only rarely, in the ways docs/fidelity.md lists (issue 18).
 */
class RunFuzzTest {
    @Test
    void kernelInterpreterAndCompilerAgree() {
        KernelRequired.check();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        RunFuzz.Report r;
        try (KernelBackend k = new KernelBackend()) {
            r = RunFuzz.run(10_000, 18, k, new PrintStream(buf, true, StandardCharsets.UTF_8));
        }
        System.out.println("run fuzz: " + r.summary());
        assertTrue(r.kernel());
        String findings = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, r.tierDisagreements(), findings);
        // the engine and the kernel differ where docs/fidelity.md says they do (a pointer returned in r0,
        // an uninitialised stack slot read, __sk_buff->sk): rare, and listed for a human to read
        assertTrue(r.kernelDisagreements() * 20 < r.ran(), r.kernelDisagreements() + " engine/kernel differences: " + findings);
        assertTrue(r.ran() > 500, "programs run on all three: " + r.ran());
        assertEquals(0, r.notCompiled(), "every program the engine loaded was compiled");
    }
}
