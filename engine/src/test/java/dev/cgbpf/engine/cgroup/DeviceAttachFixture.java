package dev.cgbpf.engine.cgroup;

import static dev.cgbpf.engine.backend.AttachType.CGROUP_DEVICE;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What the kernel-rule tests of the cgroup model put their questions to: a fresh {@link
 * CgroupTree} per test, device programs A, B and C and a cgroup_skb program S (a program of
 * another type), and the attach, detach and query calls on cgroup_device answering as the kernel
 * printed its answers: the errno name, or "OK".
 */
abstract class DeviceAttachFixture {
    static final Set<AttachFlag> NONE = Set.of();
    static final Set<AttachFlag> OVERRIDE = Set.of(AttachFlag.ALLOW_OVERRIDE);
    static final Set<AttachFlag> MULTI = Set.of(AttachFlag.ALLOW_MULTI);
    static final Set<AttachFlag> REPLACE = Set.of(AttachFlag.REPLACE);
    static final Set<AttachFlag> MULTI_REPLACE = Set.of(AttachFlag.ALLOW_MULTI, AttachFlag.REPLACE);

    final CgroupTree tree = new CgroupTree();
    final TestProg a = TestProg.device("A");
    final TestProg b = TestProg.device("B");
    final TestProg c = TestProg.device("C");
    final TestProg skb = TestProg.of("S", ProgType.CGROUP_SKB, null);

    interface Op {
        void run() throws BpfException;
    }

    /** The errno name {@code op} fails with, or "OK". */
    static String errno(Op op) {
        try {
            op.run();
            return "OK";
        } catch (BpfException ex) {
            return ex.errno();
        }
    }

    String attach(Cgroup cg, CgroupProg p, Set<AttachFlag> f) {
        return attach(cg, p, f, null);
    }

    String attach(Cgroup cg, CgroupProg p, Set<AttachFlag> f, CgroupProg replace) {
        return errno(() -> tree.attach(cg, p, CGROUP_DEVICE, f, replace));
    }

    String detach(Cgroup cg, CgroupProg p) {
        return errno(() -> tree.detach(cg, CGROUP_DEVICE, p));
    }

    static List<String> names(List<CgroupProg> progs) {
        List<String> out = new ArrayList<>();
        for (CgroupProg p : progs) {
            out.add(p.name());
        }
        return out;
    }

    /** The names BPF_PROG_QUERY lists as attached to {@code cg} itself. */
    List<String> attached(Cgroup cg) throws BpfException {
        return names(tree.query(cg, CGROUP_DEVICE, false).progs());
    }

    /** The names BPF_PROG_QUERY with BPF_F_QUERY_EFFECTIVE lists: what runs for {@code cg}, in order. */
    List<String> effective(Cgroup cg) throws BpfException {
        return names(tree.query(cg, CGROUP_DEVICE, true).progs());
    }
}
