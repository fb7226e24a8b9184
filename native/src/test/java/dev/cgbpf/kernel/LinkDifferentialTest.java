package dev.cgbpf.kernel;

import static dev.cgbpf.kernel.CgroupAnswer.engineQuery;
import static dev.cgbpf.kernel.CgroupAnswer.kernelQuery;
import static dev.cgbpf.kernel.CgroupAnswer.outcome;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupLink;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.cgroup.CgroupTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bpf_link attachment on cgroups, the engine's {@link CgroupTree} against the running kernel, on
 * random sequences that mix mkdir, rmdir, plain attach (every flag combination, with and without a
 * program to replace), plain detach, link create (flags 0 and the refused override/multi/replace
 * bits), link update (with and without BPF_F_REPLACE, right and wrong old program, another program
 * type), link detach, closing a link's fd, and queries (attached/effective, short buffers). Every
 * operation must give the same errno, every query the same flags, programs, count and ENOSPC, and
 * after every operation every open link must be attached to the same cgroup (or defunct) on both.
 *
 * <p>The kernel auto-detaches the links of a removed cgroup in a work item shortly after rmdir
 * returns; the model does it at once. After an rmdir the test waits (up to 5 s) until the kernel's
 * fdinfo of those links shows cgroup_id 0, and fails if it never does.
 *
 * <p>The cgroups live in a fresh directory under the cgroup v2 mount (the kernel backend's
 * scenario root), which is removed with everything in it at the end. A failure prints the seed
 * and the sequence so far.
 */
class LinkDifferentialTest {
    static final int SEQUENCES = 30;
    static final int OPS = 80;
    static final List<String> DIRS = List.of("a", "a/b", "a/b/c", "d");
    static final List<String> TARGETS = List.of("", "a", "a/b", "a/b/c", "d");
    static final long RELEASE_WAIT_MS = 5000;

    /** One link on both sides: the model's handle and the kernel's fd. */
    record LinkPair(String name, CgroupLink model, Fd fd) {
    }

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    /** The kernel's answers per operation kind, to show that the sample covers the rules. */
    private final DifferentialSample sample = new DifferentialSample();

    @Test
    void engineAndKernelAgreeOnLinksMixedWithPlainAttach() throws Exception {
        sample.run("link differential", SEQUENCES, OPS, this::run, List.of("link_create OK", "link_create EINVAL",
                "link_create EPERM", "link_create ENOENT", "link_update OK", "link_update EINVAL", "link_update EPERM",
                "link_update ENOLINK", "link_detach OK", "attach OK", "attach EPERM", "attach ENOENT", "detach OK",
                "detach ENOENT", "detach EINVAL", "rmdir OK", "query"));
    }

