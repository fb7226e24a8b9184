package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.kernel.CgroupDir;
import dev.cgbpf.kernel.CgroupV2Mount;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.ProgQuery;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hook under load and faults on the kernel, without a runtime in between: "containers" are
 * fresh cgroups under the v2 mount, each with a sleeping stand-in process, and the hook runs as
 * the runtime would run it (a JVM per stage, the state on stdin), or in this JVM where only the
 * count of cycles matters. Every check counts only what this test made: its own run and pin
 * directories and cgroups.
 */
class HookRobustnessTest {
    private static CgroupV2Mount v2;
    private static final String ANNOTATIONS = "\"dev.cgbpf.devices\": \"deny c 1:5 w\", \"dev.cgbpf.bind-ip\": \"auto\"";

    private Path work;
    private Path runDir;
    private Path pinDir;
    private Path policy;
    private final List<Path> cgroups = new ArrayList<>();
    private final List<Process> sleepers = new ArrayList<>();

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
        v2 = CgroupV2Mount.discover().orElseThrow();
    }

    @BeforeEach
    void setUp() throws IOException {
        work = Files.createTempDirectory("cgbpf-robust-");
        runDir = work.resolve("run");
        pinDir = Path.of("/sys/fs/bpf/cgbpf-robust-" + ProcessHandle.current().pid());
        policy = work.resolve("policy.json");
        Files.writeString(policy, "{\"network\": {\"bindAddressPool\": [\"127.79.0.0/24\"]}}");
    }

    @AfterEach
    void tearDown() throws Exception {
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
        if (Files.isDirectory(pinDir)) {
            try (Stream<Path> s = Files.walk(pinDir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        try (Stream<Path> s = Files.walk(work)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A container stand-in: a cgroup with a sleeping process in it; its bundle names the cgroup. */
    private record Box(String id, Path cgroup, Process sleeper, Path bundle) {
    }

    private Box box(String id) throws IOException {
        Path cg = v2.mountPoint().resolve(id);
        Files.createDirectory(cg);
        cgroups.add(cg);
        Process sleeper = new ProcessBuilder("sleep", "600").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        sleepers.add(sleeper);
        Files.writeString(cg.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
        Path bundle = Files.createDirectories(work.resolve("bundles").resolve(id));
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"annotations\": {" + ANNOTATIONS
                + "}, \"linux\": {\"cgroupsPath\": \"/" + id + "\"}}");
        return new Box(id, cg, sleeper, bundle);
    }

    private static byte[] state(Box b, boolean running) {
        return ("{\"ociVersion\": \"1.0.2\", \"id\": \"" + b.id + "\", \"status\": \"" + (running ? "creating" : "stopped")
                + "\", " + (running ? "\"pid\": " + b.sleeper.pid() + ", " : "") + "\"bundle\": \"" + b.bundle + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The container stops: its process leaves the cgroup (the runtime kills it; here it moves out). */
    private void stop(Box b) throws IOException {
        Files.writeString(v2.mountPoint().resolve("cgroup.procs"), Long.toString(b.sleeper.pid()));
    }

    /** A hook stage in a JVM of its own, as a runtime runs it. */
    private Process startHook(String stage, byte[] state) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp",
                System.getProperty("java.class.path"), "dev.cgbpf.hook.cli.Main", "hook", stage)
                .redirectErrorStream(true);
        pb.environment().put("CGBPF_POLICY", policy.toString());
        pb.environment().put("CGBPF_RUN_DIR", runDir.toString());
        pb.environment().put("CGBPF_PIN_DIR", pinDir.toString());
        pb.environment().put("CGBPF_LOG_FILE", work.resolve("hook.log").toString());
        Process p = pb.start();
        p.getOutputStream().write(state);
        p.getOutputStream().close();
        return p;
    }

    private static String finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "hook did not finish");
        return out;
    }

    private HookSettings settings() {
        return new HookSettings(policy, runDir, pinDir, null, HookSettings.BackendMode.KERNEL,
                HookSettings.AttachMode.LINK, Path.of("/proc"));
    }

    /** Whether a process in {@code cg} may open /dev/zero for writing (the kernel's answer, through a shell). */
    private static boolean canWriteDevZero(Path cg) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "echo $$ > " + cg.resolve("cgroup.procs")
                + " && echo x > /dev/zero").redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return p.exitValue() == 0;
    }

    private static int attached(Path cg, AttachType type) throws Exception {
        try (Fd fd = CgroupDir.open(cg)) {
            return ProgQuery.progQuery(fd, type.value(), 0, 64, false).count();
        }
    }

    private Set<String> entries(Path dir) throws IOException {
        Set<String> out = new TreeSet<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                // the host's denial event ring buffer (pin root) is no container's: it stays
                s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(RunDir.LOCK))
                        .filter(n -> !n.equals(ContainerFiles.EVENTS)).forEach(out::add);
            }
        }
        return out;
    }

    private void assertNothingLeft() throws IOException {
        assertEquals(Set.of(), entries(runDir), "records left");
        assertEquals(Set.of(), entries(pinDir), "pins left");
    }

    /** 32 containers start at once: every one is enforced, and each has its own bind address. */
    @Test
    void thirtyTwoConcurrentStartsAreAllEnforcedWithDistinctAddresses() throws Exception {
        List<Box> boxes = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            boxes.add(box("cgbpf-conc-" + ProcessHandle.current().pid() + "-" + i));
        }
        List<Process> hooks = new ArrayList<>();
        for (Box b : boxes) {
            hooks.add(startHook("createRuntime", state(b, true)));
        }
        for (int i = 0; i < hooks.size(); i++) {
            String out = finish(hooks.get(i));
            assertEquals(0, hooks.get(i).exitValue(), boxes.get(i).id + ": " + out);
        }
        Set<String> addresses = new HashSet<>();
        for (Box b : boxes) {
            List<ContainerStatus> s = ContainerStatus.find(settings(), b.id);
            assertEquals(1, s.size(), b.id);
            assertEquals(1, s.get(0).record().bindAddresses().size());
            addresses.add(s.get(0).record().bindAddresses().get(0));
            assertEquals(1, attached(b.cgroup, AttachType.CGROUP_DEVICE), b.id);
            assertEquals(1, attached(b.cgroup, AttachType.CGROUP_INET4_BIND), b.id);
            assertTrue(!canWriteDevZero(b.cgroup), b.id + ": /dev/zero is writable");
        }
        assertEquals(32, addresses.size(), "bind addresses: " + addresses);
        List<Process> stops = new ArrayList<>();
        for (Box b : boxes) {
            stop(b);
            stops.add(startHook("poststop", state(b, false)));
        }
        for (Process p : stops) {
            String out = finish(p);
            assertEquals(0, p.exitValue(), out);
        }
        assertNothingLeft();
        for (Box b : boxes) {
            assertEquals(0, attached(b.cgroup, AttachType.CGROUP_DEVICE), b.id);
        }
    }

    /** 300 start/stop cycles of one container leak nothing: no records, pins, programs or fds. */
    @Test
    void threeHundredCyclesLeakNothing() throws Exception {
        Box b = box("cgbpf-cycle-" + ProcessHandle.current().pid());
        OciHook hook = new OciHook(settings(), new HookLog(null));
        long fdsBefore = openFds();
        for (int i = 0; i < 300; i++) {
            Files.writeString(b.cgroup.resolve("cgroup.procs"), Long.toString(b.sleeper.pid()));
            assertEquals(0, hook.run(HookStage.CREATE_RUNTIME, state(b, true)).status());
            if (i % 50 == 0) {
                assertEquals(1, attached(b.cgroup, AttachType.CGROUP_DEVICE));
                assertTrue(!canWriteDevZero(b.cgroup));
            }
            stop(b);
            assertEquals(0, hook.run(HookStage.POSTSTOP, state(b, false)).status());
        }
        assertNothingLeft();
        assertEquals(0, attached(b.cgroup, AttachType.CGROUP_DEVICE));
        assertTrue(canWriteDevZero(b.cgroup), "with the programs gone /dev/zero is writable again");
        assertTrue(openFds() <= fdsBefore + 4, "fds before " + fdsBefore + ", after " + openFds());
    }

    private static long openFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /**
     * A hook killed (SIGKILL) at a random point of its attach: the container then either never
     * started (the runtime saw the hook fail) and its poststop, or the next attach of its cgroup,
     * removes whatever the dead hook made; nothing is left, and a later attach is complete.
     */
    @Test
    void aHookKilledAtAnyPointIsCleanedUpByPoststopOrTheNextAttach() throws Exception {
        Random rnd = new Random(20261207);
        Box b = box("cgbpf-kill-" + ProcessHandle.current().pid());
        // how long one whole attach takes here: the kill points spread over its second half
        long t0 = System.nanoTime();
        Process whole = startHook("createRuntime", state(b, true));
        assertEquals(0, whole.waitFor(120, TimeUnit.SECONDS) ? whole.exitValue() : -1, finish(whole));
        long wholeMs = (System.nanoTime() - t0) / 1_000_000;
        stop(b);
        Process first = startHook("poststop", state(b, false));
        assertEquals(0, first.waitFor(120, TimeUnit.SECONDS) ? first.exitValue() : -1, finish(first));
        int killedMidway = 0;
        for (int i = 0; i < 16; i++) {
            Files.writeString(b.cgroup.resolve("cgroup.procs"), Long.toString(b.sleeper.pid()));
            Process p = startHook("createRuntime", state(b, true));
            if (i % 4 == 3) {
                // a kill point certain to fall inside the attach, whatever the machine's load: just
                // after the first record appears (the kernel objects follow it), plus up to 20 ms
                while (p.isAlive() && entries(runDir).isEmpty()) {
                    Thread.sleep(1);
                }
                Thread.sleep(rnd.nextInt(21));
            } else {
                // the record is written and the programs attached in the last part of a hook's run;
                // the time of a whole run varies with the load, so these points may fall before or after
                Thread.sleep(wholeMs * 7 / 10 + rnd.nextInt((int) Math.max(1, wholeMs * 35 / 100)));
            }
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            if (p.exitValue() != 0 && !entries(runDir).isEmpty()) {
                killedMidway++;
            }
            if (i % 2 == 0) {
                // the runtime gives up on the container: poststop
                stop(b);
                Process post = startHook("poststop", state(b, false));
                String out = finish(post);
                assertEquals(0, post.exitValue(), out);
                assertNothingLeft();
                assertEquals(0, attached(b.cgroup, AttachType.CGROUP_DEVICE));
            } else {
                // the same cgroup is attached again: the leftovers go, the new attach is complete
                long t1 = System.nanoTime();
                Process again = startHook("createRuntime", state(b, true));
                String out = finish(again);
                wholeMs = (System.nanoTime() - t1) / 1_000_000;
                assertEquals(0, again.exitValue(), out);
                assertEquals(1, attached(b.cgroup, AttachType.CGROUP_DEVICE), out);
                assertTrue(!canWriteDevZero(b.cgroup));
                stop(b);
                Process post = startHook("poststop", state(b, false));
                assertEquals(0, post.waitFor(120, TimeUnit.SECONDS) ? post.exitValue() : -1, finish(post));
                assertNothingLeft();
            }
        }
        System.out.println("hooks killed with something already made: " + killedMidway + " of 16 (an attach takes "
                + wholeMs + " ms)");
        assertTrue(killedMidway >= 1, "no kill point reached the attach: " + killedMidway);
    }
}
