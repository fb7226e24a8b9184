package dev.cgbpf.engine.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Model-based test: thousands of random mkdir/rmdir/attach/detach/query sequences over a tree of
 * depth up to 5, run on {@link CgroupTree} and on {@link Reference}, a deliberately naive model
 * written from the kernel facts of {@link KernelAttachRulesTest}: cgroups are path strings,
 * nothing is cached, every effective list is recomputed from scratch by walking the path's
 * prefixes. Every result must agree, and every few steps the whole state (attached lists, modes,
 * effective arrays of every cgroup and type) is compared.
 *
 * <p>Probes are part of the sequences: at every state comparison each cgroup is probed for a device
 * access through {@link CgroupTree#runEffective}, every program behaving as its name says
 * ({@link #deviceVerdict}); the reference decides from its own effective list, and the number of
 * programs run must be the whole array (no short cut after a refusal). Probe randomness comes from
 * a second stream, so the operation sequences are the same as without probes.
 *
 * <p>Each sequence has its own seed (SplittableRandom: consecutive seeds give unrelated streams,
 * unlike java.util.Random). Rerun one failing sequence with {@code -Dcgbpf.seed=N -Dcgbpf.sequences=1}.
 */
class CgroupTreeModelTest {
    static final AttachType[] TYPES = {
        AttachType.CGROUP_DEVICE, AttachType.CGROUP_INET_INGRESS, AttachType.CGROUP_INET_EGRESS,
        AttachType.CGROUP_INET_SOCK_CREATE, AttachType.CGROUP_INET4_POST_BIND,
    };

    /** The kernel's program type per attach type, spelled out again on purpose. */
    static final Map<AttachType, ProgType> PTYPE = new EnumMap<>(Map.of(
            AttachType.CGROUP_DEVICE, ProgType.CGROUP_DEVICE,
            AttachType.CGROUP_INET_INGRESS, ProgType.CGROUP_SKB,
            AttachType.CGROUP_INET_EGRESS, ProgType.CGROUP_SKB,
            AttachType.CGROUP_INET_SOCK_CREATE, ProgType.CGROUP_SOCK,
            AttachType.CGROUP_INET4_POST_BIND, ProgType.CGROUP_SOCK));

    /** A naive model: maps keyed by path strings, effective arrays recomputed on every look. */
    static final class Reference {
        final Map<String, Integer> generation = new HashMap<>();
        final Map<String, List<TestProg>> lists = new HashMap<>(); // key: path + "|" + type
        final Map<String, Integer> modes = new HashMap<>();
        int generations;

        Reference() {
            generation.put("", 0);
        }

        static String key(String path, AttachType t) {
            return path + "|" + t;
        }

        List<TestProg> list(String path, AttachType t) {
            return lists.computeIfAbsent(key(path, t), k -> new ArrayList<>());
        }

        int mode(String path, AttachType t) {
            return modes.getOrDefault(key(path, t), 0);
        }

        static String parentOf(String path) {
            int i = path.lastIndexOf('/');
            return i < 0 ? "" : path.substring(0, i);
        }

        /** The path itself, then each ancestor up to the root "". */
        static List<String> chain(String path) {
            List<String> out = new ArrayList<>();
            out.add(path);
            while (!path.isEmpty()) {
                path = parentOf(path);
                out.add(path);
            }
            return out;
        }

        boolean alive(String path, int gen) {
            Integer g = generation.get(path);
            return g != null && g == gen;
        }

        String mkdir(String path) {
            if (generation.containsKey(path)) {
                return "EEXIST";
            }
            if (!generation.containsKey(parentOf(path))) {
                return "ENOENT";
            }
            generation.put(path, ++generations);
            return "OK";
        }

        String rmdir(String path) {
            if (!generation.containsKey(path)) {
                return "ENOENT";
            }
            if (path.isEmpty()) {
                return "EBUSY";
            }
            for (String p : generation.keySet()) {
                if (p.startsWith(path + "/")) {
                    return "EBUSY";
                }
            }
            generation.remove(path);
            for (AttachType t : AttachType.values()) {
                lists.remove(key(path, t));
                modes.remove(key(path, t));
            }
            return "OK";
        }

        static boolean expectedAttachOk(TestProg p, AttachType t) {
            AttachType exp = p.expectedAttach();
            if (p.type() == ProgType.CGROUP_SOCK) {
                return (exp == null ? AttachType.CGROUP_INET_SOCK_CREATE : exp) == t;
            }
            if (p.type() == ProgType.CGROUP_SKB && p.enforcesExpectedAttach()) {
                return exp == t;
            }
            return true;
        }

        String attach(String path, int gen, TestProg prog, AttachType t, int flags, TestProg replace) {
            if (!PTYPE.containsKey(t) || PTYPE.get(t) != prog.type() || !expectedAttachOk(prog, t)) {
                return "EINVAL";
            }
            if (!alive(path, gen)) {
                return "ENOENT";
            }
            boolean multi = (flags & 2) != 0;
            boolean override = (flags & 1) != 0;
            boolean rep = (flags & 4) != 0;
            if (multi && rep && (replace == null || replace.type() != prog.type())) {
                return "EINVAL";
            }
            if ((override && multi) || (rep && !multi)) {
                return "EINVAL";
            }
            // the nearest ancestor holding programs decides; it must not be in plain mode
            for (String anc : chain(path).subList(1, chain(path).size())) {
                if (!list(anc, t).isEmpty()) {
                    if (mode(anc, t) == 0) {
                        return "EPERM";
                    }
                    break;
                }
            }
            List<TestProg> own = list(path, t);
            if (!own.isEmpty() && mode(path, t) != (flags & 3)) {
                return "EPERM";
            }
            if (own.size() >= 64) {
                return "E2BIG";
            }
            if (!multi) {
                own.clear();
                own.add(prog);
            } else {
                TestProg target = rep ? replace : null;
                if (own.contains(prog) && prog != target) {
                    return "EINVAL";
                }
                if (target != null) {
                    int at = own.indexOf(target);
                    if (at < 0) {
                        return "ENOENT";
                    }
                    own.set(at, prog);
                } else {
                    own.add(prog);
                }
            }
            modes.put(key(path, t), flags & 3);
            return "OK";
        }

        String detach(String path, int gen, AttachType t, TestProg prog) {
            if (!PTYPE.containsKey(t)) {
                return "EINVAL";
            }
            if (!alive(path, gen)) {
                return "ENOENT";
            }
            if (prog != null && prog.type() != PTYPE.get(t)) {
                prog = null;
            }
            List<TestProg> own = list(path, t);
            if (mode(path, t) != 2) {
                if (own.isEmpty()) {
                    return "ENOENT";
                }
                own.clear();
            } else {
                if (prog == null) {
                    return "EINVAL";
                }
                if (!own.remove(prog)) {
                    return "ENOENT";
                }
            }
            if (own.isEmpty()) {
                modes.remove(key(path, t));
            }
            return "OK";
        }

        List<TestProg> effective(String path, AttachType t) {
            List<TestProg> out = new ArrayList<>();
            for (String level : chain(path)) {
                if (out.isEmpty() || mode(level, t) == 2) {
                    out.addAll(list(level, t));
                }
            }
            return out;
        }

        String query(String path, int gen, AttachType t, boolean eff, int buf) {
            if (!PTYPE.containsKey(t)) {
                return "EINVAL";
            }
            if (!alive(path, gen)) {
                return "ENOENT";
            }
            List<TestProg> all = eff ? effective(path, t) : list(path, t);
            int flags = eff ? 0 : mode(path, t);
            if (buf == 0 || all.isEmpty()) {
                return describe("OK", flags, List.of(), all.size());
            }
            if (buf < all.size()) {
                return describe("ENOSPC", flags, all.subList(0, buf), all.size());
            }
            return describe("OK", flags, all, all.size());
        }
    }

    static String describe(String status, int flags, List<? extends CgroupProg> progs, int count) {
        List<String> names = new ArrayList<>();
        for (CgroupProg p : progs) {
            names.add(p.name());
        }
        return status + " flags=" + flags + " progs=" + names + " count=" + count;
    }

    interface EngineOp {
        String run() throws BpfException;
    }

    static String outcome(EngineOp op) {
        try {
            return op.run();
        } catch (BpfException e) {
            return e.errno();
        }
    }

    /** A cgroup handle kept across its rmdir, as an open fd would be. */
    record Handle(Cgroup engine, String path, int generation) {
    }

    @Test
    void randomSequencesAgreeWithTheReference() {
        long base = Long.getLong("cgbpf.seed", 0x5EEDC6B9L);
        int sequences = Integer.getInteger("cgbpf.sequences", 2000);
        Map<String, Integer> seen = new TreeMap<>();
        int ops = 0;
        for (int i = 0; i < sequences; i++) {
            ops += runSequence(base + i, seen);
        }
        System.out.println("CgroupTreeModelTest: " + sequences + " sequences, " + ops + " operations agreed; outcomes " + seen);
        if (sequences >= 1000) {
            // the generator must reach every rule, or agreeing proves little
            for (String outcome : List.of("attach OK", "attach EINVAL", "attach EPERM", "attach E2BIG", "attach ENOENT",
                    "detach OK", "detach EINVAL", "detach ENOENT", "query OK", "query ENOSPC", "query ENOENT",
                    "query EINVAL", "mkdir OK", "mkdir EEXIST", "mkdir ENOENT", "rmdir OK", "rmdir EBUSY", "rmdir ENOENT",
                    "probe allow", "probe deny")) {
                if (!seen.containsKey(outcome)) {
                    fail("no random step ended in " + outcome + "; outcomes seen: " + seen);
                }
            }
        }
    }

    private static final String[] LETTERS = {"a", "b"};

    /** Step kinds of heavy sequences: mkdir, rmdir, mostly attach, some detach and query. */
    private static final int[] HEAVY_KIND = {0, 0, 20, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 70, 90};

    int runSequence(long seed, Map<String, Integer> seen) {
        SplittableRandom rnd = new SplittableRandom(seed);
        boolean heavy = rnd.nextInt(8) == 0;
        int maxDepth = heavy ? 2 : 5;
        int steps = heavy ? 300 : 60;
        List<TestProg> pool = new ArrayList<>();
        for (int i = 0; i < (heavy ? 70 : 6); i++) {
            pool.add(TestProg.device("d" + i));
        }
        if (!heavy) {
            pool.add(TestProg.of("s0", ProgType.CGROUP_SKB, null));
            pool.add(new TestProg("s1", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, true));
            pool.add(TestProg.of("k0", ProgType.CGROUP_SOCK, null));
            pool.add(TestProg.of("k1", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND));
        }
        CgroupTree tree = new CgroupTree();
        Reference ref = new Reference();
        SplittableRandom probeRnd = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        List<Handle> stale = new ArrayList<>();
        Deque<String> log = new ArrayDeque<>();
        int nextInTurn = 0;
        for (int step = 0; step < steps; step++) {
            String desc;
            String got;
            String want;
            // heavy sequences pile programs onto few cgroups, to reach the 64-program limit
            int kind = heavy ? HEAVY_KIND[rnd.nextInt(HEAVY_KIND.length)] : rnd.nextInt(100);
            String path = heavy && rnd.nextBoolean() ? "" : pickPath(rnd, ref, maxDepth);
            AttachType type = heavy ? AttachType.CGROUP_DEVICE : pickType(rnd);
            if (kind < 20) {
                String p = rnd.nextInt(10) < 7 ? childOf(rnd, ref, maxDepth) : path;
                desc = "mkdir " + p;
                got = outcome(() -> {
                    tree.mkdir(p);
                    return "OK";
                });
                want = ref.mkdir(p);
            } else if (kind < 27) {
                desc = "rmdir " + path;
                Cgroup before = lookupOrNull(tree, path);
                int gen = ref.generation.getOrDefault(path, -1);
                got = outcome(() -> {
                    tree.rmdir(path);
                    return "OK";
                });
                want = ref.rmdir(path);
                if (want.equals("OK") && before != null) {
                    stale.add(new Handle(before, path, gen));
                }
            } else {
                Handle h;
                if (!stale.isEmpty() && rnd.nextInt(100) < 5) {
                    h = stale.get(rnd.nextInt(stale.size()));
                } else {
                    Cgroup cg = lookupOrNull(tree, path);
                    h = new Handle(cg, path, ref.generation.getOrDefault(path, -1));
                }
                Handle target = h;
                if (kind < 67) {
                    // heavy: half the time the next program in turn, so lists fill up without duplicates
                    TestProg prog = heavy && rnd.nextBoolean() ? pool.get(nextInTurn++ % pool.size())
                            : pool.get(rnd.nextInt(pool.size()));
                    int flags = pickFlags(rnd, heavy);
                    TestProg replace = rnd.nextInt(10) < 9 ? pool.get(rnd.nextInt(pool.size())) : null;
                    desc = "attach " + path + " " + prog + " " + type.scenarioName() + " "
                            + AttachFlag.describe(AttachFlag.exactly(flags)) + " replace=" + replace + (target.engine() != null && !target.engine().isOnline() ? " (stale)" : "");
                    got = target.engine() == null ? "ENOENT" : outcome(() -> {
                        tree.attach(target.engine(), prog, type, AttachFlag.exactly(flags), replace);
                        return "OK";
                    });
                    want = target.engine() == null ? "ENOENT"
                            : ref.attach(target.path(), target.generation(), prog, type, flags, replace);
                } else if (kind < 82) {
                    TestProg prog = rnd.nextInt(4) == 0 ? null : pool.get(rnd.nextInt(pool.size()));
                    desc = "detach " + path + " " + type.scenarioName() + " " + prog;
                    got = target.engine() == null ? "ENOENT" : outcome(() -> {
                        tree.detach(target.engine(), type, prog);
                        return "OK";
                    });
                    want = target.engine() == null ? "ENOENT" : ref.detach(target.path(), target.generation(), type, prog);
                } else {
                    boolean eff = rnd.nextBoolean();
                    int buf = rnd.nextInt(4) == 0 ? rnd.nextInt(4) : Integer.MAX_VALUE;
                    desc = "query " + path + " " + type.scenarioName() + " eff=" + eff + " buf=" + buf;
                    got = target.engine() == null ? "ENOENT" : outcome(() -> {
                        QueryResult q = tree.query(target.engine(), type, eff, buf);
                        return describe(q.noSpace() ? "ENOSPC" : "OK", AttachFlag.bits(q.flags()), q.progs(), q.count());
                    });
                    want = target.engine() == null ? "ENOENT" : ref.query(target.path(), target.generation(), type, eff, buf);
                }
            }
            log.addLast(step + ": " + desc + " -> " + want);
            seen.merge(desc.substring(0, desc.indexOf(' ')) + " " + want.split(" ")[0], 1, Integer::sum);
            if (log.size() > 25) {
                log.removeFirst();
            }
            if (!got.equals(want)) {
                fail("seed " + seed + " step " + step + ": " + desc + "\n engine:    " + got + "\n reference: " + want
                        + "\n last steps:\n  " + String.join("\n  ", log));
            }
            if (step % (heavy ? 7 : 3) == 0 || step == steps - 1) {
                compareState(seed, step, tree, ref, heavy, log);
                probeAll(seed, step, probeRnd, tree, ref, log, seen);
            }
        }
        return steps;
    }

    static void compareState(long seed, int step, CgroupTree tree, Reference ref, boolean heavy, Deque<String> log) {
        assertEquals(ref.generation.size(), tree.size(), () -> "seed " + seed + " step " + step + ": cgroup count");
        for (String path : new TreeMap<>(ref.generation).keySet()) {
            Cgroup cg = lookupOrNull(tree, path);
            if (cg == null) {
                fail("seed " + seed + " step " + step + ": engine lost cgroup '" + path + "'");
            }
            for (AttachType t : heavy ? new AttachType[] {AttachType.CGROUP_DEVICE} : TYPES) {
                String want = describe("", ref.mode(path, t), ref.list(path, t), ref.list(path, t).size())
                        + " eff=" + describe("", 0, ref.effective(path, t), 0);
                String got = describe("", AttachFlag.bits(tree.mode(cg, t)), tree.attached(cg, t), tree.attached(cg, t).size())
                        + " eff=" + describe("", 0, tree.effective(cg, t).progs(), 0);
                if (!got.equals(want)) {
                    fail("seed " + seed + " step " + step + ": state of '" + path + "' " + t.scenarioName()
                            + "\n engine:    " + got + "\n reference: " + want
                            + "\n last steps:\n  " + String.join("\n  ", log));
                }
            }
        }
    }

    /** The known behaviour of the test's device programs: dN refuses major N % 4, everything else it allows. */
    static boolean deviceVerdict(CgroupProg prog, int major) {
        int n = Integer.parseInt(prog.name().substring(1));
        return major != n % 4;
    }

    /** Probes every cgroup for a random major through the tree and checks it against the reference. */
    static void probeAll(long seed, int step, SplittableRandom rnd, CgroupTree tree, Reference ref, Deque<String> log,
                         Map<String, Integer> seen) {
        for (String path : new TreeMap<>(ref.generation).keySet()) {
            int major = rnd.nextInt(6);
            Cgroup cg = lookupOrNull(tree, path);
            int[] runs = {0};
            BpfProgArray.RunResult r = tree.runEffective(cg, AttachType.CGROUP_DEVICE, (prog, ctx) -> {
                runs[0]++;
                return deviceVerdict(prog, major) ? 1 : 0;
            }, false);
            List<TestProg> eff = ref.effective(path, AttachType.CGROUP_DEVICE);
            boolean want = eff.stream().allMatch(p -> deviceVerdict(p, major));
            String got = (r.allowed() ? "allow" : "deny " + r.retval()) + " runs=" + runs[0];
            String expected = (want ? "allow" : "deny -1") + " runs=" + eff.size();
            if (!got.equals(expected)) {
                fail("seed " + seed + " step " + step + ": device probe of '" + path + "' major " + major
                        + "\n engine:    " + got + "\n reference: " + expected + " (effective " + eff + ")"
                        + "\n last steps:\n  " + String.join("\n  ", log));
            }
            seen.merge("probe " + (want ? "allow" : "deny"), 1, Integer::sum);
        }
    }

    static Cgroup lookupOrNull(CgroupTree tree, String path) {
        try {
            return tree.lookup(path);
        } catch (BpfException e) {
            return null;
        }
    }

    /** Mostly an existing cgroup, sometimes any path of the universe (which may not exist). */
    static String pickPath(SplittableRandom rnd, Reference ref, int maxDepth) {
        if (rnd.nextInt(10) < 8) {
            List<String> existing = new ArrayList<>(new TreeMap<>(ref.generation).keySet());
            return existing.get(rnd.nextInt(existing.size()));
        }
        return randomPath(rnd, 1 + rnd.nextInt(maxDepth));
    }

    /** A new child of an existing cgroup, within the depth limit. */
    static String childOf(SplittableRandom rnd, Reference ref, int maxDepth) {
        List<String> existing = new ArrayList<>();
        for (String p : new TreeMap<>(ref.generation).keySet()) {
            if (Reference.chain(p).size() - 1 < maxDepth) {
                existing.add(p);
            }
        }
        String parent = existing.get(rnd.nextInt(existing.size()));
        String name = LETTERS[rnd.nextInt(LETTERS.length)];
        return parent.isEmpty() ? name : parent + "/" + name;
    }

    static String randomPath(SplittableRandom rnd, int depth) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            if (i > 0) {
                sb.append('/');
            }
            sb.append(LETTERS[rnd.nextInt(LETTERS.length)]);
        }
        return sb.toString();
    }

    static AttachType pickType(SplittableRandom rnd) {
        int r = rnd.nextInt(100);
        if (r < 2) {
            return AttachType.LIRC_MODE2;
        }
        if (r < 60) {
            return AttachType.CGROUP_DEVICE;
        }
        return TYPES[1 + rnd.nextInt(TYPES.length - 1)];
    }

    static int pickFlags(SplittableRandom rnd, boolean heavy) {
        int r = rnd.nextInt(100);
        if (heavy) {
            return r < 88 ? 2 : r < 96 ? 6 : rnd.nextInt(8);
        }
        if (r < 35) {
            return 2;
        }
        if (r < 55) {
            return 0;
        }
        if (r < 70) {
            return 1;
        }
        if (r < 85) {
            return 6;
        }
        return rnd.nextInt(8);
    }
}
