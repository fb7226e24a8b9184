package dev.cgbpf.hook.daemon;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.hook.oci.ContainerFiles;
import dev.cgbpf.hook.oci.ContainerStatus;
import dev.cgbpf.hook.oci.HookSettings;
import dev.cgbpf.kernel.CgroupDir;
import dev.cgbpf.kernel.CgroupV2Mount;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.ProgQuery;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Container stand-ins for the daemon's tests, as HookRobustnessTest makes them: a fresh cgroup
 * under the v2 mount with a sleeping process in it, and a bundle whose config.json names that
 * cgroup and asks for a device rule and a bind address. With the test's own run directory, pin
 * directory, policy and hook log, so that every check counts only what the test made.
 */
final class Boxes implements AutoCloseable {
    static final String ANNOTATIONS = "\"dev.cgbpf.devices\": \"deny c 1:5 w\", \"dev.cgbpf.bind-ip\": \"auto\"";

    final CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow();
    final Path work;
    final Path runDir;
    final Path pinDir;
    final Path policy;
    final Path hookLog;
    private final String tag;
    private final List<Path> cgroups = new ArrayList<>();
    private final List<Process> sleepers = new ArrayList<>();

    /** A container: its cgroup, the stand-in process, its bundle. */
    record Box(String id, Path cgroup, Process sleeper, Path bundle) {
    }

    Boxes(String tag) throws IOException {
        this.tag = tag + "-" + ProcessHandle.current().pid();
        work = Files.createTempDirectory("cgbpf-" + tag + "-");
        runDir = work.resolve("run");
        pinDir = Path.of("/sys/fs/bpf/cgbpf-" + this.tag);
        policy = work.resolve("policy.json");
        hookLog = work.resolve("hook.log");
        Files.writeString(policy, "{\"network\": {\"bindAddressPool\": [\"127.82.0.0/23\"]}}");
    }

    /** The hook settings of a request (and of the daemon's own environment). */
    Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CGBPF_POLICY", policy.toString());
        env.put("CGBPF_RUN_DIR", runDir.toString());
        env.put("CGBPF_PIN_DIR", pinDir.toString());
        env.put("CGBPF_LOG_FILE", hookLog.toString());
        return env;
    }

    HookSettings settings() {
        return new HookSettings(policy, runDir, pinDir, null, HookSettings.BackendMode.KERNEL,
                HookSettings.AttachMode.LINK, Path.of("/proc"));
    }

    Box box(String name) throws IOException {
        return box(name, ANNOTATIONS);
    }

    /** A container whose config.json has {@code annotations} (the JSON members, without braces). */
    Box box(String name, String annotations) throws IOException {
        String id = tag + "-" + name;
        Path cg = v2.mountPoint().resolve(id);
        Files.createDirectory(cg);
        cgroups.add(cg);
        Process sleeper = new ProcessBuilder("sleep", "900").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        sleepers.add(sleeper);
        Files.writeString(cg.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
        Path bundle = Files.createDirectories(work.resolve("bundles").resolve(id));
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"annotations\": {" + annotations
                + "}, \"linux\": {\"cgroupsPath\": \"/" + id + "\"}}");
        return new Box(id, cg, sleeper, bundle);
    }

    /** The runtime's state for an attach stage (running: with the pid) or for poststop. */
    static byte[] state(Box b, boolean running) {
        return ("{\"ociVersion\": \"1.0.2\", \"id\": \"" + b.id() + "\", \"status\": \"" + (running ? "creating" : "stopped")
                + "\", " + (running ? "\"pid\": " + b.sleeper().pid() + ", " : "") + "\"bundle\": \"" + b.bundle() + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The container stops: its process leaves the cgroup (the runtime kills it; here it moves out). */
    void stop(Box b) throws IOException {
        Files.writeString(v2.mountPoint().resolve("cgroup.procs"), Long.toString(b.sleeper().pid()));
    }

    /** The stand-in goes back into its cgroup (the next cycle of the same container). */
    void restart(Box b) throws IOException {
        Files.writeString(b.cgroup().resolve("cgroup.procs"), Long.toString(b.sleeper().pid()));
    }

    /** Whether a process in {@code cg} may open /dev/zero for writing (the kernel's answer, through a shell). */
    static boolean canWriteDevZero(Path cg) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "echo $$ > " + cg.resolve("cgroup.procs")
                + " && echo x > /dev/zero").redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p.exitValue() == 0;
    }

    /** How many programs the kernel lists as attached to {@code cg} at {@code type}. */
    static int attached(Path cg, AttachType type) throws Exception {
        try (Fd fd = CgroupDir.open(cg)) {
            return ProgQuery.progQuery(fd, type.value(), 0, 64, false).count();
        }
    }

    /** The records of container {@code id} in this run directory, with the kernel's view of their programs. */
    List<ContainerStatus> status(String id) throws Exception {
        return ContainerStatus.find(settings(), id);
    }

    /** The entries of the run directory (lock files aside) and of the pin directory. */
    Set<String> leftovers() throws IOException {
        Set<String> out = new TreeSet<>();
        for (Path dir : List.of(runDir, pinDir)) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    // the host's denial event ring buffer is no container's: it stays after the last one
                    s.map(p -> dir.getFileName() + "/" + p.getFileName()).filter(n -> !n.endsWith("/.lock"))
                            .filter(n -> !n.equals(pinDir.getFileName() + "/" + ContainerFiles.EVENTS))
                            .forEach(out::add);
                }
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            for (Process p : sleepers) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            for (Path cg : cgroups) {
                for (int i = 0; i < 50 && Files.isDirectory(cg); i++) {
                    try {
                        Files.deleteIfExists(cg);
                    } catch (IOException e) {
                        Thread.sleep(100);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (Files.isDirectory(pinDir)) {
            try (Stream<Path> s = Files.walk(pinDir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        try (Stream<Path> s = Files.walk(work)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
