package dev.cgbpf.engine.cgroup;

import static dev.cgbpf.engine.backend.AttachType.CGROUP_DEVICE;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import java.util.ArrayList;
import java.util.List;

/**
 * What the kernel-rule tests of the cgroup model put their questions to: a fresh {@link
 * CgroupTree} per test, device programs A, B and C and a cgroup_skb program S (a program of
 * another type), and the attach, detach and query calls on cgroup_device answering as the kernel
 * printed its answers: the errno name, or "OK".
 */
abstract class DeviceAttachFixture {
    static final AttachFlags NONE = AttachFlags.NONE;
    static final AttachFlags OVERRIDE = new AttachFlags(AttachFlags.ALLOW_OVERRIDE);
    static final AttachFlags MULTI = new AttachFlags(AttachFlags.ALLOW_MULTI);
    static final AttachFlags REPLACE = new AttachFlags(AttachFlags.REPLACE);
    static final AttachFlags MULTI_REPLACE = new AttachFlags(AttachFlags.ALLOW_MULTI | AttachFlags.REPLACE);

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

    String attach(Cgroup cg, CgroupProg p, AttachFlags f) {
        return attach(cg, p, f, null);
    }

    String attach(Cgroup cg, CgroupProg p, AttachFlags f, CgroupProg replace) {
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
