package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which of the helpers a denial event needs each cgroup program type may call on this kernel,
 * asked by loading one small program per (type, attach type, helper). The answers are in
 * docs/events.md; a kernel that answers otherwise fails here first.
 */
class EventHelpersKernelTest {
    private final KernelBackend kernel = new KernelBackend();

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @AfterEach
    void close() {
        kernel.close();
    }

    record Hook(ProgType type, AttachType expected) {
    }

    private static final List<Hook> HOOKS = List.of(
            new Hook(ProgType.CGROUP_DEVICE, null),
            new Hook(ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE),
            new Hook(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND),
            new Hook(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND),
            new Hook(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT),
            new Hook(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT),
            new Hook(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG),
            new Hook(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG),
            new Hook(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS),
            new Hook(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS));

    /** The call of each helper, its arguments set up (r1 = the ring buffer for bpf_ringbuf_output). */
    private static final Map<String, String[]> CALLS = Map.of(
            "bpf_get_current_pid_tgid", new String[] {"call bpf_get_current_pid_tgid#14"},
            "bpf_get_current_comm", new String[] {"r1 = r10", "r1 += -16", "r2 = 16", "call bpf_get_current_comm#16"},
            "bpf_get_current_cgroup_id", new String[] {"call bpf_get_current_cgroup_id#80"},
            "bpf_ringbuf_output", new String[] {"r2 = 0", "*(u64 *)(r10 -8) = r2", "r1 = map[rb]", "r2 = r10",
                    "r2 += -8", "r3 = 8", "r4 = 0", "call bpf_ringbuf_output#130"});

    private String answer(Hook h, String helper, BpfMap rb) {
        List<String> lines = new ArrayList<>(List.of(CALLS.get(helper)));
        lines.add("r0 = 1");
        lines.add("exit");
        try {
            Progs.load(kernel, "helper_probe", h.type(), h.expected(), Map.of("rb", rb), lines.toArray(String[]::new))
                    .close();
            return "yes";
        } catch (BpfException e) {
            return e.errno();
        }
    }

    @Test
    void everyHookTheProgramsUseMayCallEveryEventHelper() throws BpfException {
        BpfMap rb = kernel.createMap(new MapSpec("rbprobe", MapType.RINGBUF, 0, 0, 4096, 0));
        StringBuilder got = new StringBuilder();
        StringBuilder want = new StringBuilder();
        for (Hook h : HOOKS) {
            for (String helper : List.of("bpf_get_current_pid_tgid", "bpf_get_current_comm",
                    "bpf_get_current_cgroup_id", "bpf_ringbuf_output")) {
                String row = h.type().name() + " " + h.expected() + " " + helper + ": ";
                got.append(row).append(answer(h, helper, rb)).append('\n');
                want.append(row).append("yes").append('\n');
            }
        }
        assertEquals(want.toString(), got.toString());
    }
}
