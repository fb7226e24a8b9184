package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.PropagationBench;
import dev.cgbpf.engine.isa.Assembler;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/**
 * Figures for docs/perf.md: the propagation cost of {@link PropagationBench} (attach at the root of
 * 10,000 cgroups) and how many probes per second the engine answers: a device probe from a cgroup
 * at depth 4 whose effective array holds 4 programs (one per level, each reading the context and
 * comparing), and a bind probe through one bind4 program (socket create, bind hook, port table).
 *
 * <p>Usage: {@code ProbeBench [seconds-per-figure=2]}. A plain main, no harness: read medians of
 * several runs.
 */
public final class ProbeBench {
    private ProbeBench() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? parseSeconds(args[0]) : 2.0;
        PropagationBench.Figures f = PropagationBench.run(10_000, 10, 30);
        System.out.printf(Locale.ROOT, "propagation: %d cgroups, depth %d: attach at root %.2f ms, detach %.2f ms,"
                + " 9th multi program %.2f ms, attach at a leaf %.2f us%n",
                f.cgroups(), f.depth(), f.attachRootMs(), f.detachRootMs(), f.attachRootMultiMs(), f.attachLeafMicros());
        try (EngineBackend engine = new EngineBackend()) {
            String path = "";
            for (String level : new String[] {"a", "b", "c", "d"}) {
                path = path.isEmpty() ? level : path + "/" + level;
                engine.mkdir(path);
                engine.attach(path, deviceProg(engine, level), AttachType.CGROUP_DEVICE, EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            }
            final String leaf = path;
            int programs = engine.query(leaf, AttachType.CGROUP_DEVICE, true, -1).count();
            Probe.DeviceAccess access = new Probe.DeviceAccess('c', 1, 3, "rw");
            double device = perSecond(seconds, () -> {
                if (!engine.device(leaf, access)) {
                    throw new IllegalStateException("the benchmark's programs allow c 1:3");
                }
            });
            System.out.printf(Locale.ROOT, "device probe, depth 4, %d programs in the effective array: %.0f probes/s (%.2f us each)%n",
                    programs, device, 1e6 / device);
            LoadedProg bind = engine.load(new LoadRequest("bind", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND,
                    new Assembler(n -> null).assemble(List.of("r2 = *(u32 *)(r1 +24)", "r0 = 1", "exit")), "GPL", 0));
            engine.attach(leaf, bind, AttachType.CGROUP_INET4_BIND, EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            java.net.InetAddress lo = java.net.InetAddress.getByName("127.0.0.1");
            double binds = perSecond(seconds, () -> engine.bind(leaf, Probe.Family.INET, Probe.Proto.TCP, lo, 0));
            System.out.printf(Locale.ROOT, "bind probe (socket + bind4 program + port table): %.0f probes/s (%.2f us each)%n",
                    binds, 1e6 / binds);
        }
    }

    /** Allows everything but major 99: reads access_type, major and minor like a real allowlist would. */
    private static LoadedProg deviceProg(EngineBackend engine, String name) throws BpfException {
        return engine.load(new LoadRequest(name, ProgType.CGROUP_DEVICE, null, new Assembler(n -> null).assemble(List.of(
                "r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)", "r4 = *(u32 *)(r1 +8)", "r2 &= 65535",
                "r0 = 1", "if r3 != 0x63 goto pc+1", "r0 = 0", "exit")), "GPL", 0));
    }

    private interface Op {
        void run() throws Exception;
    }

    /** Runs {@code op} for about {@code seconds} after a warm-up of the same length; operations per second. */
    private static double perSecond(double seconds, Op op) throws Exception {
        long budget = (long) (seconds * 1e9);
        for (long end = System.nanoTime() + budget; System.nanoTime() < end; ) {
            op.run();
        }
        long n = 0;
        long start = System.nanoTime();
        long end = start + budget;
        long now;
        do {
            for (int i = 0; i < 256; i++) {
                op.run();
            }
            n += 256;
            now = System.nanoTime();
        } while (now < end);
        return n / ((now - start) / 1e9);
    }

    private static double parseSeconds(String s) {
        try {
            double d = Double.parseDouble(s);
            if (d > 0) {
                return d;
            }
        } catch (NumberFormatException e) {
            // fall through to the usage line
        }
        System.err.println("usage: ProbeBench [seconds-per-figure > 0], got '" + s + "'");
        System.exit(2);
        return 0;
    }
}
