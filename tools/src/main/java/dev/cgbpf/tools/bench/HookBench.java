package dev.cgbpf.tools.bench;

import dev.cgbpf.hook.cli.Main;
import dev.cgbpf.hook.oci.AttachRecord;
import dev.cgbpf.hook.oci.ContainerFiles;
import dev.cgbpf.hook.oci.ContainerStatus;
import dev.cgbpf.hook.oci.BundleHooks;
import dev.cgbpf.hook.oci.BusyboxBundles;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookExecutable;
import dev.cgbpf.hook.oci.HookSettings;
import dev.cgbpf.hook.oci.HookStage;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.CgroupV2Mount;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
 * {@code cgbpf-tools bench hook}: what the OCI hook costs a container start, in one run.
 *
 * <p>Part 1, the hook's stages: the hook is run exactly as a runtime runs it, a separate process
 * started through a launcher with the state JSON on stdin and only the {@code CGBPF_*} variables
 * of the hook's config entry in its environment, against a scratch cgroup holding one sleeping
 * process (the "container"). Per run: createRuntime (attaches the programs), prestart (the
 * second attach stage of a bundle that has both: finds them attached and does nothing),
 * poststop (removes everything); and {@code cgbpf --version} as the baseline of a JVM start with
 * no hook work. Each launcher is measured: the installed one (with the
 * class-data-sharing archive install.sh dumps, when there is one) and a plain {@code java -jar}
 * launcher of the same jar; and, where install.sh installed it, the C client {@code cgbpf-hook}
 * twice: asking a daemon this benchmark starts on a socket of its own, and with no daemon at its
 * socket, when it runs the installed launcher's {@code cgbpf hook STAGE} itself (the fallback).
 * The launchers take turns run by run, so that drifting background noise hits all alike.
 *
 * <p>Part 2, {@code runc run} of a trivial busybox container ({@code true}) from a bundle without
 * the hook and from the same bundle with the hook installed by {@link BundleHooks} (createRuntime
 * + poststop, each launcher), interleaved the same way. The difference is what the hook adds to a
 * container's start-to-exit time.
 *
 * <p>Every figure is a median of wall times (ns clock around process start to exit); min and max
 * are printed next to it. Every run is checked: a hook or runc that fails stops the benchmark
 * with its message, and nothing is left behind (programs, pins, cgroup, containers).
 */
public final class HookBench {
    public static final Path INSTALLED_LAUNCHER = Path.of("/usr/local/bin/cgbpf");
    public static final Path INSTALLED_JAR = Path.of("/usr/local/lib/cgbpf/cgbpf.jar");
    public static final Path INSTALLED_CDS = Path.of("/usr/local/lib/cgbpf/cgbpf.jsa");
    public static final Path INSTALLED_CLIENT = Path.of(HookExecutable.CLIENT);
    /** The container's policy: one device rule and a bind address (so: on the host's network), nine programs. */
    static final Map<String, String> ANNOTATIONS = new TreeMap<>(Map.of(
            "dev.cgbpf.devices", "deny c 1:5 w",
            "dev.cgbpf.bind-ip", "auto"));
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final int TIMEOUT_SECONDS = 120;
    private static final String DAEMON = "client+d";
    private static final String FALLBACK = "client";
    private static final int DAEMON_WARM_UP = 200;
    /** The {@code runc run} variant through the daemon with the device rule alone: one program. */
    private static final String DEVICES_ONLY = "client+d/dev";
    static final Map<String, String> DEVICE_ANNOTATIONS = Map.of("dev.cgbpf.devices", "deny c 1:5 w");

    /** @param runs runs per figure */
    public record Settings(int runs) {
        public static final Settings FULL = new Settings(15);
        public static final Settings QUICK = new Settings(3);

        public Settings {
            if (runs < 1 || runs > 1000) {
                throw new IllegalArgumentException("runs must be 1..1000, got " + runs);
            }
        }
    }

