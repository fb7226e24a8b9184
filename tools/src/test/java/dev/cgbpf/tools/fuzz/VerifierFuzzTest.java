package dev.cgbpf.tools.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.kernel.KernelRequired;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A bounded run of the verifier fuzz command against the host kernel: no verifier crash and no
 * program the engine accepts but the kernel rejects. (The manual run uses --count 100000; see
 * docs/fidelity.md.)
 */
class VerifierFuzzTest {
    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void engineNeverAcceptsWhatTheKernelRejects() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Fuzz.Report r;
        try (KernelBackend k = new KernelBackend()) {
            r = Fuzz.run(1500, 1, k, new PrintStream(buf, true, StandardCharsets.UTF_8));
        }
        String findings = buf.toString(StandardCharsets.UTF_8);
        System.out.println("verifier fuzz: " + r.summary());
        assertTrue(r.kernel());
        assertEquals(0, r.crashes(), findings);
        assertEquals(0, r.unsound(), findings);
        assertTrue(r.engineAccepted() > 0, "no accepted program: the soundness check would be empty");
    }
}
