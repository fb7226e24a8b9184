package dev.cgbpf.engine.verifier;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.MapSpec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The corpus itself (the kernel comparison is native/'s VerifierDifferentialTest): every program
 * assembles, names are unique, and the verifier ends every one with a verdict, never an
 * unexpected exception. (The fuzz command's own tests are in tools/.)
 */
class CorpusTest {
    @Test
    void everyCorpusProgramAssemblesAndGetsAVerdict() {
        Map<String, Integer> fds = new HashMap<>();
        Map<Integer, MapSpec> specs = new HashMap<>();
        int fd = 10;
        for (Map.Entry<String, MapSpec> e : CorpusCase.MAPS.entrySet()) {
            fds.put(e.getKey(), fd);
            specs.put(fd++, e.getValue());
        }
        List<CorpusCase> hand = CorpusCase.handWritten();
        List<CorpusCase> generated = CorpusGenerator.all();
        assertTrue(hand.size() >= 300, "hand-written corpus has " + hand.size());
        assertTrue(hand.size() + generated.size() >= 400);
        Set<String> names = new HashSet<>();
        int rejected = 0;
        for (CorpusCase c : hand) {
            assertTrue(names.add(c.toString()), "duplicate case " + c);
        }
        for (CorpusCase c : List.copyOf(concat(hand, generated))) {
            try {
                Verifier.verify(c.program(fds::get), c.type(), c.attach(), specs::get, 2);
            } catch (BpfException e) {
                rejected++;
                assertTrue(e.logReason() != null || e.verifierLog().isEmpty(), c + ": rejection without reason");
            } catch (RuntimeException e) {
                fail(c + ": " + e);
            }
        }
        // both verdicts are well represented
        assertTrue(rejected > 100 && rejected < hand.size() + generated.size() - 100, "rejected " + rejected);
    }

    private static List<CorpusCase> concat(List<CorpusCase> a, List<CorpusCase> b) {
        List<CorpusCase> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