    private int run(long seed) throws Exception {
        Random rnd = new Random(seed);
        CgroupTree tree = new CgroupTree();
        List<String> trace = new ArrayList<>();
        List<LinkPair> links = new ArrayList<>();
        try (KernelBackend k = KernelBackend.openScenario()) {
            Path root = k.cgroupRoot();
            List<ModelProg> model = new ArrayList<>();
            List<KernelProg> real = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                model.add(new ModelProg("D" + i, ProgType.CGROUP_DEVICE));
                real.add((KernelProg) Progs.device(k, "D" + i, 1));
            }
            for (int i = 0; i < 2; i++) {
                model.add(new ModelProg("S" + i, ProgType.CGROUP_SKB));
                real.add((KernelProg) Progs.load(k, "S" + i, ProgType.CGROUP_SKB, null, "r0 = 1", "exit"));
            }
            for (String d : List.of("a", "a/b", "d")) {
                tree.mkdir(d);
                k.mkdir(d);
            }
            int done = 0;
            try {
                for (int i = 0; i < OPS; i++) {
                    String[] result = step(rnd, tree, k, root, model, real, links, trace);
                    sample.count(result[2].startsWith("flags=") ? "query" : result[0] + " " + result[2]);
                    assertEquals(result[1], result[2], "seed " + seed + ", after:\n  " + String.join("\n  ", trace));
                    if (result[0].equals("rmdir") && result[2].equals("OK")) {
                        awaitAutoDetach(links, seed, trace);
                    }
                    assertEquals(modelLinkState(links), kernelLinkState(links, root),
                            "links, seed " + seed + ", after:\n  " + String.join("\n  ", trace));
                    done++;
                }
            } finally {
                for (LinkPair l : links) {
                    l.fd().close();
                }
            }
            return done;
        }
    }

    /** One random operation on both sides: {kind, engine answer, kernel answer}. */
    private static String[] step(Random rnd, CgroupTree tree, KernelBackend k, Path root, List<ModelProg> model,
                                 List<KernelProg> real, List<LinkPair> links, List<String> trace) {
        int op = rnd.nextInt(30);
        int p = pickProg(rnd, model);
        AttachType type = model.get(p).type() == ProgType.CGROUP_DEVICE ? AttachType.CGROUP_DEVICE
                : AttachType.CGROUP_INET_INGRESS;
        if (rnd.nextInt(10) == 0) {
            type = type == AttachType.CGROUP_DEVICE ? AttachType.CGROUP_INET_INGRESS : AttachType.CGROUP_DEVICE;
        }
        AttachType t = type;
        String path = TARGETS.get(rnd.nextInt(TARGETS.size()));
        if (op < 2) {
            String dir = DIRS.get(rnd.nextInt(DIRS.size()));
            trace.add("mkdir " + dir);
            return new String[] {"mkdir", outcome(() -> tree.mkdir(dir)), outcome(() -> k.mkdir(dir))};
        }
        if (op < 4) {
            String dir = DIRS.get(rnd.nextInt(DIRS.size()));
            trace.add("rmdir " + dir);
            return new String[] {"rmdir", outcome(() -> tree.rmdir(dir)), outcome(() -> k.rmdir(dir))};
        }
        if (op < 10) {
            int bits = rnd.nextInt(4) == 0 ? rnd.nextInt(8) : (rnd.nextInt(3) == 0 ? 0 : 2);
            int r = rnd.nextInt(3) == 0 ? pickProg(rnd, model) : -1;
            trace.add("attach " + path + " " + model.get(p).name() + " " + t.scenarioName() + " flags=" + bits
                    + " replace=" + (r < 0 ? "-" : model.get(r).name()));
            String engine = outcome(() -> tree.attach(tree.lookup(path), model.get(p), t, AttachFlag.exactly(bits),
                    r < 0 ? null : model.get(r)));
            String kernel = outcome(() -> k.attach(path, real.get(p), t, AttachFlag.of(bits), r < 0 ? null : real.get(r)));
            return new String[] {"attach", engine, kernel};
        }
        if (op < 13) {
            boolean named = rnd.nextInt(5) != 0;
            trace.add("detach " + path + " " + t.scenarioName() + " " + (named ? model.get(p).name() : "-"));
            String engine = outcome(() -> tree.detach(tree.lookup(path), t, named ? model.get(p) : null));
            String kernel = outcome(() -> k.detach(path, t, named ? real.get(p) : null));
            return new String[] {"detach", engine, kernel};
        }
        if (op < 19) {
            int flags = rnd.nextInt(8) == 0 ? 1 << rnd.nextInt(3) : 0;
            String name = "L" + trace.size();
            trace.add(name + " = link_create " + path + " " + model.get(p).name() + " " + t.scenarioName()
                    + " flags=" + flags);
            CgroupLink[] m = new CgroupLink[1];
            Fd[] fd = new Fd[1];
            String engine = outcome(() -> m[0] = tree.linkCreate(tree.lookup(path), model.get(p), t, flags));
            String kernel = outcome(() -> {
                try (Fd cg = CgroupDir.open(root.resolve(path))) {
                    fd[0] = LinkCreate.linkCreate(real.get(p).fd(), cg, t.value(), flags);
                }
            });
            if (m[0] != null && fd[0] != null) {
                links.add(new LinkPair(name, m[0], fd[0]));
            } else {
                // keep the two sides alike even when they disagree, so the report shows the first difference
                if (m[0] != null) {
                    m[0].close();
                }
                if (fd[0] != null) {
                    fd[0].close();
                }
            }
            return new String[] {"link_create", engine, kernel};
        }
        if (links.isEmpty()) {
            return query(rnd, tree, k, path, t, trace);
        }
        LinkPair l = links.get(rnd.nextInt(links.size()));
        if (op < 24) {
            int old = rnd.nextInt(3) == 0 ? -1 : (rnd.nextBoolean() ? indexOf(model, l.model().prog()) : pickProg(rnd, model));
            trace.add("link_update " + l.name() + " " + model.get(p).name() + " old=" + (old < 0 ? "-" : model.get(old).name()));
            String engine = outcome(() -> l.model().update(model.get(p), old < 0 ? null : model.get(old)));
            String kernel = outcome(() -> LinkUpdate.linkUpdate(l.fd(), real.get(p).fd(), old < 0 ? null : real.get(old).fd()));
            return new String[] {"link_update", engine, kernel};
        }
        if (op < 26) {
            trace.add("link_detach " + l.name());
            return new String[] {"link_detach", outcome(l.model()::detach), outcome(() -> LinkDetach.linkDetach(l.fd()))};
        }
        if (op < 27) {
            trace.add("close " + l.name());
            l.model().close();
            l.fd().close();
            links.remove(l);
            return new String[] {"close", "OK", "OK"};
        }
        return query(rnd, tree, k, path, t, trace);
    }

    /** Device programs most of the time, so that most operations meet on one attach type. */
    private static int pickProg(Random rnd, List<ModelProg> model) {
        return rnd.nextInt(5) == 0 ? 4 + rnd.nextInt(model.size() - 4) : rnd.nextInt(4);
    }

    private static int indexOf(List<ModelProg> model, CgroupProg prog) {
        for (int i = 0; i < model.size(); i++) {
            if (model.get(i) == prog) {
                return i;
            }
        }
        throw new IllegalStateException("unknown program " + prog);
    }

    private static String[] query(Random rnd, CgroupTree tree, KernelBackend k, String path, AttachType type,
                                  List<String> trace) {
        boolean effective = rnd.nextBoolean();
        int max = rnd.nextInt(5) - 1;
        trace.add("query " + path + " " + type.scenarioName() + " effective=" + effective + " max=" + max);
        return new String[] {"query", engineQuery(tree, path, type, effective, max), kernelQuery(k, path, type, effective, max)};
    }

    /** Waits until the kernel has released every link the model says is defunct; fails after RELEASE_WAIT_MS. */
    private static void awaitAutoDetach(List<LinkPair> links, long seed, List<String> trace) throws Exception {
        long deadline = System.currentTimeMillis() + RELEASE_WAIT_MS;
        for (LinkPair l : links) {
            if (l.model().cgroup() != null) {
                continue;
            }
            while (kernelCgroupId(l.fd()) != 0) {
                if (System.currentTimeMillis() > deadline) {
                    fail("seed " + seed + ": the kernel did not auto-detach " + l.name() + " within " + RELEASE_WAIT_MS
                            + " ms of the rmdir, after:\n  " + String.join("\n  ", trace));
                }
                Thread.sleep(5);
            }
        }
    }

    /** The cgroup_id line of the link's fdinfo (bpf_cgroup_link_show_fdinfo): 0 once the link is defunct. */
    static long kernelCgroupId(Fd link) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + link.get()))) {
            if (line.startsWith("cgroup_id:")) {
                return Long.parseLong(line.substring("cgroup_id:".length()).trim());
            }
        }
        throw new IllegalStateException("fd " + link.get() + " is not a cgroup link");
    }

    private static String modelLinkState(List<LinkPair> links) {
        List<String> out = new ArrayList<>();
        for (LinkPair l : links) {
            Cgroup c = l.model().cgroup();
            out.add(l.name() + "@" + (c == null ? "defunct" : "'" + c.path() + "'"));
        }
        return out.toString();
    }

    /** Each link's cgroup as a path under the root, found by the cgroup id (the directory's inode). */
    private static String kernelLinkState(List<LinkPair> links, Path root) throws Exception {
        List<String> out = new ArrayList<>();
        for (LinkPair l : links) {
            long id = kernelCgroupId(l.fd());
            String where = id == 0 ? "defunct" : "id " + id;
            for (String t : TARGETS) {
                Path dir = root.resolve(t);
                if (Files.isDirectory(dir) && CgroupFs.id(dir) == id) {
                    where = "'" + t + "'";
                }
            }
            out.add(l.name() + "@" + where);
        }
        return out.toString();
    }
}
