package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.verifier.CorpusCase;
import dev.cgbpf.engine.verifier.Verifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Verifier logs of the hand-written corpus at levels 1 and 2, kernel next to engine, line for line
 * (every instruction, register state, branch and pruning line and the processed count), after
 * {@link VerifierLogLines#comparable} has taken out what docs/fidelity.md lists as not reproduced.
 * At least 95% must read the same.
 */
class VerifierLogDifferentialTest {
    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    private static String kernelLog(KernelBackend k, CorpusCase c, Program p, int level) {
        try (LoadedProg lp = k.load(new LoadRequest("corpus", c.type(), c.attach(), p, "GPL", level))) {
            return lp.verifierLog();
        } catch (BpfException e) {
            return e.verifierLog();
        }
    }

    private static String engineLog(CorpusMaps maps, CorpusCase c, Program p, int level) {
        try {
            return Verifier.verify(p, c.type(), c.attach(), maps::spec, level).log();
        } catch (BpfException e) {
            return e.verifierLog();
        }
    }

    @ParameterizedTest(name = "log level {0}")
    @ValueSource(ints = {1, 2})
    void logsReadTheSame(int level) throws BpfException {
        List<CorpusCase> cases = CorpusCase.handWritten();
        List<String> diffs = new ArrayList<>();
        int same = 0;
        try (KernelBackend k = new KernelBackend()) {
            CorpusMaps maps = CorpusMaps.create(k);
            for (CorpusCase c : cases) {
                Program p = c.program(maps::fd);
                List<String> kl = VerifierLogLines.comparable(kernelLog(k, c, p, level));
                List<String> el = VerifierLogLines.comparable(engineLog(maps, c, p, level));
                if (kl.equals(el)) {
                    same++;
                } else {
                    diffs.add(c + ":\n" + VerifierLogLines.firstDifference(kl, el));
                }
            }
        }
        System.out.printf("verifier logs (level %d): %d hand-written programs, identical after normalisation: %d (%.1f%%)%n",
                level, cases.size(), same, 100.0 * same / cases.size());
        diffs.forEach(d -> System.out.println("  log differs: " + d));
        // measured on 6.18.44: 98% at both levels; the rest are the differences docs/fidelity.md lists
        assertTrue(same >= 0.95 * cases.size(), String.format("only %d of %d level-%d logs read the same:%n%s", same,
                cases.size(), level, String.join("\n", diffs)));
    }
}
