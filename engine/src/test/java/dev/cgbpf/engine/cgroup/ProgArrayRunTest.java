package dev.cgbpf.engine.cgroup;

import static dev.cgbpf.engine.backend.AttachType.CGROUP_DEVICE;
import static dev.cgbpf.engine.backend.AttachType.CGROUP_INET_EGRESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.ProgType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * How a hook runs an effective array: the loop of bpf_prog_run_array_cg in kernel/bpf/cgroup.c
 * (from the source; the hooks that would let the kernel show it come with the hook issues).
 */
class ProgArrayRunTest {
    final CgroupTree tree = new CgroupTree();
    final Set<AttachFlag> multi = Set.of(AttachFlag.ALLOW_MULTI);

    @Test
    void emptyArrayAllows() throws Exception {
        Cgroup c = tree.mkdir("c");
        BpfProgArray.RunResult r = tree.runEffective(c, CGROUP_DEVICE, (p, ctx) -> 0, false);
        assertEquals(0, r.retval());
    }

    @Test
    void everyProgramRunsInOrderAndOneZeroDenies() throws Exception {
        Cgroup p = tree.mkdir("p");
        Cgroup c = tree.mkdir("p/c");
        TestProg allow = TestProg.device("allow");
        TestProg deny = TestProg.device("deny");
        TestProg two = TestProg.device("two");
        tree.attach(p, allow, CGROUP_DEVICE, multi, null);
        tree.attach(c, deny, CGROUP_DEVICE, multi, null);
        tree.attach(c, two, CGROUP_DEVICE, multi, null);
        Map<String, Long> r0 = Map.of("allow", 1L, "deny", 0L, "two", 2L);
        List<String> ran = new ArrayList<>();
        List<Cgroup> owners = new ArrayList<>();
        BpfProgArray.RunResult r = tree.runEffective(c, CGROUP_DEVICE, (prog, ctx) -> {
            ran.add(prog.name());
            owners.add(ctx.item().owner());
            return r0.get(prog.name());
        }, false);
        assertEquals(List.of("deny", "two", "allow"), ran); // no short cut after the deny
        assertEquals(List.of(c, c, p), owners);
        assertEquals(-1, r.retval()); // -EPERM
        // without the split a nonzero R0 such as 2 allows
        BpfProgArray.RunResult r2 = tree.runEffective(p, CGROUP_DEVICE, (prog, ctx) -> 2, false);
        assertEquals(0, r2.retval());
    }

    @Test
    void egressSplitsVerdictAndCongestionBits() throws Exception {
        Cgroup c = tree.mkdir("c");
        TestProg s1 = TestProg.of("s1", ProgType.CGROUP_SKB, null);
        TestProg s2 = TestProg.of("s2", ProgType.CGROUP_SKB, null);
        tree.attach(c, s1, CGROUP_INET_EGRESS, multi, null);
        tree.attach(c, s2, CGROUP_INET_EGRESS, multi, null);
        BpfProgArray.RunResult keepCn = tree.runEffective(c, CGROUP_INET_EGRESS, (p, ctx) -> p == s1 ? 3 : 1, true);
        assertEquals(0, keepCn.retval());
        assertEquals(1, keepCn.retFlags());
        BpfProgArray.RunResult dropCn = tree.runEffective(c, CGROUP_INET_EGRESS, (p, ctx) -> p == s1 ? 2 : 1, true);
        assertEquals(-1, dropCn.retval());
        assertEquals(1, dropCn.retFlags());
    }

    @Test
    void anErrorSetByAProgramIsKept() throws Exception {
        Cgroup c = tree.mkdir("c");
        TestProg setter = TestProg.device("setter");
        TestProg deny = TestProg.device("deny");
        tree.attach(c, setter, CGROUP_DEVICE, multi, null);
        tree.attach(c, deny, CGROUP_DEVICE, multi, null);
        BpfProgArray.RunResult r = tree.runEffective(c, CGROUP_DEVICE, (p, ctx) -> {
            if (p == setter) {
                ctx.setRetval(-13); // bpf_set_retval(-EACCES)
                return 1;
            }
            return 0;
        }, false);
        assertEquals(-13, r.retval());
    }

    @Test
    void theArrayAHookHoldsDoesNotChangeUnderIt() throws Exception {
        Cgroup c = tree.mkdir("c");
        TestProg a = TestProg.device("a");
        tree.attach(c, a, CGROUP_DEVICE, multi, null);
        BpfProgArray held = tree.effective(c, CGROUP_DEVICE);
        tree.detach(c, CGROUP_DEVICE, a);
        assertEquals(1, held.length());
        assertSame(BpfProgArray.EMPTY, tree.effective(c, CGROUP_DEVICE));
    }
}
