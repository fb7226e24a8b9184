package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.verifier.CorpusCase;
import dev.cgbpf.engine.verifier.CorpusGenerator;
import dev.cgbpf.engine.verifier.Verifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The verifier differential corpus loaded into the host kernel and the engine verifier: the
 * accept/reject verdicts must agree on every program; on programs the kernel rejects, errno and
 * reason line must agree on at least 95% (each difference is listed in docs/fidelity.md).
 */
class VerifierDifferentialTest {
    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    private record Verdict(String errno, String reason) {
        boolean accepted() {
            return errno == null;
        }

        @Override
        public String toString() {
            return accepted() ? "accepted" : errno + " \"" + reason + "\"";
        }
    }

    @Test
    void handWrittenAndGeneratedCorpusAgreesWithTheKernel() {
        List<CorpusCase> hand = CorpusCase.handWritten();
        List<CorpusCase> cases = new ArrayList<>(hand);
        cases.addAll(CorpusGenerator.all());
        assertTrue(cases.size() >= 400, "corpus has only " + cases.size() + " programs");
        List<String> verdictDiffs = new ArrayList<>();
        List<String> reasonDiffs = new ArrayList<>();
        int rejected = 0;
        int handRejected = 0;
        int handReasonDiffs = 0;
        try (KernelBackend k = new KernelBackend()) {
            CorpusMaps maps = CorpusMaps.create(k);
            for (CorpusCase c : cases) {
                Program p = c.program(maps::fd);
                Verdict kv;
                try (LoadedProg lp = k.load(new LoadRequest("corpus", c.type(), c.attach(), p, "GPL", 1))) {
                    kv = new Verdict(null, null);
                } catch (BpfException e) {
                    kv = new Verdict(e.errno(), e.logReason());
                }
                Verdict ev;
                try {
                    Verifier.verify(p, c.type(), c.attach(), maps::spec, 1);
                    ev = new Verdict(null, null);
                } catch (BpfException e) {
                    ev = new Verdict(e.errno(), e.logReason());
                }
                if (kv.accepted() != ev.accepted()) {
                    verdictDiffs.add(c + ": kernel " + kv + ", engine " + ev);
                } else if (!kv.accepted()) {
                    rejected++;
                    boolean handWritten = !c.file().equals("generated");
                    handRejected += handWritten ? 1 : 0;
                    if (!kv.errno().equals(ev.errno()) || !Objects.equals(kv.reason(), ev.reason())) {
                        reasonDiffs.add(c + ": kernel " + kv + ", engine " + ev);
                        handReasonDiffs += handWritten ? 1 : 0;
                    }
                }
            }
        } catch (BpfException e) {
            fail("creating the corpus maps: " + e.getMessage());
        }
        double agree = rejected == 0 ? 1.0 : 1.0 - (double) reasonDiffs.size() / rejected;
        System.out.printf("verifier corpus: %d programs (%d hand-written), %d rejected by the kernel (%d hand-written), "
                        + "verdicts agree on %d, errno+reason agree on %d of %d rejections (%.2f%%; hand-written %d of %d)%n",
                cases.size(), hand.size(), rejected, handRejected, cases.size() - verdictDiffs.size(),
                rejected - reasonDiffs.size(), rejected, agree * 100, handRejected - handReasonDiffs, handRejected);
        reasonDiffs.forEach(d -> System.out.println("  reason differs: " + d));
        assertTrue(verdictDiffs.isEmpty(), "accept/reject differs on " + verdictDiffs.size() + " programs:\n"
                + String.join("\n", verdictDiffs));
        assertTrue(agree >= 0.95, String.format("errno+reason agree on only %.1f%%:%n%s", agree * 100,
                String.join("\n", reasonDiffs)));
    }
}
