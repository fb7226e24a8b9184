package dev.cgbpf.kernel;

import static dev.cgbpf.kernel.CgroupAnswer.engineQuery;
import static dev.cgbpf.kernel.CgroupAnswer.kernelQuery;
import static dev.cgbpf.kernel.CgroupAnswer.outcome;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.CgroupTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's cgroup model (task E's {@link CgroupTree}) and the kernel side by side on random
 * sequences of mkdir, rmdir, attach (every flag combination, with and without a program to
 * replace), detach and query (attached/effective, short buffers): every operation must give the
 * same errno, and every query the same flags, names, count and ENOSPC. This is the kernel sample
 * of issue 5's model-based test. A failure prints the seed and the sequence so far.
 */
class CgroupRulesDifferentialTest {
    static final int SEQUENCES = 40;
    static final int OPS = 60;
    static final List<String> DIRS = List.of("a", "a/b", "a/b/c", "d");
    static final List<String> TARGETS = List.of("", "a", "a/b", "a/b/c", "d");
    static final List<AttachType> TYPES = List.of(AttachType.CGROUP_DEVICE, AttachType.CGROUP_INET_INGRESS);

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    /** The kernel's answers (OK, EPERM, ..., or "query"), to show the sample covers the rules. */
    private final DifferentialSample sample = new DifferentialSample();

    @Test
    void engineModelAndKernelAgreeOnRandomSequences() throws Exception {
        sample.run("cgroup rules differential", SEQUENCES, OPS, this::run,
                List.of("OK", "EPERM", "EINVAL", "ENOENT", "EEXIST", "EBUSY", "query"));
    }

    private int run(long seed) throws Exception {
        Random rnd = new Random(seed);
        CgroupTree tree = new CgroupTree();
        List<String> trace = new ArrayList<>();
        try (KernelBackend k = KernelBackend.openScenario()) {
            List<ModelProg> model = new ArrayList<>();
            List<LoadedProg> real = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                model.add(new ModelProg("D" + i, ProgType.CGROUP_DEVICE));
                real.add(Progs.device(k, "D" + i, 1));
            }
            model.add(new ModelProg("S", ProgType.CGROUP_SKB));
            real.add(Progs.load(k, "S", ProgType.CGROUP_SKB, null, "r0 = 1", "exit"));
            for (String d : List.of("a", "a/b", "d")) {
                tree.mkdir(d);
                k.mkdir(d);
            }
            int done = 0;
            for (int i = 0; i < OPS; i++) {
                int op = rnd.nextInt(20);
                String path;
                String engine;
                String kernel;
                if (op == 0) {
                    path = DIRS.get(rnd.nextInt(DIRS.size()));
                    trace.add("mkdir " + path);
                    engine = outcome(() -> tree.mkdir(path));
                    kernel = outcome(() -> k.mkdir(path));
                } else if (op == 1) {
                    path = DIRS.get(rnd.nextInt(DIRS.size()));
                    trace.add("rmdir " + path);
                    engine = outcome(() -> tree.rmdir(path));
                    kernel = outcome(() -> k.rmdir(path));
                } else {
                    path = TARGETS.get(rnd.nextInt(TARGETS.size()));
                    AttachType type = TYPES.get(rnd.nextInt(10) < 8 ? 0 : 1);
                    int p = rnd.nextInt(model.size());
                    if (op <= 12) {
                        int bits = rnd.nextInt(4) == 0 ? rnd.nextInt(8) : (rnd.nextBoolean() ? 2 : rnd.nextInt(2));
                        int r = rnd.nextInt(model.size() + 1) - 1;
                        trace.add("attach " + path + " " + model.get(p).name() + " " + type.scenarioName() + " flags="
                                + bits + " replace=" + (r < 0 ? "-" : model.get(r).name()));
                        engine = outcome(() -> tree.attach(tree.lookup(path), model.get(p), type, AttachFlag.exactly(bits),
                                r < 0 ? null : model.get(r)));
                        kernel = outcome(() -> k.attach(path, real.get(p), type, AttachFlag.of(bits),
                                r < 0 ? null : real.get(r)));
                    } else if (op <= 16) {
                        boolean named = rnd.nextInt(4) != 0;
                        trace.add("detach " + path + " " + type.scenarioName() + " " + (named ? model.get(p).name() : "-"));
                        engine = outcome(() -> tree.detach(tree.lookup(path), type, named ? model.get(p) : null));
                        kernel = outcome(() -> k.detach(path, type, named ? real.get(p) : null));
                    } else {
                        boolean effective = rnd.nextBoolean();
                        int max = rnd.nextInt(4) - 1;
                        trace.add("query " + path + " " + type.scenarioName() + " effective=" + effective + " max=" + max);
                        engine = engineQuery(tree, path, type, effective, max);
                        kernel = kernelQuery(k, path, type, effective, max);
                    }
                }
                sample.count(kernel.startsWith("flags=") ? "query" : kernel);
                assertEquals(engine, kernel, "seed " + seed + ", after:\n  " + String.join("\n  ", trace));
                done++;
            }
            return done;
        }
    }
}
