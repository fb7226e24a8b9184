package dev.cgbpf.tools.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.verifier.Verifier;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The fuzz command and its program generator without a kernel: the verifier ends every program
 * with a verdict, never an unexpected exception. (Moved from engine/'s CorpusTest and
 * CallFramesVerifierTest with the fuzzer; the kernel run is {@link VerifierFuzzTest}.)
 */
class FuzzWithoutKernelTest {
    @Test
    void fuzzWithoutKernelFindsNoCrash() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Fuzz.Report r = Fuzz.run(3000, 11, null, new PrintStream(buf, true, StandardCharsets.UTF_8));
        assertEquals(0, r.crashes(), buf.toString(StandardCharsets.UTF_8));
        assertFalse(r.kernel());
        assertTrue(r.engineAccepted() > 0, "the generator should produce some acceptable programs");
    }

    @Test
    void fuzzProgramsHaveSubprogramsAndNeverCrashTheVerifier() {
        // the corpus's (and the fuzzer's) "hash" map
        MapSpec hash = new MapSpec("hash", MapType.HASH, 4, 8, 16, 0);
        FuzzProgramGenerator gen = new FuzzProgramGenerator(20260201L, new int[] {3});
        int withCalls = 0;
        int acceptedWithCalls = 0;
        for (int i = 0; i < 1000; i++) {
            Program p = gen.next();
            boolean calls = p.insns().stream().anyMatch(FuzzWithoutKernelTest::isPseudoCall);
            try {
                Verifier.verify(p, ProgType.SOCKET_FILTER, null, fd -> fd == 3 ? hash : null, 1);
                acceptedWithCalls += calls ? 1 : 0;
            } catch (BpfException e) {
                // a verdict; anything else escaping is a verifier crash and fails the test
            }
            withCalls += calls ? 1 : 0;
        }
        assertTrue(withCalls > 150, "programs with calls: " + withCalls);
        assertTrue(acceptedWithCalls > 10, "accepted programs with calls: " + acceptedWithCalls);
    }

    private static boolean isPseudoCall(Insn i) {
        return i.code() == (Opcodes.JMP | Opcodes.CALL) && i.src() == Opcodes.PSEUDO_CALL;
    }
}
