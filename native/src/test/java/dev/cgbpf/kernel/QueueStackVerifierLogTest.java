package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.verifier.Verifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole verifier logs, at levels 1 and 2, of programs calling bpf_map_push_elem,
 * bpf_map_pop_elem and bpf_map_peek_elem: the kernel's and the engine verifier's must read the
 * same after {@link VerifierLogLines#comparable} (what each instruction touched, the stack slots a
 * pop or peek leaves written, the failing instruction and its reason).
 */
class QueueStackVerifierLogTest {
    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    private static final Map<String, MapSpec> MAPS = Map.of(
            "q", new MapSpec("q", MapType.QUEUE, 0, 8, 4, 0),
            "s", new MapSpec("s", MapType.STACK, 0, 12, 4, 0),
            "a16", new MapSpec("a16", MapType.ARRAY, 4, 16, 1, 0),
            "ro", new MapSpec("ro", MapType.QUEUE, 0, 8, 4, 0x80));

    /** name, then the program's lines (socket_filter). */
    private static final List<List<String>> PROGRAMS = List.of(
            List.of("pop_then_read", "r1 = map[q]", "r2 = r10", "r2 += -8", "call bpf_map_pop_elem#88",
                    "r0 = *(u64 *)(r10 -8)", "exit"),
            List.of("peek_12_bytes", "r1 = map[s]", "r2 = r10", "r2 += -16", "call bpf_map_peek_elem#89",
                    "r0 = *(u32 *)(r10 -8)", "exit"),
            List.of("peek_unaligned", "r1 = map[s]", "r2 = r10", "r2 += -13", "call bpf_map_peek_elem#89", "r0 = 0",
                    "exit"),
            List.of("push_spilled", "r1 = 7", "*(u64 *)(r10 -8) = r1", "r1 = map[q]", "r2 = r10", "r2 += -8",
                    "r3 = 2", "call bpf_map_push_elem#87", "exit"),
            List.of("pop_over_spill", "*(u64 *)(r10 -16) = r10", "r1 = map[q]", "r2 = r10", "r2 += -16",
                    "call bpf_map_pop_elem#88", "r0 = *(u64 *)(r10 -16)", "exit"),
            List.of("pop_var_offset", "r2 = *(u32 *)(r1 +0)", "r2 &= 8", "r2 -= 24", "r2 += r10", "r1 = map[q]",
                    "call bpf_map_pop_elem#88", "r0 = *(u64 *)(r10 -16)", "exit"),
            List.of("pop_into_value", "r1 = 0", "*(u32 *)(r10 -4) = r1", "r1 = map[a16]", "r2 = r10", "r2 += -4",
                    "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto pc+5", "r1 = map[q]", "r2 = r0", "r2 += 8",
                    "call bpf_map_pop_elem#88", "exit", "r0 = 0", "exit"),
            List.of("pop_past_value", "r1 = 0", "*(u32 *)(r10 -4) = r1", "r1 = map[a16]", "r2 = r10", "r2 += -4",
                    "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto pc+5", "r1 = map[q]", "r2 = r0", "r2 += 9",
                    "call bpf_map_pop_elem#88", "exit", "r0 = 0", "exit"),
            List.of("pop_short_stack", "r1 = map[q]", "r2 = r10", "r2 += -4", "call bpf_map_pop_elem#88", "exit"),
            List.of("pop_rdonly_prog", "r1 = map[ro]", "r2 = r10", "r2 += -8", "call bpf_map_pop_elem#88", "exit"),
            List.of("peek_array", "r1 = map[a16]", "r2 = r10", "r2 += -16", "call bpf_map_peek_elem#89", "exit"),
            List.of("lookup_queue", "r1 = map[q]", "r2 = r10", "r2 += -8", "call bpf_map_lookup_elem#1", "r0 = 0",
                    "exit"),
            List.of("push_then_r2", "r1 = 0", "*(u64 *)(r10 -8) = r1", "r1 = map[q]", "r2 = r10", "r2 += -8",
                    "r3 = 0", "call bpf_map_push_elem#87", "r0 = r2", "exit"));

    @ParameterizedTest(name = "log level {0}")
    @ValueSource(ints = {1, 2})
    void logsReadTheSame(int level) throws BpfException {
        List<String> diffs = new ArrayList<>();
        int lines = 0;
        try (KernelBackend k = new KernelBackend()) {
            Map<String, Integer> fds = new HashMap<>();
            Map<Integer, MapSpec> specs = new HashMap<>();
            for (Map.Entry<String, MapSpec> e : MAPS.entrySet()) {
                BpfMap m = k.createMap(e.getValue());
                fds.put(e.getKey(), m.fd());
                specs.put(m.fd(), e.getValue());
            }
            Assembler asm = new Assembler(fds::get);
            for (List<String> prog : PROGRAMS) {
                Program p = asm.assemble(prog.subList(1, prog.size()));
                String kernelLog;
                try (LoadedProg lp = k.load(new LoadRequest("qs", ProgType.SOCKET_FILTER, null, p, "GPL", level))) {
                    kernelLog = lp.verifierLog();
                } catch (BpfException e) {
                    kernelLog = e.verifierLog();
                }
                String engineLog;
                try {
                    engineLog = Verifier.verify(p, ProgType.SOCKET_FILTER, null, specs::get, level).log();
                } catch (BpfException e) {
                    engineLog = e.verifierLog();
                }
                List<String> kl = VerifierLogLines.comparable(kernelLog);
                List<String> el = VerifierLogLines.comparable(engineLog);
                lines += kl.size();
                if (!kl.equals(el)) {
                    diffs.add(prog.get(0) + ":\n" + VerifierLogLines.firstDifference(kl, el));
                }
            }
        }
        System.out.printf("queue/stack verifier logs (level %d): %d programs, %d kernel log lines compared%n", level,
                PROGRAMS.size(), lines);
        assertEquals(List.of(), diffs, "log level " + level);
        // level 1 keeps the failing path's instructions (at least a reason line each), level 2 every state
        assertTrue(lines > PROGRAMS.size() * (level == 1 ? 1 : 6), lines + " lines");
    }
}