    /**
     * A way to start the hook: a JVM launcher the runtime runs as {@code cgbpf hook STAGE}, or the
     * C client run as {@code cgbpf-hook STAGE}, with {@code env} added to the hook entry's
     * environment (the client's socket and fallback launcher).
     */
    public record Launcher(String label, Path path, String description, Map<String, String> env) {
        Launcher(String label, Path path, String description) {
            this(label, path, description, Map.of());
        }

        boolean client() {
            return HookExecutable.isClient(path.toString());
        }

        /** The argv of a hook stage, as the hook entry a bundle gets names it. */
        List<String> stageCommand(HookStage stage) {
            List<String> argv = new ArrayList<>(HookExecutable.args(path.toString(), stage));
            argv.set(0, path.toString());
            return argv;
        }
    }

    private final Settings settings;
    private final PrintStream out;
    private final Path work;
    private final String tag;
    private final Path pinBase;
    private final List<Launcher> launchers = new ArrayList<>();
    private Path cgroupDir;
    private Process sleeper;
    private Path runcRoot;
    private final List<String> containersToDelete = new ArrayList<>();
    private Path runc;
    private int seq;
    private BenchDaemon daemon;

    private HookBench(Settings settings, PrintStream out, Path work) {
        this.settings = settings;
        this.out = out;
        this.work = work;
        this.tag = "cgbpf-bench-" + ProcessHandle.current().pid();
        this.pinBase = Path.of("/sys/fs/bpf").resolve(tag);
    }

    /** Runs the whole benchmark, printing as it goes; an unusable environment is a one-line IOException. */
    public static void run(Settings settings, PrintStream out) throws IOException, InterruptedException {
        checkEnvironment();
        Path work = Files.createTempDirectory("cgbpf-bench-");
        HookBench b = new HookBench(settings, out, work);
        try {
            b.measure();
        } finally {
            b.cleanUp();
        }
    }

    private static void checkEnvironment() throws IOException {
        BpfAvailability a = BpfAvailability.probe();
        if (!a.usable()) {
            throw new IOException("bpf(2) is not usable (" + a.reason() + "): the hook benchmark measures real"
                    + " attaches; run it as root on a host with BPF");
        }
        Optional<String> busybox = BusyboxBundles.unavailable();
        if (busybox.isPresent()) {
            throw new IOException(busybox.get());
        }
        if (BenchHost.findOnPath("runc").isEmpty()) {
            throw new IOException("runc is not installed (apt-get install runc)");
        }
    }

    private void measure() throws IOException, InterruptedException {
        runc = BenchHost.findOnPath("runc").orElseThrow();
        chooseLaunchers();
        CgroupV2Mount v2 = CgroupV2Mount.discover()
                .orElseThrow(() -> new IOException("no cgroup v2 hierarchy is mounted"));
        Files.writeString(work.resolve("policy.json"), "{\"failurePolicy\": \"closed\", \"appliesTo\": \"annotated\"}\n");
        BusyboxBundles bundles = new BusyboxBundles(work, false);
        runcRoot = work.resolve("runc-root");

        printMethod();
        startDaemon();
        Map<String, List<Long>> stages = stageRuns(v2, bundles);
        Map<String, List<Long>> runs = runcRuns(bundles);

        out.println();
        out.printf("%-44s %-8s %10s %10s %10s%n", "hook stage (separate process)", "launcher", "median ms", "min ms",
                "max ms");
        for (Map.Entry<String, List<Long>> e : stages.entrySet()) {
            String[] k = e.getKey().split("\t");
            Figure f = Figure.of(e.getValue());
            out.printf("%-44s %-8s %10.1f %10.1f %10.1f%n", k[0], k[1], f.medianMs(), f.minMs(), f.maxMs());
        }
        out.println();
        out.printf("%-44s %-8s %10s %10s %10s%n", "runc run, busybox 'true' (" + settings.runs() + " runs each)",
                "launcher", "median ms", "min ms", "max ms");
        Figure without = Figure.of(runs.get("without"));
        out.printf("%-44s %-8s %10.1f %10.1f %10.1f%n", "without the hook", "-", without.medianMs(), without.minMs(),
                without.maxMs());
        for (Launcher l : launchers) {
            Figure f = Figure.of(runs.get(l.label()));
            out.printf("%-44s %-8s %10.1f %10.1f %10.1f   (+%.1f ms)%n", "with the hook (createRuntime + poststop)",
                    l.label(), f.medianMs(), f.minMs(), f.maxMs(), f.medianMs() - without.medianMs());
            if (l.label().equals(DAEMON)) {
                Figure d = Figure.of(runs.get(DEVICES_ONLY));
                out.printf("%-44s %-8s %10.1f %10.1f %10.1f   (+%.1f ms)%n", "  the same, policy deny c 1:5 w only",
                        l.label(), d.medianMs(), d.minMs(), d.maxMs(), d.medianMs() - without.medianMs());
            }
        }
        printGoals(stages, runs, without);
    }

