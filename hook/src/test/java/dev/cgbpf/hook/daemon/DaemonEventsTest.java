package dev.cgbpf.hook.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.hook.cli.Console;
import dev.cgbpf.hook.cli.Main;
import dev.cgbpf.hook.compile.DenialRules;
import dev.cgbpf.hook.daemon.Boxes.Box;
import dev.cgbpf.hook.events.LoggedEvent;
import dev.cgbpf.hook.oci.ContainerStatus;
import dev.cgbpf.hook.policy.SocketRule;
import dev.cgbpf.kernel.KernelRequired;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Denial events end to end through a daemon JVM (docs/events.md): container stand-ins attached
 * through the daemon with a policy that denies UDP sockets and binds to foreign addresses; a
 * process in the container's cgroup is refused; the denials log, {@code cgbpf events}, a live
 * follower and the Prometheus endpoint (scraped over loopback) all show exactly those denials;
 * a removed container's series go away; and a flood of 1,000,000 denied opens of /dev/zero for
 * writing keeps the counters exact, the log bounded and every event accounted for (read, dropped
 * or suppressed).
 */
class DaemonEventsTest {
    static final String ANNOTATIONS = "\"dev.cgbpf.devices\": \"deny c 1:5 w\", \"dev.cgbpf.bind-ip\": \"auto\","
            + " \"dev.cgbpf.bind-mode\": \"deny\", \"dev.cgbpf.deny-sockets\": \"udp\"";
    private static final Path FLOOD_SRC = Path.of("src/test/c/denial-probe.c");
    private static final Path FLOOD_BIN = Path.of("target/c/denial-probe");

    private Boxes boxes;
    private Path socket;
    private Path daemonLog;
    private Path denials;
    private int port;
    private DaemonProcess daemon;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @BeforeEach
    void setUp() throws Exception {
        boxes = new Boxes("events");
        socket = boxes.work.resolve("sock").resolve("cgbpf.sock");
        daemonLog = boxes.work.resolve("daemon.log");
        denials = boxes.work.resolve("log").resolve("denials.log");
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        boxes.close();
    }

