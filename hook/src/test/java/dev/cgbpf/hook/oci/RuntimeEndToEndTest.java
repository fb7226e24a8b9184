package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cgbpf.engine.backend.BpfException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The hook under real runc and crun: containers from a busybox-static rootfs built here, with
 * the hook registered by {@code cgbpf hook install} exactly as a user would, running the cgbpf
 * command line in a JVM of its own ({@link ContainerHarness}). Each test checks what the container saw,
 * what the hook printed, and that after the container is gone nothing of it remains: no pins, no
 * record, no cgbpf program in the kernel that was not there before.
 */
class RuntimeEndToEndTest {
    private static ContainerHarness h;
    private static Path policy;

    @BeforeAll
    static void setUp() throws Exception {
        h = ContainerHarness.open("e2e");
        policy = h.work.resolve("policy.json");
        Files.writeString(policy, "{\"failurePolicy\": \"closed\", \"appliesTo\": \"annotated\"}\n");
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (h != null) {
            h.close();
        }
    }

    /** A bundle with the hook installed through the command line. */
    private static Path bundle(String id, List<String> args, Map<String, String> annotations, boolean hostNet)
            throws IOException {
        return h.bundle(id, args, annotations, hostNet, policy);
    }

    /** The names in the test's own run or pin directory (the lock file left out). */
    private static Set<String> entries(Path dir) throws IOException {
        Set<String> out = new TreeSet<>();
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.list(dir)) {
                // the host's denial event ring buffer (pin root) is no container's: it stays
                s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(RunDir.LOCK))
                        .filter(n -> !n.equals(ContainerFiles.EVENTS)).forEach(out::add);
            }
        }
        return out;
    }

    private static void assertNothingLeft(String id, Set<String> recordsBefore, Set<String> pinsBefore)
            throws BpfException, IOException {
        assertEquals(pinsBefore, entries(h.pinDir), "pin directories before and after the container");
        assertEquals(recordsBefore, entries(h.runDir), "records before and after the container");
        // only this container's programs count: other cgbpf containers may come and go meanwhile
        assertEquals(Set.of(), ContainerHarness.stillLoaded(h.progIdsOf(id)),
                "programs the hook attached for " + id + " still in the kernel");
    }

    /**
     * The hook's one line: runc shows the hook's stderr in its own error; crun drops a hook's
     * output unless the annotation run.oci.hooks.stderr names a file, so there the hook log shows it.
     */
    private static void assertHookError(String runtime, OciRuntime.Run r, String id, String text) throws IOException {
        if (runtime.equals("runc")) {
            assertTrue(r.stderr().contains("stderr: cgbpf: hook: " + text), r.stderr());
        }
        List<String> errors = Files.readAllLines(h.hookLog).stream()
                .filter(l -> l.contains(" ERROR " + id + " createRuntime: ")).toList();
        assertEquals(1, errors.size(), "hook log lines for " + id + ": " + errors);
        assertTrue(errors.get(0).contains(text), errors.get(0));
    }

    /** A test's part in its container's life: run it, look at it, stop it. */
    private interface InContainer {
        void test(OciRuntime rt, String id, Path bundle) throws Exception;
    }

    /**
     * One container's life under runtime {@code name}: a bundle with the hook installed, the
     * test's part, the container force-deleted whatever happened, then nothing of it may be left.
     */
    private static void container(String name, List<String> args, Map<String, String> annotations, boolean hostNet,
                                  InContainer part) throws Exception {
        OciRuntime rt = h.runtime(name);
        String id = h.newId(name);
        Path b = bundle(id, args, annotations, hostNet);
        Set<String> records = entries(h.runDir);
        Set<String> pins = entries(h.pinDir);
        try {
            part.test(rt, id, b);
        } finally {
            rt.forceDelete(id);
        }
        assertNothingLeft(id, records, pins);
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun"})
    void aDeviceRuleDeniesWritesToDevZeroWhileReadsAndOtherDevicesWork(String name) throws Exception {
        String script = String.join("; ",
                "echo x > /dev/zero && echo zero-write-allowed || echo zero-write-denied",
                "echo zero-read $(head -c 4 /dev/zero | wc -c)",
                "echo x > /dev/null && echo null-write-ok",
                "echo urandom-read $(head -c 4 /dev/urandom | wc -c)");
        container(name, List.of("sh", "-c", script), Map.of("dev.cgbpf.devices", "deny c 1:5 w"), false,
                (rt, id, b) -> {
                    OciRuntime.Run r = rt.run(b, id);
                    System.out.println(name + " device run: exit " + r.exit() + "\n" + r.stdout() + r.stderr());
                    assertEquals(0, r.exit(), r.stderr());
                    assertTrue(r.stdout().contains("zero-write-denied"), r.stdout());
                    assertTrue(r.stdout().contains("zero-read 4"), r.stdout());
                    assertTrue(r.stdout().contains("null-write-ok"), r.stdout());
                    assertTrue(r.stdout().contains("urandom-read 4"), r.stdout());
                    assertTrue(r.stderr().contains("Operation not permitted"), r.stderr());
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun"})
    void aHostNetworkContainerBindsConnectsAndSendsFromItsOwnAddress(String name) throws Exception {
        String own = name.equals("runc") ? "127.0.0.21" : "127.0.0.22";
        int bindPort = freePort();
        try (ServerSocket tcp = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
             DatagramSocket udp = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            tcp.setSoTimeout(60_000);
            udp.setSoTimeout(60_000);
            String py = String.join("\n",
                    "import socket",
                    "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
                    "s.bind(('0.0.0.0', " + bindPort + ")); s.listen(1)",
                    "print('bind4', s.getsockname()[0], s.getsockname()[1])",
                    "s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)",
                    "s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)",
                    "s6.bind(('::', 0)); s6.listen(1)",
                    "print('bind6', s6.getsockname()[0])",
                    "c = socket.create_connection(('127.0.0.1', " + tcp.getLocalPort() + "))",
                    "print('connect-from', c.getsockname()[0]); c.close()",
                    "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                    "u.sendto(b'cgbpf', ('127.0.0.1', " + udp.getLocalPort() + "))",
                    "print('sent')");
            container(name, List.of("/usr/bin/python3", "-c", py), Map.of("dev.cgbpf.bind-ip", own), true,
                    (rt, id, b) -> {
                        PeerOfOneConnection peer = new PeerOfOneConnection(tcp);
                        OciRuntime.Run r = rt.run(b, id);
                        System.out.println(name + " network run: exit " + r.exit() + "\n" + r.stdout() + r.stderr());
                        assertEquals(0, r.exit(), r.stderr());
                        assertTrue(r.stdout().contains("bind4 " + own + " " + bindPort), r.stdout());
                        assertTrue(r.stdout().contains("bind6 ::ffff:" + own), r.stdout());
                        assertTrue(r.stdout().contains("connect-from " + own), r.stdout());
                        DatagramPacket d = new DatagramPacket(new byte[16], 16);
                        udp.receive(d);
                        assertEquals(own, d.getAddress().getHostAddress(), "source of the container's UDP datagram");
                        assertEquals(own, peer.await(60_000), "peer of the container's TCP connect");
                    });
        }
    }

    /**
     * Containers the hook refuses, per runtime: the annotation that makes it refuse, whether the
     * container shares the host's network, and the hook's one line.
     */
    static Stream<Arguments> refusedContainers() {
        List<Arguments> out = new ArrayList<>();
        for (String runtime : List.of("runc", "crun")) {
            out.add(Arguments.of(runtime, "dev.cgbpf.bind-ip", "10.254.254.254", true,
                    "annotation dev.cgbpf.bind-ip: 10.254.254.254 is not an address of this machine"));
            out.add(Arguments.of(runtime, "dev.cgbpf.devices", "deny c 1:3 w", false,
                    "the device policy denies read-write access to /dev/null (c 1:3)"));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}: {1}={2}")
    @MethodSource("refusedContainers")
    void aContainerTheHookRefusesDoesNotStartAndGetsAClearError(String name, String annotation, String value,
                                                                boolean hostNet, String error) throws Exception {
        container(name, List.of("sh", "-c", "echo CONTAINER-STARTED"), Map.of(annotation, value), hostNet,
                (rt, id, b) -> {
                    OciRuntime.Run r = rt.run(b, id);
                    System.out.println(name + " " + annotation + "=" + value + ": exit " + r.exit() + "\n" + r.stdout()
                            + r.stderr());
                    assertNotEquals(0, r.exit());
                    assertFalse(r.stdout().contains("CONTAINER-STARTED"), r.stdout());
                    assertHookError(name, r, id, error);
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun"})
    void statusShowsTheAttachedProgramsAndCountsDenials(String name) throws Exception {
        container(name, List.of("sh", "-c", "echo > /dev/zero; echo > /dev/zero; echo > /dev/zero; sleep 60"),
                Map.of("dev.cgbpf.devices", "deny c 1:5 w"), false,
                (rt, id, b) -> {
                    OciRuntime.Run r = rt.exec(List.of("run", "--detach", "--bundle", b.toString(), id), 120);
                    assertEquals(0, r.exit(), r.stderr());
                    HookSettings settings = new HookSettings(policy, h.runDir, h.pinDir, null,
                            HookSettings.BackendMode.KERNEL, HookSettings.AttachMode.LINK, Path.of("/proc"));
                    ContainerStatus s = null;
                    for (int i = 0; i < 100; i++) {
                        s = ContainerStatus.find(settings, id).get(0);
                        if (s.denials().getOrDefault("device", 0L) >= 3) {
                            break;
                        }
                        Thread.sleep(100);
                    }
                    System.out.println(s.text());
                    assertEquals(3L, s.denials().get("device"), s.text());
                    assertEquals(0L, s.denials().get("socket"), s.text());
                    assertTrue(s.cgroupExists());
                    assertEquals(Map.of("cgbpf_dev", true), s.attached(), s.text());
                    assertTrue(s.text().contains("cgbpf_dev    cgroup_device"), s.text());
                    // the command line, as an operator runs it: cgbpf status --json ID
                    ProcessBuilder pb = new ProcessBuilder(h.launcher.toString(), "status", "--json", id)
                            .redirectError(ProcessBuilder.Redirect.INHERIT);
                    pb.environment().put("CGBPF_RUN_DIR", h.runDir.toString());
                    pb.environment().put("CGBPF_PIN_DIR", h.pinDir.toString());
                    Process p = pb.start();
                    String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
                    assertEquals(0, p.exitValue(), json);
                    JsonNode j = new ObjectMapper().readTree(json);
                    assertEquals(id, j.get("id").asText(), json);
                    assertEquals("kernel", j.get("backend").asText(), json);
                    assertEquals(3, j.at("/denials/device").asLong(), json);
                    assertEquals(0, j.at("/denials/socket").asLong(), json);
                    assertEquals(1, j.get("programs").size(), json);
                    assertEquals("cgbpf_dev", j.at("/programs/0/name").asText(), json);
                    assertEquals("cgroup_device", j.at("/programs/0/attachType").asText(), json);
                    assertTrue(j.at("/programs/0/attached").asBoolean(), json);
                    assertEquals(s.record().programs().get(0).progId(), j.at("/programs/0/progId").asInt(), json);
                    r = rt.exec(List.of("kill", id, "KILL"), 30);
                    assertEquals(0, r.exit(), r.stderr());
                    for (int i = 0; i < 100; i++) {
                        OciRuntime.Run st = rt.exec(List.of("state", id), 30);
                        if (st.stdout().contains("\"stopped\"")) {
                            break;
                        }
                        Thread.sleep(100);
                    }
                    r = rt.exec(List.of("delete", id), 60);
                    assertEquals(0, r.exit(), r.stderr());
                });
    }

    /**
     * cgbpf update on a running container: one call changes what the next process in it may
     * open, in both directions (zero allowed, then, the update replaced, zero and full denied).
     */
    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun"})
    void anUpdateChangesARunningContainersDevicesInOneCall(String name) throws Exception {
        container(name, List.of("sleep", "60"), Map.of("dev.cgbpf.devices", "deny c 1:5 rw"), false,
                (rt, id, b) -> {
                    OciRuntime.Run r = rt.exec(List.of("run", "--detach", "--bundle", b.toString(), id), 120);
                    assertEquals(0, r.exit(), r.stderr());
                    String reads = "echo zero $(head -c 4 /dev/zero | wc -c) full $(head -c 4 /dev/full | wc -c)";
                    assertEquals("zero 0 full 4", inside(rt, id, reads));
                    assertEquals("", update(id, "allow c 1:5 rw"));
                    assertEquals("zero 4 full 4", inside(rt, id, reads));
                    assertEquals("", update(id, "deny c 1:7 rw"));
                    assertEquals("zero 0 full 0", inside(rt, id, reads));
                    r = rt.exec(List.of("kill", id, "KILL"), 30);
                    assertEquals(0, r.exit(), r.stderr());
                    for (int i = 0; i < 100; i++) {
                        if (rt.exec(List.of("state", id), 30).stdout().contains("\"stopped\"")) {
                            break;
                        }
                        Thread.sleep(100);
                    }
                    r = rt.exec(List.of("delete", id), 60);
                    assertEquals(0, r.exit(), r.stderr());
                });
    }

    /** A shell line run by the runtime in the running container; its stdout, stripped. */
    private static String inside(OciRuntime rt, String id, String line) throws Exception {
        OciRuntime.Run r = rt.exec(List.of("exec", id, "sh", "-c", line), 60);
        assertEquals(0, r.exit(), r.stderr());
        return r.stdout().strip();
    }

    /** {@code cgbpf update ID --devices RULES} as an operator runs it; its stderr (warnings). */
    private static String update(String id, String rules) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(h.launcher.toString(), "update", id, "--devices", rules);
        pb.environment().put("CGBPF_RUN_DIR", h.runDir.toString());
        pb.environment().put("CGBPF_PIN_DIR", h.pinDir.toString());
        pb.environment().put("CGBPF_POLICY", policy.toString());
        pb.environment().put("CGBPF_LOG_FILE", h.hookLog.toString());
        // this process does the update, whatever daemon the host runs (DaemonTest covers the daemon's)
        pb.environment().put("CGBPF_SOCKET", h.work.resolve("no-daemon.sock").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out + err);
        assertTrue(out.startsWith("container " + id + ": devices updated (program "), out);
        return err.strip();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }
}