    /**
     * The two goals in one place: the daemon path's cost over no hook in {@code runc run},
     * and the JVM fallback's createRuntime + poststop over two {@code cgbpf --version} (the floor
     * of two JVM starts) of the installed launcher, directly and through the client.
     */
    private void printGoals(Map<String, List<Long>> stages, Map<String, List<Long>> runs, Figure without) {
        Launcher jvm = launchers.get(0);
        Figure version = Figure.of(stages.get(key("JVM start only: cgbpf --version", jvm)));
        out.println();
        for (Launcher l : launchers) {
            Figure create = Figure.of(stages.get(key("createRuntime (attach)", l)));
            Figure poststop = Figure.of(stages.get(key("poststop (remove all)", l)));
            if (l.label().equals(DAEMON)) {
                out.printf("daemon path: runc run +%.1f ms over no hook with 9 programs, +%.1f ms with the device"
                        + " program only (goal <= 10 ms); createRuntime + poststop %.1f ms%n",
                        Figure.of(runs.get(l.label())).medianMs() - without.medianMs(),
                        Figure.of(runs.get(DEVICES_ONLY)).medianMs() - without.medianMs(),
                        create.medianMs() + poststop.medianMs());
            } else if (!l.client() && l != jvm) {
                continue;
            } else {
                out.printf("JVM hook%s: createRuntime + poststop %.1f ms = %.2f x two `cgbpf --version` (%.1f ms,"
                        + " launcher %s; goal <= 2.3)%n", l.client() ? " through cgbpf-hook, no daemon" : " (" + l.label()
                        + ")", create.medianMs() + poststop.medianMs(),
                        (create.medianMs() + poststop.medianMs()) / (2 * version.medianMs()), 2 * version.medianMs(),
                        jvm.label());
            }
        }
    }

    private static String key(String row, Launcher l) {
        return row + "\t" + l.label();
    }

