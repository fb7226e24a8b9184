package dev.cgbpf.tools.bench;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.cgroup.CgroupTree;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Times how attach/detach at the root propagates through a large hierarchy: every attach or
 * detach recomputes the effective array of the cgroup and all its descendants
 * (update_effective_progs), so at the root it costs one computation per cgroup.
 *
 * <p>Usage: {@code PropagationBench [cgroups=10000] [fanout=10] [rounds=30]}. Prints figures for
 * docs/perf.md; a plain main, no harness, so read the medians, not single runs.
 */
public final class PropagationBench {
    private static final AttachType TYPE = AttachType.CGROUP_DEVICE;

    private record Prog(String name) implements CgroupProg {
        @Override
        public ProgType type() {
            return ProgType.CGROUP_DEVICE;
        }

        @Override
        public AttachType expectedAttach() {
            return null;
        }
    }

    /** The figures of one run. */
    public record Figures(int cgroups, int depth, double mkdirMicrosEach, double attachRootMs,
                          double detachRootMs, double attachRootMultiMs, double attachLeafMicros) {
    }

    private PropagationBench() {
    }

    public static void main(String[] args) throws BpfException {
        int cgroups = args.length > 0 ? parse(args[0], "cgroups") : 10_000;
        int fanout = args.length > 1 ? parse(args[1], "fanout") : 10;
        int rounds = args.length > 2 ? parse(args[2], "rounds") : 30;
        if (cgroups < 2 || fanout < 1 || rounds < 1) {
            System.err.println("usage: PropagationBench [cgroups>=2] [fanout>=1] [rounds>=1]");
            System.exit(2);
        }
        Figures f = run(cgroups, fanout, rounds);
        System.out.printf(Locale.ROOT, "cgroup tree: %d cgroups (root included), fanout %d, depth %d%n",
                f.cgroups(), fanout, f.depth());
        System.out.printf(Locale.ROOT, "mkdir: %.2f us per cgroup%n", f.mkdirMicrosEach());
        System.out.printf(Locale.ROOT, "attach at root, none mode, 1 program: median %.2f ms (%.0f ns per cgroup)%n",
                f.attachRootMs(), f.attachRootMs() * 1e6 / f.cgroups());
        System.out.printf(Locale.ROOT, "detach at root: median %.2f ms (%.0f ns per cgroup)%n",
                f.detachRootMs(), f.detachRootMs() * 1e6 / f.cgroups());
        System.out.printf(Locale.ROOT, "attach at root, multi mode, 9th program: median %.2f ms (%.0f ns per cgroup)%n",
                f.attachRootMultiMs(), f.attachRootMultiMs() * 1e6 / f.cgroups());
        System.out.printf(Locale.ROOT, "attach at a leaf (no descendants): median %.2f us%n", f.attachLeafMicros());
    }

    private static int parse(String s, String what) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            System.err.println("PropagationBench: " + what + " must be a number, got '" + s + "'");
            System.exit(2);
            return 0;
        }
    }

    /** Builds the tree and measures; every measured attach is checked to have reached a leaf. */
    public static Figures run(int cgroups, int fanout, int rounds) throws BpfException {
        CgroupTree tree = new CgroupTree();
        long t0 = System.nanoTime();
        Cgroup leaf = build(tree, cgroups, fanout);
        double mkdirMicros = (System.nanoTime() - t0) / 1e3 / (cgroups - 1);
        int depth = leaf.path().split("/").length;
        Cgroup root = tree.root();
        Set<AttachFlag> none = Set.of();
        Set<AttachFlag> multi = Set.of(AttachFlag.ALLOW_MULTI);

        Prog p = new Prog("p");
        double[] attach = new double[rounds];
        double[] detach = new double[rounds];
        for (int r = -3; r < rounds; r++) { // 3 warm-up rounds
            long a = System.nanoTime();
            tree.attach(root, p, TYPE, none, null);
            long b = System.nanoTime();
            expect(tree, leaf, 1);
            tree.detach(root, TYPE, p);
            long c = System.nanoTime();
            expect(tree, leaf, 0);
            if (r >= 0) {
                attach[r] = (b - a) / 1e6;
                detach[r] = (c - b) / 1e6;
            }
        }

        List<Prog> eight = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            eight.add(new Prog("m" + i));
            tree.attach(root, eight.get(i), TYPE, multi, null);
        }
        double[] attachMulti = new double[rounds];
        for (int r = -3; r < rounds; r++) {
            long a = System.nanoTime();
            tree.attach(root, p, TYPE, multi, null);
            long b = System.nanoTime();
            expect(tree, leaf, 9);
            tree.detach(root, TYPE, p);
            if (r >= 0) {
                attachMulti[r] = (b - a) / 1e6;
            }
        }

        double[] attachLeaf = new double[rounds];
        for (int r = -3; r < rounds; r++) {
            long a = System.nanoTime();
            tree.attach(leaf, p, TYPE, multi, null);
            long b = System.nanoTime();
            expect(tree, leaf, 9);
            tree.detach(leaf, TYPE, p);
            if (r >= 0) {
                attachLeaf[r] = (b - a) / 1e3;
            }
        }
        return new Figures(tree.size(), depth, mkdirMicros, median(attach), median(detach), median(attachMulti),
                median(attachLeaf));
    }

    /** Breadth-first, {@code fanout} children each, until the tree has {@code cgroups}; returns the last. */
    static Cgroup build(CgroupTree tree, int cgroups, int fanout) throws BpfException {
        Deque<Cgroup> queue = new ArrayDeque<>();
        queue.add(tree.root());
        Cgroup last = tree.root();
        int made = 1;
        while (made < cgroups) {
            Cgroup parent = queue.poll();
            String base = parent.path().isEmpty() ? "" : parent.path() + "/";
            for (int i = 0; i < fanout && made < cgroups; i++, made++) {
                last = tree.mkdir(base + "c" + i);
                queue.add(last);
            }
        }
        return last;
    }

    private static void expect(CgroupTree tree, Cgroup leaf, int length) {
        int got = tree.effective(leaf, TYPE).length();
        if (got != length) {
            throw new IllegalStateException("propagation broken: leaf " + leaf.path() + " has " + got
                    + " effective programs, expected " + length);
        }
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
