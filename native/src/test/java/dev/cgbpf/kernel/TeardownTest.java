package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Probe;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Teardown leaves nothing behind: after close, after a probe worker died, after Ctrl-C (SIGINT,
 * the shutdown hook), and after SIGKILL (the next session sweeps what the dead one left).
 */
class TeardownTest {
    private static final int SIGINT = 2;
    private static final int SIGKILL = 9;
    private static final int SIGTERM = 15;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    private record Held(Process process, Map<String, String> made) {
    }

    private static Held hold() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), HoldScenarioMain.class.getName());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        Map<String, String> made = new HashMap<>();
        String line;
        while ((line = r.readLine()) != null && !line.equals("ready")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                made.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        assertEquals("ready", line, "the holder started: " + made);
        return new Held(p, made);
    }

    private static void assertAllGone(Map<String, String> made) throws Exception {
        assertFalse(Files.exists(Path.of(made.get("root"))), "scenario root " + made.get("root"));
        assertFalse(Files.exists(Path.of(made.get("private"))), "private dir " + made.get("private"));
        long worker = Long.parseLong(made.get("worker"));
        assertTrue(worker > 0);
        assertTrue(waitGone(worker), "worker " + worker + " still alive");
        for (String id : made.get("progs").split(",")) {
            assertProgGone(Integer.parseInt(id));
        }
    }

    private static boolean waitGone(long pid) throws InterruptedException {
        for (int i = 0; i < 100 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); i++) {
            Thread.sleep(50);
        }
        return ProcessHandle.of(pid).map(ph -> !ph.isAlive()).orElse(true);
    }

    static void assertProgGone(int id) {
        BpfException e = org.junit.jupiter.api.Assertions.assertThrows(BpfException.class,
                () -> ProgGetFdById.progGetFdById(id).close(), "prog id " + id + " still loaded");
        assertEquals("ENOENT", e.errno());
    }

    @Test
    void ctrlCRunsTheTeardown() throws Exception {
        Held h = hold();
        assertTrue(Files.isDirectory(Path.of(h.made().get("root"), "a", "b")));
        // A shell runs background jobs with SIGINT ignored, and the children inherit that: the JVM
        // then leaves SIGINT alone, as a Ctrl-C could not reach such a job anyway. There the
        // shutdown hook is shown with SIGTERM, the signal that does stop it.
        int signal = sigintIgnored() ? SIGTERM : SIGINT;
        assertEquals(0, LibC.INSTANCE.kill((int) h.process().pid(), signal));
        assertTrue(h.process().waitFor(30, TimeUnit.SECONDS), "exit after signal " + signal);
        assertEquals(128 + signal, h.process().exitValue(), "the JVM's exit status for signal " + signal);
        assertAllGone(h.made());
    }

    /** SigIgn of /proc/self/status: whether this process, and so its children, ignore SIGINT. */
    private static boolean sigintIgnored() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("SigIgn:")) {
                long mask = Long.parseUnsignedLong(line.substring("SigIgn:".length()).strip(), 16);
                return (mask & (1L << (SIGINT - 1))) != 0;
            }
        }
        throw new IllegalStateException("no SigIgn line in /proc/self/status");
    }

    @Test
    void aKilledRunIsSweptByTheNextSession() throws Exception {
        Held h = hold();
        assertEquals(0, LibC.INSTANCE.kill((int) h.process().pid(), SIGKILL));
        assertTrue(h.process().waitFor(30, TimeUnit.SECONDS));
        Path root = Path.of(h.made().get("root"));
        assertTrue(waitGone(Long.parseLong(h.made().get("worker"))), "the worker ends when its runner is gone");
        // SIGKILL cannot be caught: the tree stays until a session sweeps it, this one or (on a busy
        // host) any other session opened meanwhile
        try (KernelBackend next = KernelBackend.openScenario()) {
            assertFalse(Files.exists(root), "swept");
            for (String id : h.made().get("progs").split(",")) {
                assertProgGone(Integer.parseInt(id));
            }
        }
        // its private directory (device nodes) is swept when the next backend makes its own
        try (KernelBackend next = KernelBackend.openScenario()) {
            next.device("", new Probe.DeviceAccess('c', 1, 3, "r"));
            assertFalse(Files.exists(Path.of(h.made().get("private"))), "private dir swept");
        }
    }

    @Test
    void aDeadWorkerIsReplacedAndTheTeardownStillCompletes() throws Exception {
        KernelBackend b = KernelBackend.openScenario();
        Path root;
        List<Long> workers = new ArrayList<>();
        try {
            b.mkdir("x");
            b.attach("x", Progs.device(b, "deny", 0), AttachType.CGROUP_DEVICE, java.util.Set.of(), null);
            assertFalse(b.device("x", new Probe.DeviceAccess('c', 1, 3, "r")));
            workers.add(b.workerPid());
            LibC.INSTANCE.kill((int) b.workerPid(), SIGKILL);
            assertTrue(waitGone(workers.get(0)));
            assertFalse(b.device("x", new Probe.DeviceAccess('c', 1, 3, "r")), "a new worker answers");
            workers.add(b.workerPid());
            root = b.cgroupRoot();
        } finally {
            b.close();
        }
        assertFalse(Files.exists(root));
        for (long w : workers) {
            assertTrue(waitGone(w));
        }
        for (int id : b.loadedProgIds()) {
            assertProgGone(id);
        }
    }
}