    private void startDaemon(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--denials-log", denials.toString(), "--metrics",
                "127.0.0.1:" + port));
        args.addAll(List.of(extra));
        daemon = DaemonProcess.start(socket, boxes.env(), daemonLog, args.toArray(String[]::new));
    }

    private Box attached(String name) throws Exception {
        Box b = boxes.box(name, ANNOTATIONS);
        DaemonClient.Answer a = DaemonClient.call(socket, "createRuntime", boxes.env(), Boxes.state(b, true));
        assertEquals(List.of("accepted", "exit 0"), a.lines(), a.toString() + " " + Files.readString(boxes.hookLog));
        return b;
    }

    /** Runs a command in the container's cgroup (the shell moves itself in first); its output. */
    private static String inCgroup(Box b, String... cmd) throws Exception {
        List<String> all = new ArrayList<>(List.of("/bin/sh", "-c", "echo $$ > \"$0\" && exec \"$@\"",
                b.cgroup().resolve("cgroup.procs").toString()));
        all.addAll(List.of(cmd));
        Process p = new ProcessBuilder(all).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private List<String> logLines() throws IOException {
        return Files.exists(denials) ? Files.readAllLines(denials) : List.of();
    }

    private List<String> waitForLines(int n) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> l = logLines();
        while (l.size() < n && System.nanoTime() < end) {
            Thread.sleep(50);
            l = logLines();
        }
        return l;
    }

    private String scrape() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /** The value of the sample {@code series} (name and labels, as printed), or null when absent. */
    private static Double sample(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
            }
        }
        return null;
    }

    /** Runs {@code cgbpf events ARGS} in this JVM; its stdout. */
    private String events(String... args) {
        List<String> argv = new ArrayList<>(List.of("events", "--log", denials.toString()));
        argv.addAll(List.of(args));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(argv.toArray(String[]::new), new Console(new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void eachDenialIsOneEventInTheLogTheCommandTheFollowerAndTheMetrics() throws Exception {
        startDaemon();
        Box b = attached("one");
        Box other = attached("two");
        // a live follower (the events request), reading in the background
        List<String> followed = Collections.synchronizedList(new ArrayList<>());
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        ch.write(ByteBuffer.wrap("cgbpf-hook 1 events\n".getBytes(StandardCharsets.US_ASCII)));
        ch.shutdownOutput();
        BufferedReader fr = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
        assertEquals("accepted", fr.readLine());
        assertTrue(fr.readLine().startsWith("info events log="));
        Thread reader = new Thread(() -> {
            try {
                for (String l; (l = fr.readLine()) != null; ) {
                    if (l.startsWith("event ")) {
                        followed.add(l.substring(6));
                    }
                }
            } catch (IOException e) {
                // closed at the end of the test
            }
        });
        reader.setDaemon(true);
        reader.start();

        String out = inCgroup(b, "/usr/bin/python3", "-c", String.join("\n",
                "import errno, os, socket",
                "print('pid', os.getpid())",
                "def attempt(name, f):",
                "    try:",
                "        f()",
                "        print(name, 'ok')",
                "    except OSError as e:",
                "        print(name, errno.errorcode[e.errno])",
                "attempt('bind', lambda: socket.socket().bind(('127.0.0.1', 4242)))",
                "attempt('udp', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))"));
        Map<String, String> res = new TreeMap<>();
        out.lines().forEach(l -> res.put(l.split(" ")[0], l.substring(l.indexOf(' ') + 1)));
        assertEquals("EPERM", res.get("bind"), out);
        assertEquals("EPERM", res.get("udp"), out);
        int pid = Integer.parseInt(res.get("pid"));

        List<String> lines = waitForLines(2);
        assertEquals(2, lines.size(), String.join("\n", lines));
        List<LoggedEvent> ev = lines.stream().map(l -> LoggedEvent.parse(l).orElseThrow()).toList();
        String address = boxes.status(b.id()).get(0).record().bindAddresses().get(0);
        assertEquals(List.of(
                b.id() + " " + pid + " python3 bind-address " + DenialRules.NOT_OWN_ADDRESS + " bind 127.0.0.1:4242"
                        + " dev.cgbpf.bind-ip " + address + " with dev.cgbpf.bind-mode deny: not the container's address",
                b.id() + " " + pid + " python3 socket " + SocketRule.UDP.ordinal() + " socket inet dgram udp"
                        + " dev.cgbpf.deny-sockets udp"),
                ev.stream().map(e -> e.container() + " " + e.pid() + " " + e.comm() + " " + e.kind() + " " + e.rule() + " "
                        + e.object() + " " + e.ruleText()).toList());
        assertEquals("127.0.0.1", ev.get(0).address());
        assertEquals(4242, ev.get(0).port());
        assertEquals(List.of(2, 2, 17), List.of(ev.get(1).family(), ev.get(1).sockType(), ev.get(1).protocol()));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(denials)));

        // cgbpf events: the same lines, for this container only; the human form
        assertEquals(String.join("\n", lines) + "\n", events(b.id(), "--json"));
        assertEquals("", events(other.id(), "--json"));
        String human = events(b.id());
        assertTrue(human.contains(b.id() + "  pid " + pid + " (python3)  socket inet dgram udp  denied by"
                + " dev.cgbpf.deny-sockets udp"), human);

        // the follower got the same lines
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (followed.size() < 2 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        assertEquals(lines, new ArrayList<>(followed));

        // the metrics: exact counts per container and reason, both containers, the stage histogram
        String m = scrape();
        assertEquals(1.0, sample(m, "cgbpf_denials_total{container=\"" + b.id() + "\",kind=\"bind_address\"}"), m);
        assertEquals(1.0, sample(m, "cgbpf_denials_total{container=\"" + b.id() + "\",kind=\"socket\"}"), m);
        assertEquals(0.0, sample(m, "cgbpf_denials_total{container=\"" + other.id() + "\",kind=\"socket\"}"), m);
        assertEquals(2.0, sample(m, "cgbpf_containers"), m);
        assertEquals(2.0, sample(m, "cgbpf_hook_duration_seconds_count{stage=\"createRuntime\"}"), m);
        assertEquals(0.0, sample(m, "cgbpf_events_dropped_total"), m);
        assertTrue(m.contains("cgbpf_build_info{version=\""), m);

        // a removed container's series go away
        boxes.stop(b);
        DaemonClient.Answer p = DaemonClient.call(socket, "poststop", boxes.env(), Boxes.state(b, false));
        assertEquals(List.of("accepted", "exit 0"), p.lines());
        Thread.sleep(1100);
        String after = scrape();
        assertFalse(after.contains("container=\"" + b.id() + "\""), after);
        assertEquals(1.0, sample(after, "cgbpf_containers"), after);
        assertEquals(1.0, sample(after, "cgbpf_hook_duration_seconds_count{stage=\"poststop\"}"), after);
        ch.close();
    }

    @Test
    void aMillionDeniedDeviceOpensKeepCountersExactTheLogBoundedAndEveryEventAccountedFor() throws Exception {
        Files.createDirectories(FLOOD_BIN.getParent());
        Process gcc = new ProcessBuilder("gcc", "-static", "-O2", "-Wall", "-Werror", "-o", FLOOD_BIN.toString(),
                FLOOD_SRC.toString()).redirectErrorStream(true).start();
        String gccOut = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(gcc.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, gcc.exitValue(), gccOut);
        startDaemon();
        Box b = attached("flood");
        int n = 1_000_000;
        long t0 = System.nanoTime();
        // the container's list (runc's defaults, then the annotation's deny c 1:5 w) refuses each open
        String out = inCgroup(b, FLOOD_BIN.toAbsolutePath().toString(), "flood-open", "/dev/zero", Integer.toString(n));
        double floodSeconds = (System.nanoTime() - t0) / 1e9;
        Matcher mm = Pattern.compile("flood-open eperm (\\d+) other (\\d+)").matcher(out);
        assertTrue(mm.find(), out);
        assertEquals(n, Long.parseLong(mm.group(1)), out);
        // the daemon answers a status request meanwhile (the host stays responsive)
        long s0 = System.nanoTime();
        assertTrue(DaemonProbe.status(socket, java.time.Duration.ofSeconds(5)).answers());
        double statusMillis = (System.nanoTime() - s0) / 1e6;

        // the counters are exact
        ContainerStatus st = boxes.status(b.id()).get(0);
        assertEquals((long) n, st.denials().get("device"), st.text());

        // every event is read or dropped (the ring was full); wait for the reader and a refresh
        double read = 0;
        double dropped = 0;
        String m = "";
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < end) {
            m = scrape();
            read = sample(m, "cgbpf_events_total");
            dropped = sample(m, "cgbpf_events_dropped_total");
            if (read + dropped >= n) {
                break;
            }
            Thread.sleep(500);
        }
        assertEquals((double) n, read + dropped, m);
        assertEquals((double) n, sample(m, "cgbpf_denials_total{container=\"" + b.id() + "\",kind=\"device\"}"), m);

        // the log: bounded by the rate limit; its lines and suppressed counts add up to what was read
        Thread.sleep(11_000); // the last rate window closes with its suppressed line
        List<LoggedEvent> ev = logLines().stream().map(l -> LoggedEvent.parse(l).orElseThrow()).toList();
        long logged = ev.stream().filter(e -> !e.isSuppressed()).count();
        long suppressed = ev.stream().filter(LoggedEvent::isSuppressed).mapToLong(LoggedEvent::suppressed).sum();
        assertEquals((long) read, logged + suppressed, "every event read is logged or counted as suppressed");
        assertTrue(ev.size() <= 200, "bounded log: " + ev.size() + " lines");
        assertEquals((double) suppressed, sample(scrape(), "cgbpf_events_suppressed_total"));
        LoggedEvent first = ev.get(0);
        assertEquals(b.id() + " device open c 1:5 w " + DenialRules.DEVICE_DEFAULT, first.container() + " " + first.kind()
                + " " + first.object() + " " + first.rule(), "the events are the device refusals");
        System.out.printf("flood: %d denied open() in %.2f s (%.0f/s); events read %.0f, dropped %.0f; log %d lines"
                        + " (%d events, %d suppressed); status answered in %.1f ms during the drain%n",
                n, floodSeconds, n / floodSeconds, read, dropped, ev.size(), logged, suppressed, statusMillis);
    }
}
