package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.hook.cli.Console;
import dev.cgbpf.hook.cli.Main;
import dev.cgbpf.hook.compile.DenialRules;
import dev.cgbpf.hook.daemon.DaemonProcess;
import dev.cgbpf.hook.events.LoggedEvent;
import dev.cgbpf.hook.policy.SocketRule;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Denial events under real runc and crun: a container (host network, a host policy that refuses
 * writing /dev/zero, bind-ip with bind-mode deny, UDP sockets denied) whose process opens
 * /dev/zero for writing, binds a foreign address and makes a UDP socket; a daemon reading the
 * events sees exactly those three, with the container's id, its process's host pid (the
 * runtime's --pid-file) and comm, the object and the rule, in its log and in
 * {@code cgbpf events --json}; the metrics scraped over loopback count them.
 */
class EventsEndToEndTest {
    private static ContainerHarness h;
    private static Path policy;
    private static Path denials;
    private static DaemonProcess daemon;
    private static int port;

    @BeforeAll
    static void setUp() throws Exception {
        h = ContainerHarness.open("events");
        policy = h.work.resolve("policy.json");
        Files.writeString(policy, "{\"failurePolicy\": \"closed\", \"appliesTo\": \"annotated\", \"devices\":"
                + " [{\"allow\": false, \"path\": \"/dev/zero\", \"access\": \"w\"}]}\n");
        Path src = Path.of("src/test/c/denial-probe.c");
        Path bin = h.bundles.rootfs().resolve("bin/denial-probe");
        Process gcc = new ProcessBuilder("gcc", "-static", "-O2", "-Wall", "-Werror", "-o", bin.toString(),
                src.toString()).redirectErrorStream(true).start();
        String out = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(gcc.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, gcc.exitValue(), out);
        denials = h.work.resolve("log/denials.log");
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        daemon = DaemonProcess.start(h.work.resolve("sock/cgbpf.sock"), Map.of("CGBPF_RUN_DIR", h.runDir.toString(),
                        "CGBPF_PIN_DIR", h.pinDir.toString()), h.work.resolve("daemon.log"),
                "--denials-log", denials.toString(), "--metrics", "127.0.0.1:" + port);
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

    private static List<LoggedEvent> eventsOf(String id, int n) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            List<LoggedEvent> out = new ArrayList<>();
            if (Files.exists(denials)) {
                for (String l : Files.readAllLines(denials)) {
                    LoggedEvent e = LoggedEvent.parse(l).orElseThrow();
                    if (id.equals(e.container())) {
                        out.add(e);
                    }
                }
            }
            if (out.size() >= n || System.nanoTime() > end) {
                return out;
            }
            Thread.sleep(50);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun"})
    void aContainersDenialsAreItsEventsInTheLogTheCommandAndTheMetrics(String name) throws Exception {
        OciRuntime rt = h.runtime(name);
        String id = h.newId(name);
        String own = "127.0.0." + (name.equals("runc") ? 51 : 52);
        Path b = h.bundle(id, List.of("/bin/denial-probe", "open", "/dev/zero", "bind", "127.0.0.1", "4242", "socket",
                "sleep", "6"), Map.of("dev.cgbpf.bind-ip", own,
                "dev.cgbpf.bind-mode", "deny", "dev.cgbpf.deny-sockets", "udp"), true, policy);
        Path pidFile = h.work.resolve(id + ".pid");
        try {
            // the container's process makes its three denials, then sleeps 6 s: the metrics are scraped meanwhile
            java.util.concurrent.CompletableFuture<OciRuntime.Run> run = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        try {
                            return rt.exec(List.of("run", "--pid-file", pidFile.toString(), "--bundle", b.toString(),
                                    id), 120);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });

            List<LoggedEvent> ev = eventsOf(id, 3);
            int pid = Integer.parseInt(Files.readString(pidFile).strip());
            String m = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            // on failure: the metrics, the events logged so far and the daemon's log (its warnings)
            String seen = m + "\nevents of " + id + ": " + ev + "\ndaemon log:\n"
                    + Files.readString(h.work.resolve("daemon.log"));
            assertTrue(m.contains("cgbpf_denials_total{container=\"" + id + "\",kind=\"bind_address\"} 1.0"), seen);
            assertTrue(m.contains("cgbpf_denials_total{container=\"" + id + "\",kind=\"socket\"} 1.0"), seen);
            assertTrue(m.contains("cgbpf_denials_total{container=\"" + id + "\",kind=\"device\"} 1.0"), seen);
            OciRuntime.Run r = run.get(120, TimeUnit.SECONDS);
            assertEquals(0, r.exit(), r.stdout() + r.stderr());
            assertTrue(r.stdout().contains("open /dev/zero EPERM\nbind EPERM\nsocket EPERM\n"), r.stdout());
            assertEquals(List.of(
                    "device " + DenialRules.DEVICE_HOST + " open c 1:5 w policy.json devices[0] /dev/zero (deny c 1:5 w)",
                    "bind-address " + DenialRules.NOT_OWN_ADDRESS + " bind 127.0.0.1:4242 dev.cgbpf.bind-ip " + own
                            + " with dev.cgbpf.bind-mode deny: not the container's address",
                    "socket " + SocketRule.UDP.ordinal() + " socket inet dgram udp dev.cgbpf.deny-sockets udp"),
                    ev.stream().map(e -> e.kind() + " " + e.rule() + " " + e.object() + " " + e.ruleText()).toList());
            assertEquals(List.of("c", 1L, 5L, "w"), List.of(ev.get(0).devType(), ev.get(0).major(), ev.get(0).minor(),
                    ev.get(0).access()), "the device object's fields");
            for (LoggedEvent e : ev) {
                assertEquals(pid, e.pid(), "the container process's host pid");
                assertEquals("denial-probe", e.comm());
                assertEquals(id, e.container());
            }

            // cgbpf events ID --json: exactly the container's lines
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int rc = Main.run(new String[] {"events", id, "--json", "--log", denials.toString()},
                    new Console(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                            new PrintStream(out, true, StandardCharsets.UTF_8)));
            assertEquals(0, rc, out.toString(StandardCharsets.UTF_8));
            List<String> json = out.toString(StandardCharsets.UTF_8).lines().toList();
            assertEquals(ev, json.stream().map(l -> LoggedEvent.parse(l).orElseThrow()).toList());
            // the human form names the device rule as the host policy file has it
            out.reset();
            assertEquals(0, Main.run(new String[] {"events", id, "--log", denials.toString()},
                    new Console(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                            new PrintStream(out, true, StandardCharsets.UTF_8))));
            String human = out.toString(StandardCharsets.UTF_8);
            assertTrue(human.contains("  " + id + "  pid " + pid + " (denial-probe)  open c 1:5 w  denied by policy.json"
                    + " devices[0] /dev/zero (deny c 1:5 w)\n"), human);

            // the container is gone (runc run ran poststop): its series went with it
            Thread.sleep(1100);
            String after = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(!after.contains("container=\"" + id + "\""), "a removed container has no series:\n" + after);
        } finally {
            rt.forceDelete(id);
        }
    }
}
