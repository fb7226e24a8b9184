package dev.cgbpf.hook.daemon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A {@code cgbpf daemon} in a JVM of its own, started the way an installation runs it (the
 * memory options of docs/daemon.md), with the test's settings in its environment.
 *
 * <p>Whatever of the daemon's own settings the test leaves out is private to this daemon, never the
 * host's: a run directory and a denials log beside its log, and a pin directory of its own (removed
 * when it has exited). With the host's defaults a test daemon would open the host's denial ring
 * (/sys/fs/bpf/cgbpf/cgbpf_events), read the events of the host's containers away from the host's
 * daemon and write them, with its own containers', into /var/log/cgbpf/denials.log.
 */
public final class DaemonProcess implements AutoCloseable {
    /**
     * The launcher options an installation gives the daemon (its memory budget: 64 MB resident):
     * read from config/cgbpf.service, where install.sh reads them too, so the tests measure what
     * is shipped.
     */
    public static final List<String> JAVA_OPTS = unitJavaOpts();

    private static List<String> unitJavaOpts() {
        String prefix = "Environment=\"CGBPF_JAVA_OPTS=";
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path unit = dir.resolve("config").resolve("cgbpf.service");
            if (Files.isRegularFile(unit)) {
                try {
                    for (String line : Files.readAllLines(unit)) {
                        if (line.startsWith(prefix) && line.endsWith("\"")) {
                            List<String> opts = new ArrayList<>(List.of(
                                    line.substring(prefix.length(), line.length() - 1).split(" ")));
                            opts.add("-Xshare:auto");
                            return List.copyOf(opts);
                        }
                    }
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read " + unit + ": " + e.getMessage());
                }
                throw new IllegalStateException(unit + " has no CGBPF_JAVA_OPTS line");
            }
        }
        throw new IllegalStateException("config/cgbpf.service not found above " + Path.of("").toAbsolutePath());
    }

    private static final AtomicInteger STARTED = new AtomicInteger();

    private final Process process;
    private final Path log;
    /** The pin directory this class gave the daemon, or null when the test gave one. */
    private final Path ownPinDir;

    private DaemonProcess(Process process, Path log, Path ownPinDir) {
        this.process = process;
        this.log = log;
        this.ownPinDir = ownPinDir;
    }

    /**
     * The daemon's environment: {@code env} with a private run directory, pin directory and denials
     * log wherever {@code env} and {@code args} name none; {@code ownPinDir} is the pin directory made
     * up here (null when the test gave one).
     */
    private record OwnSettings(Map<String, String> env, Path ownPinDir) {
        static OwnSettings of(Map<String, String> testEnv, List<String> args, Path log) {
            Map<String, String> env = new LinkedHashMap<>(testEnv);
            String base = log.getFileName().toString();
            env.putIfAbsent("CGBPF_RUN_DIR", log.resolveSibling(base + ".run").toString());
            Path pins = null;
            if (!env.containsKey("CGBPF_PIN_DIR")) {
                pins = Path.of("/sys/fs/bpf/cgbpf-testdaemon-" + ProcessHandle.current().pid() + "-"
                        + STARTED.incrementAndGet());
                env.put("CGBPF_PIN_DIR", pins.toString());
            }
            if (!args.contains("--denials-log") && !args.contains("--no-events")) {
                env.putIfAbsent("CGBPF_DENIALS_LOG", log.resolveSibling(base + ".denials").toString());
            }
            return new OwnSettings(env, pins);
        }
    }

    /** Removes the pin directory this class made up, once the daemon has exited. */
    private void removeOwnPins() {
        if (ownPinDir == null || process.isAlive() || !Files.isDirectory(ownPinDir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(ownPinDir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the test daemon's pins " + ownPinDir, e);
        }
    }

    /** The command line of a daemon (or of another cgbpf command, {@code args}) from the test classpath. */
    public static List<String> command(List<String> prefix, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JAVA_OPTS);
        cmd.addAll(List.of("-cp", mainClassPath(), "dev.cgbpf.hook.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * The test's class path without what only the tests use (test classes, JUnit and its
     * companions): what the installed jar holds, so that the daemon loads what it would load there.
     */
    static String mainClassPath() {
        List<String> keep = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            String name = Path.of(e).getFileName().toString();
            if (!e.endsWith("test-classes") && !name.endsWith("-tests.jar") && !name.startsWith("junit-")
                    && !name.startsWith("opentest4j-") && !name.startsWith("apiguardian-")) {
                keep.add(e);
            }
        }
        return String.join(java.io.File.pathSeparator, keep);
    }

    /** Starts a daemon on {@code socket} and waits until it answers; its output goes to {@code log}. */
    public static DaemonProcess start(Path socket, Map<String, String> env, Path log, String... extra)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("daemon", "--socket", socket.toString()));
        args.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(command(List.of(), args.toArray(String[]::new)))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        OwnSettings own = OwnSettings.of(env, args, log);
        pb.environment().putAll(own.env());
        pb.environment().put("MALLOC_ARENA_MAX", "2");
        DaemonProcess d = new DaemonProcess(pb.start(), log, own.ownPinDir());
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < end) {
            if (!d.process.isAlive()) {
                throw new IllegalStateException("the daemon exited with " + d.process.exitValue() + ": " + d.logText());
            }
            DaemonProbe.Result r = DaemonProbe.status(socket, Duration.ofSeconds(5));
            if (r.answers() && r.pid() == d.process.pid()) {
                return d;
            }
            Thread.sleep(20);
        }
        d.kill();
        throw new IllegalStateException("the daemon did not answer within 60 s: " + d.logText());
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** SIGKILL, and wait for it to be gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        removeOwnPins();
    }

    /** SIGTERM; the exit status, or -1 if it did not exit within {@code seconds}. */
    public int terminate(int seconds) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            return -1;
        }
        removeOwnPins();
        return process.exitValue();
    }

    /** VmRSS of /proc/PID/status, in kB. */
    public long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.substring(6).replace("kB", "").strip());
            }
        }
        throw new IOException("no VmRSS for " + pid());
    }

    /** The daemon's open file descriptors. */
    public long fds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid()), "fd"))) {
            return s.count();
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        removeOwnPins();
    }
}
