package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.HelperIds;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.verifier.Verifier;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GPL-only helpers: a program whose license is not GPL-compatible may not call them ("cannot call
 * GPL-restricted function from non-GPL compatible program", EINVAL), checked before the
 * arguments. Every helper id is loaded as {@code call ID; r0 = 1; exit} with the license "MIT"
 * into the kernel and the engine verifier, for each kind of program the engine runs: both must
 * answer alike, and the kernel must refuse at least one helper that way (so the comparison means
 * something on this host).
 */
class HelperGplOnlyTest {
    static final String GPL_REASON = "cannot call GPL-restricted function from non-GPL compatible program";

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    private record Kind(ProgType type, AttachType attach) {
    }

    private static final List<Kind> KINDS = List.of(new Kind(ProgType.SOCKET_FILTER, null),
            new Kind(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS),
            new Kind(ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE),
            new Kind(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT),
            new Kind(ProgType.SOCK_OPS, null),
            new Kind(ProgType.CGROUP_DEVICE, null));

    private static String kernelReason(KernelBackend k, Kind kind, Program p) {
        try (LoadedProg lp = k.load(new LoadRequest("gpl", kind.type(), kind.attach(), p, "MIT", 1))) {
            return null;
        } catch (BpfException e) {
            return e.errno() + " " + e.logReason();
        }
    }

    private static String engineReason(Kind kind, Program p) {
        try {
            Verifier.verify(p, kind.type(), kind.attach(), fd -> null, fd -> false, 1, "MIT");
            return null;
        } catch (BpfException e) {
            return e.errno() + " " + e.logReason();
        }
    }

    @Test
    void nonGplProgramsAreRefusedTheGplOnlyHelpersAsByTheKernel() {
        Assembler asm = new Assembler();
        TreeSet<String> kernelGpl = new TreeSet<>();
        StringBuilder diffs = new StringBuilder();
        try (KernelBackend k = new KernelBackend()) {
            for (Kind kind : KINDS) {
                for (int id = 1; id < HelperIds.maxId(); id++) {
                    Program p = asm.assemble(List.of("call " + HelperIds.name(id).orElse("unknown") + "#" + id,
                            "r0 = 1", "exit"));
                    String kr = kernelReason(k, kind, p);
                    boolean kgpl = kr != null && kr.equals("EINVAL " + GPL_REASON);
                    boolean egpl = Objects.equals("EINVAL " + GPL_REASON, engineReason(kind, p));
                    if (kgpl) {
                        kernelGpl.add(id + "");
                    }
                    if (kgpl != egpl) {
                        diffs.append(kind).append(" helper ").append(id).append(": kernel ").append(kr)
                                .append(", engine GPL refusal ").append(egpl).append('\n');
                    }
                }
            }
        }
        System.out.println("GPL-only helpers refused to a non-GPL program by the kernel: " + kernelGpl);
        assertTrue(!kernelGpl.isEmpty(), "the kernel refused no helper for the license");
        assertEquals("", diffs.toString());
    }
}
