package dev.cgbpf.engine.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.kernel.CorpusMaps;
import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.kernel.KernelRequired;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Liveness} against the kernel's own table: at log level 2, 6.18 prints "Live regs before
 * insn:" with a row per instruction ({@code 3: .12....... (bf) r1 = r2}, R0 first). Every row of
 * every hand-written corpus program must match the engine's live registers.
 */
class LivenessDifferentialTest {
    private static final Pattern ROW = Pattern.compile("^ *(?:\\d+ +)?(\\d+): ([.0-9]{10}) \\(");

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    private static String kernelLog(KernelBackend k, CorpusCase c, Program p) {
        try (LoadedProg lp = k.load(new LoadRequest("live", c.type(), c.attach(), p, "GPL", 2))) {
            return lp.verifierLog();
        } catch (BpfException e) {
            return e.verifierLog();
        }
    }

    /** The engine's row: a digit where the register is live, a dot where it is not. */
    static String row(short live) {
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < 10; r++) {
            sb.append((live & (1 << r)) != 0 ? (char) ('0' + r) : '.');
        }
        return sb.toString();
    }

    @Test
    void liveRegistersMatchTheKernelsTable() throws BpfException {
        int rows = 0;
        int programs = 0;
        List<String> diffs = new ArrayList<>();
        try (KernelBackend k = new KernelBackend()) {
            CorpusMaps maps = CorpusMaps.create(k);
            for (CorpusCase c : CorpusCase.handWritten()) {
                Program p = c.program(maps::fd);
                String log = kernelLog(k, c, p);
                if (log == null || !log.contains("Live regs before insn:")) {
                    continue; // refused before the analysis (structure, reserved fields)
                }
                short[] live = Liveness.liveBefore(p, c.type(), ExpectedAttach.check(c.type(), c.attach()));
                programs++;
                for (String line : log.split("\n")) {
                    Matcher m = ROW.matcher(line);
                    if (!m.find()) {
                        continue;
                    }
                    int insn = Integer.parseInt(m.group(1));
                    rows++;
                    String engine = row(live[insn]);
                    if (!engine.equals(m.group(2))) {
                        diffs.add(c + " insn " + insn + ": kernel " + m.group(2) + ", engine " + engine);
                    }
                }
            }
        }
        System.out.printf("live registers: %d programs, %d rows, %d differ%n", programs, rows, diffs.size());
        diffs.stream().limit(40).forEach(d -> System.out.println("  " + d));
        assertTrue(rows > 1000, "the kernel printed only " + rows + " rows");
        assertEquals(List.of(), diffs);
    }
}
