package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.daemon.DaemonProcess;
import dev.cgbpf.hookclient.HookClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The C client {@code cgbpf-hook} (native/target/cgbpf-hook) registered in real runc and crun
 * bundles by {@code cgbpf hook install --path .../cgbpf-hook}, as install.sh's users get it, in
 * both of its modes:
 * <ul>
 * <li>{@link Daemon#UP}: a {@code cgbpf daemon} of this test class answers on its socket and does
 *     the work; the bundles' fallback launcher is a path that does not exist, so a container that
 *     starts enforced was served by the daemon;</li>
 * <li>{@link Daemon#DOWN}: nothing listens at the socket, so every stage takes the fallback: the
 *     client execs the harness's launcher ({@code CGBPF_LAUNCHER}), the JVM hook.</li>
 * </ul>
 * Either way the container must see the policy and leave nothing behind.
 */
class HookClientEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ContainerHarness h;
    private static Path policy;
    private static DaemonProcess daemon;

    /** Whether a daemon answers at the client's socket. */
    enum Daemon {
        UP, DOWN;

        Path socket() {
            return h.work.resolve(this == UP ? "daemon.sock" : "no-daemon.sock");
        }

        /** The launcher the client falls back to: none at all while the daemon is up. */
        Path launcher() {
            return this == UP ? h.work.resolve("no-such-launcher") : h.launcher;
        }
    }

    @BeforeAll
    static void setUp() throws Exception {
        h = ContainerHarness.open("client");
        policy = h.work.resolve("policy.json");
        Files.writeString(policy, "{\"failurePolicy\": \"closed\", \"appliesTo\": \"annotated\"}\n");
        // the hook entry's CGBPF_* settings reach the daemon with each request; its own
        // environment needs nothing of them
        daemon = DaemonProcess.start(Daemon.UP.socket(), Map.of(), h.work.resolve("daemon.log"));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (daemon != null) {
            daemon.terminate(60);
        }
        if (h != null) {
            h.close();
        }
    }

    /** A bundle whose hook is the C client in mode {@code d}. */
    private static Path clientBundle(String id, List<String> args, Map<String, String> annotations, boolean hostNet,
                                     Daemon d) throws IOException {
        Path b = h.bundles.bundle(h.work.resolve("bundles").resolve(id), args, annotations, hostNet);
        h.install(b, policy, HookClient.binary(), h.runDir,
                List.of("CGBPF_SOCKET=" + d.socket(), "CGBPF_LAUNCHER=" + d.launcher()));
        return b;
    }

    static Stream<Arguments> runtimesAndDaemon() {
        List<Arguments> out = new ArrayList<>();
        for (String rt : List.of("runc", "crun")) {
            for (Daemon d : Daemon.values()) {
                out.add(Arguments.of(rt, d));
            }
        }
        return out.stream();
    }

    private static void assertDaemonServed(Daemon d) {
        if (d == Daemon.UP) {
            assertTrue(daemon.process().isAlive(), "the daemon died: " + daemon.logText());
        }
    }

    /** What a test checks of its container's run. */
    private interface Check {
        void of(OciRuntime.Run r) throws Exception;
    }

    /**
     * {@code runtime run} of bundle {@code b} as container {@code id}, printed and checked; the
     * container force-deleted whatever happened; then nothing of it may be left, and a daemon
     * that was up must still be.
     */
    private static void run(String runtime, Daemon d, Path b, String id, Check check) throws Exception {
        OciRuntime rt = h.runtime(runtime);
        Set<String> before = h.files();
        try {
            long t0 = System.nanoTime();
            OciRuntime.Run r = rt.run(b, id);
            System.out.printf("%s run of %s through cgbpf-hook (daemon %s): %.0f ms, exit %d%n%s%s", runtime, id, d,
                    (System.nanoTime() - t0) / 1e6, r.exit(), r.stdout(), r.stderr());
            check.of(r);
        } finally {
            rt.forceDelete(id);
        }
        assertEquals(before, h.files(), "records and pins before and after the container");
        assertEquals(Set.of(), ContainerHarness.stillLoaded(h.progIdsOf(id)),
                "programs the hook attached for " + id + " still in the kernel");
        assertDaemonServed(d);
    }

    @ParameterizedTest(name = "{0}, daemon {1}")
    @MethodSource("runtimesAndDaemon")
    void throughTheClientAWriteToDevZeroIsDeniedAndNothingIsLeft(String name, Daemon d) throws Exception {
        String id = h.newId(name);
        Path b = clientBundle(id, List.of("sh", "-c", String.join("; ",
                "echo x > /dev/zero && echo zero-write-allowed || echo zero-write-denied",
                "echo zero-read $(head -c 4 /dev/zero | wc -c)",
                "echo x > /dev/null && echo null-write-ok")), Map.of("dev.cgbpf.devices", "deny c 1:5 w"), false, d);
        JsonNode hooks = JSON.readTree(b.resolve("config.json").toFile()).get("hooks");
        assertEquals(HookClient.binary().toString(), hooks.at("/createRuntime/0/path").asText(), hooks.toString());
        assertEquals(List.of("cgbpf-hook", "createRuntime"), strings(hooks.at("/createRuntime/0/args")));
        assertEquals(List.of("cgbpf-hook", "poststop"), strings(hooks.at("/poststop/0/args")));
        run(name, d, b, id, r -> {
            assertEquals(0, r.exit(), r.stderr());
            assertTrue(r.stdout().contains("zero-write-denied"), r.stdout());
            assertTrue(r.stdout().contains("zero-read 4"), r.stdout());
            assertTrue(r.stdout().contains("null-write-ok"), r.stdout());
            assertFalse(h.progIdsOf(id).isEmpty(), "the hook log names the programs attached for " + id);
        });
    }

    /**
     * A host-network container with its own bind address: a listener on the wildcard address lands
     * on it (the kernel's tables of TCP sockets, read inside the container, say so: busybox nc
     * listens on {@code [::]}, a dual-stack socket, which the inet6 bind program moves to the
     * v4-mapped form of the address) and its connections to the host come from it.
     */
    @ParameterizedTest(name = "{0}, daemon {1}")
    @MethodSource("runtimesAndDaemon")
    void throughTheClientAListenerLandsOnTheContainersBindAddress(String name, Daemon d) throws Exception {
        String own = "127.0.0." + (31 + (name.equals("runc") ? 0 : 2) + d.ordinal());
        int port = 41000 + (int) (ProcessHandle.current().pid() % 1000) * 4 + (name.equals("runc") ? 0 : 2)
                + d.ordinal();
        String id = h.newId(name);
        try (ServerSocket host = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
            host.setSoTimeout(60_000);
            // /proc/net/tcp{,6} name a socket's address and port in hex; 0A is LISTEN
            Path b = clientBundle(id, List.of("sh", "-c", String.join("; ",
                    "nc -l -p " + port + " </dev/null >/dev/null 2>&1 & sleep 1",
                    "grep -ih ':" + String.format("%04X", port) + " [0:]* 0A' /proc/net/tcp /proc/net/tcp6"
                            + " | while read n local rest; do echo listening $local; done",
                    "kill $!",
                    "echo hello | nc 127.0.0.1 " + host.getLocalPort())), Map.of("dev.cgbpf.bind-ip", own), true, d);
            PeerOfOneConnection peer = new PeerOfOneConnection(host);
            run(name, d, b, id, r -> {
                assertEquals(0, r.exit(), r.stderr());
                byte[] a = InetAddress.getByName(own).getAddress();
                // ::ffff:a.b.c.d as the kernel prints an in6_addr: four 32-bit words, each in host order
                String hex = String.format("0000000000000000FFFF0000%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0],
                        port);
                assertTrue(r.stdout().contains("listening " + hex), "expected a listener at " + hex + " ("
                        + own + ":" + port + "):\n" + r.stdout());
                assertEquals(own, peer.await(60_000), "peer of the container's TCP connect");
            });
        }
    }

    @ParameterizedTest(name = "{0}, daemon {1}")
    @MethodSource("runtimesAndDaemon")
    void throughTheClientARefusedContainerDoesNotStartAndGetsTheHooksLine(String name, Daemon d) throws Exception {
        String id = h.newId(name);
        Path b = clientBundle(id, List.of("sh", "-c", "echo CONTAINER-STARTED"),
                Map.of("dev.cgbpf.devices", "deny c 1:3 w"), false, d);
        String text = "the device policy denies read-write access to /dev/null (c 1:3)";
        run(name, d, b, id, r -> {
            assertNotEquals(0, r.exit());
            assertFalse(r.stdout().contains("CONTAINER-STARTED"), r.stdout());
            if (name.equals("runc")) {
                // the client's (the daemon's line, or after the fallback the JVM's) stderr reaches runc's error
                assertTrue(r.stderr().contains("stderr: cgbpf: hook: " + text), r.stderr());
            }
            List<String> errors = h.hookLogLines(" " + id + " createRuntime: ").stream()
                    .filter(l -> l.contains(" ERROR ")).toList();
            assertEquals(1, errors.size(), errors.toString());
            assertTrue(errors.get(0).contains(text), errors.get(0));
        });
    }

    /**
     * {@code runc run} of the same container through the client with the daemon up, through the
     * client with it down (the fallback) and with the launcher registered directly (median of 3
     * each, printed; {@code cgbpf-tools bench hook} is the measurement, this shows each path runs).
     */
    @Test
    void wallTimeOfRuncRunThroughTheClientAndThroughTheLauncher() throws Exception {
        OciRuntime rt = h.runtime("runc");
        Map<String, List<Double>> ms = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            for (String via : List.of("client, daemon up", "client, daemon down", "launcher")) {
                String id = h.newId("runc");
                List<String> args = List.of("true");
                Map<String, String> ann = Map.of("dev.cgbpf.devices", "deny c 1:5 w");
                Path b = via.equals("launcher") ? h.bundle(id, args, ann, false, policy)
                        : clientBundle(id, args, ann, false, via.endsWith("up") ? Daemon.UP : Daemon.DOWN);
                try {
                    long t0 = System.nanoTime();
                    OciRuntime.Run r = rt.run(b, id);
                    double took = (System.nanoTime() - t0) / 1e6;
                    assertEquals(0, r.exit(), r.stderr());
                    ms.computeIfAbsent(via, k -> new ArrayList<>()).add(took);
                } finally {
                    rt.forceDelete(id);
                }
            }
        }
        StringBuilder line = new StringBuilder("runc run (true), median of 3:");
        ms.forEach((via, xs) -> {
            xs.sort(null);
            line.append(String.format(" %s %.0f ms %s;", via, xs.get(1), xs));
        });
        System.out.println(line);
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asText()));
        return out;
    }
}
