package dev.cgbpf.tools.bench;

import dev.cgbpf.hook.oci.BundleHooks;
import dev.cgbpf.hook.oci.BusyboxBundles;
import dev.cgbpf.hook.oci.ContainerFiles;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookStage;
import dev.cgbpf.kernel.BpfAvailability;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The daemon path alone, with enough runs to see a few milliseconds through a busy machine's
 * noise: {@code runc run} of a busybox {@code true} container without the hook and through
 * {@code cgbpf-hook} and a {@code cgbpf daemon} of the benchmark's own (a device rule only: one
 * program; a device rule and a bind address: nine), the variants taking turns run by run. Then
 * the same again with {@code running} hooked containers already up, since every start and stop
 * looks at every container's record (bind address leases, an earlier container of the same id).
 *
 * <p>{@code cgbpf-tools bench hook} measures this too, beside the JVM launchers, with fewer runs;
 * this one is for the daemon path's goal (issue: "daemon path ≤ 10 ms above no hook").
 */
public final class DaemonPathBench {
    /**
     * @param runs {@code runc run}s per variant and pass
     * @param warmUp hooked container cycles before the first figure (a fresh daemon interprets)
     * @param running hooked containers kept up during the second pass (0: no second pass)
     */
    public record Settings(int runs, int warmUp, int running) {
        public static final Settings FULL = new Settings(100, 200, 100);
        public static final Settings QUICK = new Settings(10, 20, 5);

        public Settings {
            if (runs < 1 || runs > 1000 || warmUp < 0 || warmUp > 10_000 || running < 0 || running > 1000) {
                throw new IllegalArgumentException("runs must be 1..1000, warm-up 0..10000, running 0..1000");
            }
        }
    }

    private static final int TIMEOUT_SECONDS = 120;
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final String WITHOUT = "without the hook";
    private static final String DEVICE = "cgbpf-hook + daemon, deny c 1:5 w (1 program)";
    private static final String NINE = "cgbpf-hook + daemon, + bind-ip auto (9 programs)";

    private final Settings settings;
    private final PrintStream out;
    private final Path work;
    private final String tag;
    private final Path pinBase;
    private final Path runc;
    private final Path runcRoot;
    private final List<String> containers = new ArrayList<>();
    private BenchDaemon daemon;
    private int seq;

    private DaemonPathBench(Settings settings, PrintStream out, Path work, Path runc) {
        this.settings = settings;
        this.out = out;
        this.work = work;
        this.runc = runc;
        this.tag = "cgbpf-dbench-" + ProcessHandle.current().pid();
        this.pinBase = Path.of("/sys/fs/bpf").resolve(tag);
        this.runcRoot = work.resolve("runc-root");
    }

    /** Runs the benchmark, printing as it goes; an unusable environment is a one-line IOException. */
    public static void run(Settings settings, PrintStream out) throws IOException, InterruptedException {
        BpfAvailability a = BpfAvailability.probe();
        if (!a.usable()) {
            throw new IOException("bpf(2) is not usable (" + a.reason() + "): run it as root on a host with BPF");
        }
        Optional<String> busybox = BusyboxBundles.unavailable();
        if (busybox.isPresent()) {
            throw new IOException(busybox.get());
        }
        Path runc = BenchHost.findOnPath("runc").orElseThrow(() -> new IOException("runc is not installed"));
        if (!Files.isExecutable(HookBench.INSTALLED_CLIENT) || !Files.isExecutable(HookBench.INSTALLED_LAUNCHER)) {
            throw new IOException(HookBench.INSTALLED_CLIENT + " and " + HookBench.INSTALLED_LAUNCHER
                    + " are needed (install.sh installs them)");
        }
        DaemonPathBench b = new DaemonPathBench(settings, out, Files.createTempDirectory("cgbpf-dbench-"), runc);
        try {
            b.measure();
        } finally {
            b.cleanUp();
        }
    }

    private void measure() throws IOException, InterruptedException {
        Files.writeString(work.resolve("policy.json"), "{\"failurePolicy\": \"closed\", \"appliesTo\": \"annotated\"}\n");
        BusyboxBundles bundles = new BusyboxBundles(work, false);
        Map<String, Path> variants = new LinkedHashMap<>();
        variants.put(WITHOUT, bundles.bundle(work.resolve("plain"), List.of("true"), HookBench.ANNOTATIONS, true));
        variants.put(DEVICE, hooked(bundles, "dev", List.of("true"), HookBench.DEVICE_ANNOTATIONS));
        variants.put(NINE, hooked(bundles, "nine", List.of("true"), HookBench.ANNOTATIONS));
        Path sleeping = hooked(bundles, "sleeping", List.of("sleep", "86400"), HookBench.DEVICE_ANNOTATIONS);

        out.println("cgbpf-tools bench daemon: wall time of `runc run` of a busybox `true` container, without the hook"
                + " and through " + HookBench.INSTALLED_CLIENT + " and a cgbpf daemon (median of " + settings.runs()
                + " runs per variant, variants interleaved)");
        out.println("  runc: " + BenchHost.firstLine(List.of(runc.toString(), "--version")) + "; host: "
                + BenchHost.cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cpus, Linux "
                + System.getProperty("os.version") + "; load average before: " + loadAverage());
        daemon = BenchDaemon.start(HookBench.INSTALLED_LAUNCHER, work.resolve("daemon.sock"), work.resolve("daemon.log"),
                env(), TIMEOUT_SECONDS);
        out.print("  warm-up (" + settings.warmUp() + " hooked container runs): ");
        for (int i = 0; i < settings.warmUp(); i++) {
            runcRun(i % 2 == 0 ? variants.get(DEVICE) : variants.get(NINE));
            dot(i);
        }
        out.println();

        Map<String, Figure> quiet = pass(variants, "no other container");
        Map<String, Figure> busy = null;
        if (settings.running() > 0) {
            out.print("  starting " + settings.running() + " hooked containers (sleep): ");
            for (int i = 0; i < settings.running(); i++) {
                String id = tag + "-s" + i;
                runc("run", "--detach", "--bundle", sleeping.toString(), id);
                dot(i);
            }
            out.println();
            busy = pass(variants, settings.running() + " hooked containers running");
        }
        out.println("  load average after: " + loadAverage());
        out.println();
        out.printf("%-52s %10s %10s %10s %10s%n", "runc run, busybox 'true'", "median ms", "min ms", "max ms", "added");
        print("no other container", quiet);
        if (busy != null) {
            print(settings.running() + " hooked containers running", busy);
        }
        out.println();
        double added = quiet.get(DEVICE).medianMs() - quiet.get(WITHOUT).medianMs();
        out.printf("daemon path: +%.1f ms over no hook with the device program, +%.1f ms with 9 programs"
                + " (goal <= 10 ms)%n", added, quiet.get(NINE).medianMs() - quiet.get(WITHOUT).medianMs());
    }