    /**
     * The installed launcher when there is one (it maps the CDS archive when install.sh could
     * dump one) plus a plain {@code java -jar} launcher of the same jar; without an installation,
     * a {@code java} launcher of cgbpf's main class from the class path this command runs from
     * (the tools jar, which holds the hook's classes too).
     */
    private void chooseLaunchers() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        if (Files.isExecutable(INSTALLED_LAUNCHER) && Files.isRegularFile(INSTALLED_JAR)) {
            String text = Files.readString(INSTALLED_LAUNCHER, StandardCharsets.UTF_8);
            boolean cds = Files.isRegularFile(INSTALLED_CDS) && text.contains("SharedArchiveFile");
            launchers.add(new Launcher(cds ? "cds" : "jar", INSTALLED_LAUNCHER, INSTALLED_LAUNCHER
                    + (cds ? " (installed; maps the CDS archive " + INSTALLED_CDS + ")"
                    : " (installed; no CDS archive: install.sh could not dump one, or an older install)")));
            if (cds) {
                launchers.add(new Launcher("jar", writeLauncher("cgbpf-jar", java + " -jar " + INSTALLED_JAR),
                        java + " -jar " + INSTALLED_JAR + " (same jar, the JDK's default CDS only)"));
            }
            if (Files.isExecutable(INSTALLED_CLIENT)) {
                launchers.add(new Launcher(DAEMON, INSTALLED_CLIENT, INSTALLED_CLIENT + " asking a cgbpf daemon of"
                        + " this benchmark (" + INSTALLED_LAUNCHER + " daemon) on " + daemonSocket(),
                        Map.of("CGBPF_SOCKET", daemonSocket().toString())));
                Path none = work.resolve("no-daemon.sock");
                launchers.add(new Launcher(FALLBACK, INSTALLED_CLIENT, INSTALLED_CLIENT + " with no daemon at " + none
                        + ": runs " + INSTALLED_LAUNCHER + " hook STAGE", Map.of("CGBPF_SOCKET", none.toString(),
                        "CGBPF_LAUNCHER", INSTALLED_LAUNCHER.toString())));
            } else {
                out.println("  " + INSTALLED_CLIENT + " is not installed (install.sh installs it): no rows for the"
                        + " C client and the daemon");
            }
            return;
        }
        out.println("  cgbpf is not installed (install.sh): no rows for the C client and the daemon");
        String self = selfCommand(java);
        launchers.add(new Launcher("jar", writeLauncher("cgbpf-jar", self), self
                + " (cgbpf is not installed: no launcher, no CDS archive; install.sh makes both)"));
    }

    /**
     * How to run the hook of this very build: cgbpf's main class on this JVM's class path (the
     * tools jar, or the class path of a development run), made absolute. This JVM's own main
     * class is cgbpf-tools', so not {@code java -jar}.
     */
    private static String selfCommand(String java) {
        StringBuilder cp = new StringBuilder();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                cp.append(cp.length() == 0 ? "" : File.pathSeparator).append(Path.of(entry).toAbsolutePath());
            }
        }
        return java + " -cp " + cp + " " + Main.class.getName();
    }

    private Path writeLauncher(String name, String command) throws IOException {
        if (command.contains("'") || command.contains("\n")) {
            throw new IOException("cannot write a launcher for a path with a quote or newline: " + command);
        }
        Path p = work.resolve(name);
        StringBuilder quoted = new StringBuilder();
        for (String w : command.split(" ")) {
            quoted.append('\'').append(w).append("' ");
        }
        Files.writeString(p, "#!/bin/sh\nexec " + quoted + "\"$@\"\n");
        if (!p.toFile().setExecutable(true, false)) {
            throw new IOException("cannot make " + p + " executable");
        }
        return p;
    }

    private void printMethod() throws IOException, InterruptedException {
        out.println("cgbpf-tools bench hook: wall time of the OCI hook per stage, and of `runc run` of a trivial container"
                + " with and without the hook (median of " + settings.runs() + " runs; runs interleaved)");
        out.println("  hook: a separate process as the runtime starts it (launcher, state JSON on stdin, only the hook's"
                + " CGBPF_* environment); policy annotations " + ANNOTATIONS);
        out.println("        attach = load, pin and bpf_link 9 programs + the counter map to a scratch cgroup"
                + " holding one process");
        for (Launcher l : launchers) {
            out.println("  launcher " + l.label() + ": " + l.description());
        }
        out.println("  runc: " + BenchHost.firstLine(List.of(runc.toString(), "--version")) + ", busybox rootfs, the host's network"
                + " (a bind address needs it), command 'true'");
        out.println("  host: " + BenchHost.cpuModel() + ", " + Runtime.getRuntime().availableProcessors()
                + " cpus, Linux " + System.getProperty("os.version") + ", " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version"));
    }

    // ---- part 1: the stages ----

    private Map<String, List<Long>> stageRuns(CgroupV2Mount v2, BusyboxBundles bundles)
            throws IOException, InterruptedException {
        cgroupDir = v2.mountPoint().resolve(tag);
        Files.createDirectory(cgroupDir);
        sleeper = new ProcessBuilder("sleep", "3600").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Files.writeString(cgroupDir.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
        // the hook cross-checks the pid's cgroup with cgroupsPath: name the scratch cgroup there
        Path bundle = bundles.bundle(work.resolve("stage-bundle"), List.of("true"), ANNOTATIONS, true, "/" + tag);

        Map<String, List<Long>> times = new LinkedHashMap<>();
        for (Launcher l : launchers) {
            if (!l.client()) {
                times.put("JVM start only: cgbpf --version\t" + l.label(), new ArrayList<>());
            }
            times.put("createRuntime (attach)\t" + l.label(), new ArrayList<>());
            times.put("prestart after createRuntime (no-op)\t" + l.label(), new ArrayList<>());
            times.put("poststop (remove all)\t" + l.label(), new ArrayList<>());
        }
        warmUpDaemon(v2, bundle);
        out.print("  hook stages: ");
        for (int i = 0; i < settings.runs(); i++) {
            for (Launcher l : rotate(launchers, i)) {
                String id = tag + "-s" + (++seq);
                if (!l.client()) {
                    times.get("JVM start only: cgbpf --version\t" + l.label()).add(timed(l, "--version", null,
                            List.of(l.path().toString(), "--version")));
                }
                // a container's life: its process in the cgroup while it runs, gone before poststop
                Files.writeString(cgroupDir.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
                byte[] running = state(id, "creating", sleeper.pid(), bundle);
                times.get("createRuntime (attach)\t" + l.label()).add(hook(l, HookStage.CREATE_RUNTIME, running, id));
                if (i == 0) {
                    checkAttached(id);
                }
                times.get("prestart after createRuntime (no-op)\t" + l.label()).add(hook(l, HookStage.PRESTART,
                        running, id));
                Files.writeString(v2.mountPoint().resolve("cgroup.procs"), Long.toString(sleeper.pid()));
                times.get("poststop (remove all)\t" + l.label()).add(hook(l, HookStage.POSTSTOP,
                        state(id, "stopped", null, bundle), id));
                try (Stream<Path> left = Files.list(pinBase)) {
                    // the host's event ring (docs/events.md) outlives every container by design
                    if (left.anyMatch(p -> !p.getFileName().toString().equals(ContainerFiles.EVENTS))) {
                        throw new IOException("poststop of " + id + " left pins in " + pinBase);
                    }
                }
            }
            out.print('.');
            out.flush();
        }
        out.println();
        return times;
    }

    /**
     * A resident daemon is measured as it serves once it has run for a while: its JIT has compiled
     * the stage path. A fresh one interprets its first requests; {@link #DAEMON_WARM_UP} container
     * cycles through the client, untimed, before the first figure.
     */
    private void warmUpDaemon(CgroupV2Mount v2, Path bundle) throws IOException, InterruptedException {
        Launcher client = launchers.stream().filter(l -> l.label().equals(DAEMON)).findFirst().orElse(null);
        if (client == null) {
            return;
        }
        out.print("  daemon warm-up (" + DAEMON_WARM_UP + " container cycles): ");
        for (int i = 0; i < DAEMON_WARM_UP; i++) {
            String id = tag + "-w" + (++seq);
            Files.writeString(cgroupDir.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
            hook(client, HookStage.CREATE_RUNTIME, state(id, "creating", sleeper.pid(), bundle), id);
            Files.writeString(v2.mountPoint().resolve("cgroup.procs"), Long.toString(sleeper.pid()));
            hook(client, HookStage.POSTSTOP, state(id, "stopped", null, bundle), id);
            if (i % 10 == 9) {
                out.print('.');
                out.flush();
            }
        }
        out.println();
    }

    private static <T> List<T> rotate(List<T> xs, int i) {
        List<T> r = new ArrayList<>(xs.subList(i % xs.size(), xs.size()));
        r.addAll(xs.subList(0, i % xs.size()));
        return r;
    }

    private static byte[] state(String id, String status, Long pid, Path bundle) {
        return ("{\"ociVersion\": \"1.0.2\", \"id\": \"" + id + "\", \"status\": \"" + status + "\", "
                + (pid == null ? "" : "\"pid\": " + pid + ", ") + "\"bundle\": \"" + bundle + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The hook entry's settings: what a runtime passes the hook besides PATH. */
    private Map<String, String> hookEntrySettings() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CGBPF_POLICY", work.resolve("policy.json").toString());
        env.put("CGBPF_RUN_DIR", work.resolve("run").toString());
        env.put("CGBPF_PIN_DIR", pinBase.toString());
        env.put("CGBPF_LOG_FILE", work.resolve("hook.log").toString());
        return env;
    }

    /** The whole environment of a hook process (and of the benchmark's daemon): PATH and the settings. */
    private Map<String, String> hookEnv() {
        Map<String, String> env = new LinkedHashMap<>(Map.of("PATH", PATH));
        env.putAll(hookEntrySettings());
        return env;
    }

    /** One hook process, timed from start to exit; a failing hook stops the benchmark. */
    private long hook(Launcher l, HookStage stage, byte[] stateJson, String id) throws IOException, InterruptedException {
        return timed(l, stage.specName() + " for " + id, stateJson, l.stageCommand(stage));
    }

    /** {@code LAUNCHER args...} with the hook's environment and {@code stdin}, timed from start to exit. */
    private long timed(Launcher l, String what, byte[] stdin, List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(hookEnv());
        pb.environment().putAll(l.env());
        Path err = work.resolve("hook.err");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
        long t = System.nanoTime();
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        }
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("cgbpf " + what + " (launcher " + l.label() + ") did not finish in "
                    + TIMEOUT_SECONDS + " s");
        }
        long took = System.nanoTime() - t;
        if (p.exitValue() != 0) {
            throw new IOException("cgbpf " + what + " (launcher " + l.label() + ") failed: "
                    + Files.readString(err).strip().replace('\n', ' '));
        }
        return took;
    }

    /** The first attach really attached: the record lists the programs, each with a kernel id. */
    private HookSettings hookSettings() {
        return new HookSettings(work.resolve("policy.json"), work.resolve("run"), pinBase, null,
                HookSettings.BackendMode.KERNEL, HookSettings.AttachMode.LINK, Path.of("/proc"));
    }

    private void checkAttached(String id) throws IOException {
        HookSettings s = hookSettings();
        AttachRecord r;
        try {
            List<ContainerStatus> found = ContainerStatus.find(s, id);
            r = found.isEmpty() ? null : found.get(0).record();
        } catch (HookException e) {
            throw new IOException(e.getMessage());
        }
        if (r == null || !AttachRecord.ATTACHED.equals(r.status()) || !AttachRecord.KERNEL.equals(r.backend())
                || r.programs().isEmpty() || r.programs().stream().anyMatch(p -> p.progId() <= 0)) {
            throw new IOException("the createRuntime stage exited 0 but did not attach on the kernel: " + r);
        }
    }

    // ---- part 2: runc run ----

    private Map<String, List<Long>> runcRuns(BusyboxBundles bundles) throws IOException, InterruptedException {
        Map<String, Path> variants = new LinkedHashMap<>();
        variants.put("without", bundles.bundle(work.resolve("runc-plain"), List.of("true"), ANNOTATIONS, true));
        for (Launcher l : launchers) {
            variants.put(l.label(), hookedBundle(bundles, l, l.label(), ANNOTATIONS));
            if (l.label().equals(DAEMON)) {
                variants.put(DEVICES_ONLY, hookedBundle(bundles, l, DEVICES_ONLY, DEVICE_ANNOTATIONS));
            }
        }
        Map<String, List<Long>> times = new LinkedHashMap<>();
        variants.keySet().forEach(k -> times.put(k, new ArrayList<>()));
        List<String> order = new ArrayList<>(variants.keySet());
        out.print("  runc run:    ");
        for (int i = 0; i < settings.runs(); i++) {
            for (String v : rotate(order, i)) {
                times.get(v).add(runcRun(variants.get(v), tag + "-r" + (++seq)));
            }
            out.print('.');
            out.flush();
        }
        out.println();
        return times;
    }

    /** A bundle of {@code true} with the hook of launcher {@code l} installed (createRuntime + poststop). */
    private Path hookedBundle(BusyboxBundles bundles, Launcher l, String name, Map<String, String> annotations)
            throws IOException {
        Path b = bundles.bundle(work.resolve("runc-hook-" + name.replace('/', '-')), List.of("true"), annotations,
                true);
        try {
            List<String> env = new ArrayList<>();
            hookEntrySettings().forEach((k, v) -> env.add(k + "=" + v));
            new TreeMap<>(l.env()).forEach((k, v) -> env.add(k + "=" + v));
            new BundleHooks(l.path().toString(), HookStage.CREATE_RUNTIME, env, null).install(b);
        } catch (HookException e) {
            throw new IOException(e.getMessage());
        }
        return b;
    }

    private long runcRun(Path bundle, String id) throws IOException, InterruptedException {
        Path o = work.resolve("runc.out");
        Path e = work.resolve("runc.err");
        ProcessBuilder pb = new ProcessBuilder(runc.toString(), "--root", runcRoot.toString(), "run", "--bundle",
                bundle.toString(), id).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(o.toFile()).redirectError(e.toFile());
        containersToDelete.add(id);
        long t = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("runc run " + id + " did not finish in " + TIMEOUT_SECONDS + " s");
        }
        long took = System.nanoTime() - t;
        if (p.exitValue() != 0) {
            throw new IOException("runc run " + id + " exited " + p.exitValue() + ": "
                    + (Files.readString(e) + Files.readString(o)).strip().replace('\n', ' '));
        }
        containersToDelete.remove(id);
        return took;
    }

    // ---- cleanup ----

    private Path daemonSocket() {
        return work.resolve("daemon.sock");
    }

    /**
     * The daemon the client rows ask: the installed launcher's {@code cgbpf daemon} on a socket of
     * this benchmark, with the hook's settings in its environment; up before the first run.
     */
    private void startDaemon() throws IOException, InterruptedException {
        if (launchers.stream().anyMatch(l -> l.label().equals(DAEMON))) {
            daemon = BenchDaemon.start(INSTALLED_LAUNCHER, daemonSocket(), work.resolve("daemon.log"), hookEnv(),
                    TIMEOUT_SECONDS);
        }
    }

    private void cleanUp() {
        if (daemon != null) {
            try {
                daemon.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        BenchHost.runcDeleteForce(runc, runcRoot, containersToDelete, out);
        if (sleeper != null) {
            sleeper.destroyForcibly();
            try {
                sleeper.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // a stage run that failed midway may have left a container's record and pins: poststop them
        // (the sleeper is gone by now, so their cgroup is empty)
        if (Files.isDirectory(work.resolve("run"))) {
            try {
                for (ContainerStatus left : ContainerStatus.find(hookSettings(), null)) {
                    AttachRecord r = left.record();
                    hook(launchers.get(0), HookStage.POSTSTOP, state(r.id(), "stopped", null, Path.of(r.bundle())),
                            r.id());
                }
            } catch (IOException | InterruptedException | RuntimeException | HookException e) {
                out.println("  cleanup: poststop of a leftover container: " + e.getMessage());
            }
        }
        if (cgroupDir != null) {
            // the killed sleeper leaves the cgroup a moment after it is reaped
            for (int i = 0; i < 50 && Files.isDirectory(cgroupDir); i++) {
                try {
                    Files.deleteIfExists(cgroupDir);
                } catch (IOException e) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            if (Files.isDirectory(cgroupDir)) {
                out.println("  cleanup: cannot remove the scratch cgroup " + cgroupDir);
            }
        }
        try {
            Files.deleteIfExists(pinBase.resolve(ContainerFiles.EVENTS));
            Files.deleteIfExists(pinBase);
        } catch (IOException e) {
            out.println("  cleanup: " + pinBase + " is not empty: " + e.getMessage());
        }
        try (Stream<Path> s = Files.walk(work)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            out.println("  cleanup: " + work + ": " + e.getMessage());
        }
    }
}
