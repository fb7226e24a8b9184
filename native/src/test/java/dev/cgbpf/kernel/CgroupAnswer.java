package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.cgroup.CgroupTree;
import dev.cgbpf.engine.cgroup.QueryResult;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The answer of one cgroup operation in a form the engine's model and the kernel can be compared
 * by in the differential tests: "OK" or the errno name, and for BPF_PROG_QUERY the flags, program
 * names, count and ENOSPC in one line.
 */
final class CgroupAnswer {
    private CgroupAnswer() {
    }

    interface Op {
        void run() throws BpfException;
    }

    /** "OK", or the errno name {@code op} failed with. */
    static String outcome(Op op) {
        try {
            op.run();
            return "OK";
        } catch (BpfException e) {
            return e.errno();
        }
    }

    /** The model's query answer; {@code max} < 0 asks without a buffer size. */
    static String engineQuery(CgroupTree tree, String path, AttachType type, boolean eff, int max) {
        try {
            QueryResult q = max < 0 ? tree.query(tree.lookup(path), type, eff) : tree.query(tree.lookup(path), type, eff, max);
            List<String> names = q.progs().stream().map(CgroupProg::name).toList();
            return describe(q.flags(), names, q.count(), q.noSpace() ? "ENOSPC" : null);
        } catch (BpfException e) {
            return e.errno();
        }
    }

    static String kernelQuery(KernelBackend k, String path, AttachType type, boolean eff, int max) {
        try {
            dev.cgbpf.engine.backend.QueryResult q = k.query(path, type, eff, max);
            return describe(q.flags(), q.progs(), q.count(), q.errno());
        } catch (BpfException e) {
            return e.errno();
        }
    }

    private static String describe(Set<AttachFlag> flags, List<String> names, int count, String errno) {
        return "flags=" + new TreeSet<>(flags) + " progs=" + names + " count=" + count + " " + errno;
    }
}