    private Map<String, Figure> pass(Map<String, Path> variants, String what) throws IOException, InterruptedException {
        Map<String, List<Long>> times = new LinkedHashMap<>();
        variants.keySet().forEach(k -> times.put(k, new ArrayList<>()));
        List<String> order = new ArrayList<>(variants.keySet());
        out.print("  " + what + ": ");
        for (int i = 0; i < settings.runs(); i++) {
            for (int j = 0; j < order.size(); j++) {
                String v = order.get((i + j) % order.size());
                times.get(v).add(runcRun(variants.get(v)));
            }
            dot(i);
        }
        out.println();
        Map<String, Figure> figures = new LinkedHashMap<>();
        times.forEach((k, v) -> figures.put(k, Figure.of(v)));
        return figures;
    }

    private void print(String heading, Map<String, Figure> figures) {
        out.println(heading + ":");
        double base = figures.get(WITHOUT).medianMs();
        figures.forEach((k, f) -> out.printf("  %-50s %10.1f %10.1f %10.1f %10s%n", k, f.medianMs(), f.minMs(),
                f.maxMs(), k.equals(WITHOUT) ? "" : String.format("+%.1f", f.medianMs() - base)));
    }

    private void dot(int i) {
        if (i % 10 == 9) {
            out.print('.');
            out.flush();
        }
    }

    /** The hook entry's settings: the daemon's and every hooked bundle's, besides PATH. */
    private Map<String, String> env() {
        Map<String, String> env = new TreeMap<>();
        env.put("PATH", PATH);
        env.put("CGBPF_POLICY", work.resolve("policy.json").toString());
        env.put("CGBPF_RUN_DIR", work.resolve("run").toString());
        env.put("CGBPF_PIN_DIR", pinBase.toString());
        env.put("CGBPF_LOG_FILE", work.resolve("hook.log").toString());
        return env;
    }

    private Path hooked(BusyboxBundles bundles, String name, List<String> args, Map<String, String> annotations)
            throws IOException {
        Path b = bundles.bundle(work.resolve(name), args, annotations, true);
        List<String> entry = new ArrayList<>();
        env().forEach((k, v) -> {
            if (!k.equals("PATH")) {
                entry.add(k + "=" + v);
            }
        });
        entry.add("CGBPF_SOCKET=" + work.resolve("daemon.sock"));
        try {
            new BundleHooks(HookBench.INSTALLED_CLIENT.toString(), HookStage.CREATE_RUNTIME, entry, null).install(b);
        } catch (HookException e) {
            throw new IOException(e.getMessage());
        }
        return b;
    }

    /** {@code runc run} of {@code bundle} to its exit, timed; a failure stops the benchmark. */
    private long runcRun(Path bundle) throws IOException, InterruptedException {
        String id = tag + "-" + (++seq);
        long t = System.nanoTime();
        runc("run", "--bundle", bundle.toString(), id);
        long took = System.nanoTime() - t;
        containers.remove(id);
        return took;
    }

    private void runc(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(runc.toString(), "--root", runcRoot.toString()));
        cmd.addAll(List.of(args));
        String id = args[args.length - 1];
        containers.add(id);
        Path err = work.resolve("runc.err");
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("runc " + args[0] + " " + id + " did not finish in " + TIMEOUT_SECONDS + " s");
        }
        if (p.exitValue() != 0) {
            throw new IOException("runc " + args[0] + " " + id + " exited " + p.exitValue() + ": "
                    + Files.readString(err).strip().replace('\n', ' '));
        }
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Every container deleted (poststop through the daemon), the daemon stopped, the work files removed. */
    private void cleanUp() {
        BenchHost.runcDeleteForce(runc, runcRoot, List.copyOf(containers), out);
        if (daemon != null) {
            try {
                daemon.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            if (Files.isDirectory(pinBase)) {
                // the host's event ring the daemon pinned in this benchmark's pin root: ours to remove
                Files.deleteIfExists(pinBase.resolve(ContainerFiles.EVENTS));
                boolean empty;
                try (Stream<Path> s = Files.list(pinBase)) {
                    empty = s.findAny().isEmpty();
                }
                if (empty) {
                    Files.delete(pinBase);
                } else {
                    out.println("  cleanup: " + pinBase + " is not empty: left for a look");
                }
            }
            try (Stream<Path> s = Files.walk(work)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        } catch (IOException e) {
            out.println("  cleanup: " + e.getMessage());
        }
    }
}
