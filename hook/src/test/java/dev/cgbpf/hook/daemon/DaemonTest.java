package dev.cgbpf.hook.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.hook.daemon.Boxes.Box;
import dev.cgbpf.hook.daemon.DaemonClient.Answer;
import dev.cgbpf.hook.oci.AttachRecord;
import dev.cgbpf.hook.oci.ContainerStatus;
import dev.cgbpf.kernel.KernelRequired;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code cgbpf daemon} on the kernel: a daemon in a JVM of its own (the installed memory
 * options), the protocol spoken by {@link DaemonClient} as the C client speaks it, and
 * containers stood in for by fresh cgroups with a sleeping process ({@link Boxes}). Every leak
 * check counts only what the test made: its run and pin directories and its cgroups.
 */
class DaemonTest {
    private static final List<String> OK = List.of("accepted", "exit 0");

    private Boxes boxes;
    private Path socket;
    private Path daemonLog;
    private final List<DaemonProcess> daemons = new ArrayList<>();

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @BeforeEach
    void setUp() throws IOException {
        boxes = new Boxes("daemon");
        socket = boxes.work.resolve("sock").resolve("cgbpf.sock");
        daemonLog = boxes.work.resolve("daemon.log");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (DaemonProcess d : daemons) {
            d.close();
        }
        boxes.close();
    }

    private DaemonProcess daemon(String... extra) throws Exception {
        DaemonProcess d = DaemonProcess.start(socket, boxes.env(), daemonLog, extra);
        daemons.add(d);
        return d;
    }

    private Answer call(String stage, byte[] state) {
        return DaemonClient.call(socket, stage, boxes.env(), state);
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    private static void assertEnforced(Box b) throws Exception {
        assertEquals(1, Boxes.attached(b.cgroup(), AttachType.CGROUP_DEVICE), b.id());
        assertEquals(1, Boxes.attached(b.cgroup(), AttachType.CGROUP_INET4_BIND), b.id());
        assertFalse(Boxes.canWriteDevZero(b.cgroup()), b.id() + ": /dev/zero is writable");
    }

    private void assertNothingLeft(List<Box> bs) throws Exception {
        assertEquals(Set.of(), boxes.leftovers(), "records or pins left");
        for (Box b : bs) {
            assertEquals(0, Boxes.attached(b.cgroup(), AttachType.CGROUP_DEVICE), b.id());
            assertEquals(0, Boxes.attached(b.cgroup(), AttachType.CGROUP_INET4_BIND), b.id());
        }
    }

    /** Every program of every record of {@code b} is attached, and no record is half done. */
    private void assertComplete(Box b) throws Exception {
        List<ContainerStatus> st = boxes.status(b.id());
        for (ContainerStatus s : st) {
            assertEquals(AttachRecord.ATTACHED, s.record().status(), b.id() + ": " + s.text());
            assertFalse(s.record().programs().isEmpty(), s.text());
            assertTrue(s.attached().values().stream().allMatch(v -> v), s.text());
        }
    }

    @Test
    void createRuntimeAndPoststopThroughTheDaemonAttachAndRemove() throws Exception {
        daemon();
        assertEquals("rw-------", mode(socket));
        assertEquals("rwx------", mode(socket.getParent()));
        Box b = boxes.box("one");
        assertTrue(Boxes.canWriteDevZero(b.cgroup()));
        Answer a = call("createRuntime", Boxes.state(b, true));
        assertEquals(OK, a.lines(), a.toString());
        assertEnforced(b);
        assertComplete(b);
        // a second attach stage (a bundle with prestart too) finds everything in place
        assertEquals(OK, call("prestart", Boxes.state(b, true)).lines());
        assertEquals(1, Boxes.attached(b.cgroup(), AttachType.CGROUP_DEVICE));
        boxes.stop(b);
        Answer p = call("poststop", Boxes.state(b, false));
        assertEquals(OK, p.lines(), p.toString());
        assertNothingLeft(List.of(b));
        assertTrue(Boxes.canWriteDevZero(b.cgroup()), "with the programs gone /dev/zero is writable again");
        String hookLog = Files.readString(boxes.hookLog);
        assertTrue(hookLog.contains(b.id() + " createRuntime: attached"), hookLog);
        assertTrue(hookLog.contains(b.id() + " poststop: removed"), hookLog);
    }

    /** {@code cgbpf hook STAGE} in a JVM of its own, as a runtime runs it: exit status and stderr's cgbpf lines. */
    private record CliResult(int status, List<String> lines) {
    }

    private CliResult cli(String stage, Map<String, String> env, byte[] state) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(DaemonProcess.command(List.of(), "hook", stage));
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().write(state);
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals("", out);
        return new CliResult(p.exitValue(), err.lines().filter(l -> l.startsWith("cgbpf: ")).toList());
    }

    /** The daemon answers with the exit status and the very lines the JVM hook prints. */
    @Test
    void theDaemonAnswersWithTheStatusAndLinesOfTheHook() throws Exception {
        daemon();
        Box b = boxes.box("same");
        byte[] noPid = ("{\"ociVersion\": \"1.0.2\", \"id\": \"" + b.id() + "\", \"status\": \"creating\", \"bundle\": \""
                + b.bundle() + "\"}").getBytes(StandardCharsets.UTF_8);
        record Case(String stage, Map<String, String> env, byte[] state) {
        }
        Map<String, String> bogus = new LinkedHashMap<>(boxes.env());
        bogus.put("CGBPF_BACKEND", "bogus");
        List<Case> cases = List.of(
                new Case("createRuntime", boxes.env(), "{\"ociVersion\": 1}".getBytes(StandardCharsets.UTF_8)),
                new Case("createRuntime", boxes.env(), noPid),
                new Case("poststart", boxes.env(), Boxes.state(b, true)),
                new Case("createRuntime", bogus, Boxes.state(b, true)),
                new Case("poststop", boxes.env(), Boxes.state(b, false)));
        for (Case c : cases) {
            CliResult cli = cli(c.stage, c.env, c.state);
            Answer a = DaemonClient.call(socket, c.stage, c.env, c.state);
            assertEquals(cli.status, a.exit(), c.stage + ": " + a + " vs " + cli);
            assertEquals(cli.lines, a.lines().stream().filter(l -> l.startsWith("error ") || l.startsWith("warning "))
                    .map(l -> l.substring(l.indexOf(' ') + 1)).toList(), a.toString());
        }
        assertEquals(Set.of(), boxes.leftovers());
        // a dry run: exit 0 with the hook's warning (which names the container, so two of them are compared)
        Box other = boxes.box("same2");
        Map<String, String> dry = new LinkedHashMap<>(boxes.env());
        dry.put("CGBPF_BACKEND", "dry-run");
        CliResult cli = cli("createRuntime", dry, Boxes.state(other, true));
        Answer a = DaemonClient.call(socket, "createRuntime", dry, Boxes.state(b, true));
        assertEquals(0, cli.status);
        assertEquals(1, cli.lines.size(), cli.toString());
        assertEquals(List.of("accepted", "warning " + normalize(cli.lines.get(0).replace(other.id(), b.id())), "exit 0"),
                a.lines().stream().map(DaemonTest::normalize).toList());
        assertEquals(0, Boxes.attached(b.cgroup(), AttachType.CGROUP_DEVICE), "a dry run attaches nothing");
        boxes.stop(b);
        boxes.stop(other);
        assertEquals(OK, call("poststop", Boxes.state(b, false)).lines());
        assertEquals(0, cli("poststop", boxes.env(), Boxes.state(other, false)).status);
        assertEquals(Set.of(), boxes.leftovers());
    }

    /** The dry-run warning names the record file (under the cgroup id): made comparable. */
    private static String normalize(String line) {
        return line.replaceAll("/run/[0-9]+/", "/run/N/");
    }

    @Test
    void malformedRequestsGetOneErrorLineAndExitTwo() throws Exception {
        daemon("--read-timeout", "2");
        String big = "a".repeat(Protocol.MAX_LINE + 10);
        List<byte[]> bad = new ArrayList<>();
        for (String s : List.of("", "\n", "GET / HTTP/1.0\r\n\r\n", "cgbpf-hook 2 createRuntime\nstate 2\n{}",
                "cgbpf-hook 1\n", "cgbpf-hook 1 createRuntime extra\n", "cgbpf-hook 1 createRuntime\n",
                "cgbpf-hook 1 createRuntime\nenv NOEQUALS\nstate 2\n{}", "cgbpf-hook 1 createRuntime\nenv =x\n",
                "cgbpf-hook 1 createRuntime\nbogus line\nstate 2\n{}", "cgbpf-hook 1 createRuntime\nstate -1\n",
                "cgbpf-hook 1 createRuntime\nstate 12x\n", "cgbpf-hook 1 createRuntime\nstate 012\n",
                "cgbpf-hook 1 createRuntime\nstate 99999999999\n", "cgbpf-hook 1 createRuntime\nstate 10\n{}",
                "cgbpf-hook 1 poststop\nstate 2\n{}{}", "cgbpf-hook 1 poststop\r\nstate 2\n{}",
                "cgbpf-hook 1 createRuntime\nenv CGBPF_RUN_DIR=" + big + "\nstate 2\n{}",
                "cgbpf-hook 1 status\nstate 2\n{}", "cgbpf-hook 1 status\nstatus\n", "cgbpf-hook 1 poststop\nstate 2")) {
            bad.add(s.getBytes(StandardCharsets.UTF_8));
        }
        bad.add(new byte[] {'c', 'g', (byte) 0xff, (byte) 0xfe, '\n'});
        for (byte[] req : bad) {
            String shown = new String(req, StandardCharsets.UTF_8);
            shown = shown.substring(0, Math.min(60, shown.length()));
            Answer a = DaemonClient.raw(socket, req, true);
            assertEquals(2, a.lines().size(), shown + ": " + a);
            assertTrue(a.lines().get(0).startsWith("error cgbpf: daemon: request: "), shown + ": " + a);
            assertEquals("exit 2", a.lines().get(1), shown + ": " + a);
        }
        // a client that never shuts down its write side gets an answer at the read timeout
        Answer late = DaemonClient.raw(socket, "cgbpf-hook 1 poststop\nstate 2\n{}".getBytes(StandardCharsets.UTF_8),
                false);
        assertEquals(List.of("error cgbpf: daemon: request: not complete in time (the client must shut down its"
                + " write side after the state)", "exit 2"), late.lines());
        assertTrue(late.totalNanos() >= TimeUnit.MILLISECONDS.toNanos(1900), "" + late.totalNanos());
        // other keys are ignored, a status request is answered, and nothing was made for any of it
        Answer st = DaemonClient.raw(socket, "cgbpf-hook 1 status\nenv PATH=/bin\nenv FOO=bar=baz\n"
                .getBytes(StandardCharsets.UTF_8), true);
        assertEquals("accepted", st.lines().get(0), st.toString());
        assertTrue(st.lines().get(1).startsWith("info daemon pid="), st.toString());
        assertEquals("exit 0", st.lines().get(st.lines().size() - 1));
        assertEquals(Set.of(), boxes.leftovers());
    }

    /**
     * {@code cgbpf update} served by the daemon: the request changes a running container's device
     * rules both ways, a bad one is one error line, and the command line sends it there when a
     * daemon answers (the daemon's log shows it did the work).
     */
    @Test
    void anUpdateThroughTheDaemonChangesTheDevicesOfARunningContainer() throws Exception {
        DaemonProcess d = daemon();
        Box b = boxes.box("upd");
        assertEquals(OK, call("createRuntime", Boxes.state(b, true)).lines());
        assertFalse(Boxes.canWriteDevZero(b.cgroup()));
        Answer a = call(Protocol.UPDATE, (b.id() + "\nallow c 1:5 rwm").getBytes(StandardCharsets.UTF_8));
        assertEquals(3, a.lines().size(), a.toString());
        assertTrue(a.lines().get(1).startsWith("info container " + b.id() + ": devices updated (program "), a.toString());
        assertEquals("exit 0", a.lines().get(2), a.toString());
        assertTrue(Boxes.canWriteDevZero(b.cgroup()), "the update allowed /dev/zero");
        Answer bad = call(Protocol.UPDATE, ("nosuch\nallow c 1:5 rwm").getBytes(StandardCharsets.UTF_8));
        assertEquals(3, bad.lines().size(), bad.toString());
        assertTrue(bad.lines().get(1).startsWith("error cgbpf: update: "), bad.toString());
        assertEquals("exit 1", bad.lines().get(2), bad.toString());
        Answer malformed = call(Protocol.UPDATE, "no newline".getBytes(StandardCharsets.UTF_8));
        assertEquals("exit 1", malformed.lines().get(malformed.lines().size() - 1), malformed.toString());
        // the command line, with the daemon's socket in its environment
        ProcessBuilder pb = new ProcessBuilder(DaemonProcess.command(List.of(), "update", b.id(), "--devices",
                "deny c 1:5 w"));
        pb.environment().putAll(boxes.env());
        pb.environment().put("CGBPF_SOCKET", socket.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out + err);
        assertTrue(out.startsWith("container " + b.id() + ": devices updated (program "), out + err);
        assertFalse(Boxes.canWriteDevZero(b.cgroup()), "the second update denied /dev/zero again");
        assertEquals(2, d.logText().lines().filter(l -> l.contains("update " + b.id() + ": ")).count(), d.logText());
        assertEquals(2, boxes.status(b.id()).get(0).record().deviceUpdate().count());
        boxes.stop(b);
        assertEquals(OK, call("poststop", Boxes.state(b, false)).lines());
        assertNothingLeft(List.of(b));
    }

    /** A client that is not root is refused, and gets nowhere without the test loosening the socket's mode. */
    @Test
    void aClientThatIsNotRootIsRefused() throws Exception {
        DaemonProcess d = daemon();
        Box b = boxes.box("nonroot");
        String state = new String(Boxes.state(b, true), StandardCharsets.UTF_8);
        List<String> nobody = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xshare:auto", "-cp",
                Path.of("target", "test-classes").toAbsolutePath().toString(), DaemonClient.class.getName(),
                socket.toString(), "createRuntime", state));
        // as installed: the directory 0700 and the socket 0600 keep everybody but root out
        List<String> out = run(nobody);
        assertEquals(1, out.size(), out.toString());
        assertTrue(out.get(0).startsWith("failure: connect: ") && out.get(0).contains("ermission denied"), out.toString());
        // made reachable on purpose: the daemon itself refuses by the peer's uid (SO_PEERCRED)
        Files.setPosixFilePermissions(boxes.work, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        out = run(nobody);
        assertEquals(Protocol.REFUSED, out.get(0), out.toString());
        // the daemon closes right after its line: the client's rest of the request or its read of
        // more may then fail (EPIPE, ECONNRESET), a race that does not change what it was told
        assertTrue(out.size() == 1 || out.size() == 2 && (out.get(1).startsWith("failure: read")
                || out.get(1).startsWith("failure: write")), out.toString());
        assertEquals(0, Boxes.attached(b.cgroup(), AttachType.CGROUP_DEVICE));
        assertEquals(Set.of(), boxes.leftovers());
        assertTrue(d.logText().contains("refused a connection from user nobody"), d.logText());
        // root still is served
        assertEquals(OK, call("createRuntime", Boxes.state(b, true)).lines());
        boxes.stop(b);
        assertEquals(OK, call("poststop", Boxes.state(b, false)).lines());
        assertNothingLeft(List.of(b));
    }

    private static List<String> run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    /** Calls {@code stage} for every box at once; the answers in the boxes' order. */
    private List<Answer> concurrently(List<Box> bs, String stage, boolean running) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(bs.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Answer>> fs = new ArrayList<>();
            for (Box b : bs) {
                fs.add(pool.submit(() -> {
                    go.await();
                    return call(stage, Boxes.state(b, running));
                }));
            }
            go.countDown();
            List<Answer> out = new ArrayList<>();
            for (Future<Answer> f : fs) {
                out.add(f.get(120, TimeUnit.SECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void thirtyTwoConcurrentStartsAreAllServedAndEnforced() throws Exception {
        daemon();
        List<Box> bs = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            bs.add(boxes.box("c" + i));
        }
        List<Answer> answers = concurrently(bs, "createRuntime", true);
        long maxAccepted = 0;
        long maxTotal = 0;
        for (int i = 0; i < bs.size(); i++) {
            Answer a = answers.get(i);
            assertEquals(OK, a.lines(), bs.get(i).id() + ": " + a);
            assertTrue(a.totalNanos() < TimeUnit.SECONDS.toNanos(60), a.totalNanos() + " ns");
            maxAccepted = Math.max(maxAccepted, a.acceptedNanos());
            maxTotal = Math.max(maxTotal, a.totalNanos());
        }
        Set<String> addresses = new HashSet<>();
        for (Box b : bs) {
            assertEnforced(b);
            assertComplete(b);
            List<ContainerStatus> s = boxes.status(b.id());
            assertEquals(1, s.size());
            addresses.addAll(s.get(0).record().bindAddresses());
        }
        assertEquals(32, addresses.size(), "bind addresses: " + addresses);
        for (Box b : bs) {
            boxes.stop(b);
        }
        for (Answer a : concurrently(bs, "poststop", false)) {
            assertEquals(OK, a.lines(), a.toString());
        }
        assertNothingLeft(bs);
        System.out.printf("32 concurrent createRuntime through the daemon: all accepted within %d ms, all done within"
                + " %d ms%n", maxAccepted / 1_000_000, maxTotal / 1_000_000);
    }

    /**
     * 1,000 container cycles of warm-up and 1,000 more (or {@code -Dcgbpf.daemon.cycles=N}, e.g.
     * 10,000 for the longer run) with VmRSS sampled every 50 throughout: at most 64 MB at
     * every sample, and no growth after the warm-up. The warm-up is where C1 compiles the stage path
     * (into a code cache capped at 5 MB by the daemon's options): a step of ~2 MB somewhere in the
     * first ~800 cycles is that, not a leak.
     */
    @Test
    void aThousandCyclesKeepTheDaemonSmall() throws Exception {
        int cycles = Integer.getInteger("cgbpf.daemon.cycles", 1000);
        assertTrue(cycles >= 1000 && cycles % 50 == 0, "cgbpf.daemon.cycles: a multiple of 50, at least 1000");
        DaemonProcess d = daemon();
        Box b = boxes.box("cycle");
        List<Long> create = new ArrayList<>();
        List<Long> post = new ArrayList<>();
        List<Long> rss = new ArrayList<>();
        List<Long> warmUpRss = new ArrayList<>();
        long fdsBefore = 0;
        int warmUp = 1000;
        for (int i = 0; i < warmUp + cycles; i++) {
            if (i == warmUp) {
                fdsBefore = d.fds();
            }
            if (i % 50 == 0) {
                (i >= warmUp ? rss : warmUpRss).add(d.rssKb());
            }
            boxes.restart(b);
            Answer a = call("createRuntime", Boxes.state(b, true));
            assertEquals(OK, a.lines(), "cycle " + i + ": " + a);
            if (i % 200 == 0) {
                assertEnforced(b);
            }
            boxes.stop(b);
            Answer p = call("poststop", Boxes.state(b, false));
            assertEquals(OK, p.lines(), "cycle " + i + ": " + p);
            if (i >= warmUp) {
                create.add(a.totalNanos());
                post.add(p.totalNanos());
            }
        }
        rss.add(d.rssKb());
        assertNothingLeft(List.of(b));
        long fdsAfter = d.fds();
        System.out.println("daemon class path: " + DaemonProcess.mainClassPath());
        System.out.println("daemon VmRSS (kB) every 50 of " + warmUp + " warm-up cycles: " + warmUpRss);
        System.out.println("daemon VmRSS (kB) every 50 of " + cycles + " cycles after them: " + rss);
        System.out.printf("per request through the daemon: createRuntime median %.2f ms, p99 %.2f ms; poststop median"
                + " %.2f ms, p99 %.2f ms; fds %d -> %d%n", pct(create, 50), pct(create, 99), pct(post, 50),
                pct(post, 99), fdsBefore, fdsAfter);
        long max = Math.max(rss.stream().mapToLong(Long::longValue).max().orElseThrow(),
                warmUpRss.stream().mapToLong(Long::longValue).max().orElseThrow());
        assertTrue(max <= 64 * 1024, "VmRSS up to " + max + " kB: " + warmUpRss + " then " + rss);
        // no growth: the last quarter of the run is no larger than the second quarter (plus a
        // little for a heap that settles), and no fd is kept
        int q = rss.size() / 4;
        double second = rss.subList(q, 2 * q).stream().mapToLong(Long::longValue).average().orElseThrow();
        double last = rss.subList(rss.size() - q, rss.size()).stream().mapToLong(Long::longValue).average()
                .orElseThrow();
        assertTrue(last <= second + 2048, "VmRSS grows: " + rss);
        assertTrue(fdsAfter <= fdsBefore + 2, "fds " + fdsBefore + " -> " + fdsAfter);
    }

    private static double pct(List<Long> nanos, int p) {
        long[] s = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)] / 1e6;
    }

    /**
     * The daemon SIGKILLed at random points during 100 container starts: each container either
     * got all its programs (exit 0) or its request failed; a request that failed before
     * {@code accepted} made nothing; after the restart nothing half done is left (the restarted
     * daemon undoes the half-done attaches of containers the runtime gave up), and poststop
     * through the new daemon removes the rest.
     */
    @Test
    void aDaemonKilledAtRandomPointsLeavesNothingHalfDone() throws Exception {
        Random rnd = new Random(20261207);
        DaemonProcess d = daemon();
        int perRound = 5;
        // how long a round of starts takes here: the kill points spread over it
        List<Box> calib = new ArrayList<>();
        for (int i = 0; i < perRound; i++) {
            calib.add(boxes.box("k-cal" + i));
        }
        // (every round runs on a freshly started daemon, as this one: class loading included)
        long t0 = System.nanoTime();
        for (Answer a : concurrently(calib, "createRuntime", true)) {
            assertEquals(OK, a.lines());
        }
        long roundMs = Math.max(5, (System.nanoTime() - t0) / 1_000_000);
        for (Box b : calib) {
            boxes.stop(b);
            assertEquals(OK, call("poststop", Boxes.state(b, false)).lines());
        }
        int ok = 0;
        int failedBefore = 0;
        int failedAfter = 0;
        int halfDone = 0;
        ExecutorService pool = Executors.newFixedThreadPool(perRound);
        try {
            for (int round = 0; round < 100 / perRound; round++) {
                List<Box> bs = new ArrayList<>();
                for (int i = 0; i < perRound; i++) {
                    bs.add(boxes.box("k" + round + "-" + i));
                }
                List<Future<Answer>> fs = new ArrayList<>();
                for (Box b : bs) {
                    fs.add(pool.submit(() -> call("createRuntime", Boxes.state(b, true))));
                }
                // a quarter of the kills early, while requests are being read; the rest anywhere in the round
                Thread.sleep(rnd.nextInt(4) == 0 ? rnd.nextInt(30) : rnd.nextInt((int) (roundMs * 5 / 4) + 1));
                d.kill();
                List<Box> failed = new ArrayList<>();
                for (int i = 0; i < perRound; i++) {
                    Box b = bs.get(i);
                    Answer a = fs.get(i).get(120, TimeUnit.SECONDS);
                    if (Integer.valueOf(0).equals(a.exit())) {
                        ok++;
                        assertEquals(OK, a.lines());
                        assertEnforced(b);
                        assertComplete(b);
                    } else {
                        assertNull(a.exit(), "only the kill fails a request here: " + a);
                        if (a.accepted()) {
                            failedAfter++;
                        } else {
                            failedBefore++;
                            assertEquals(List.of(), boxes.status(b.id()), "made before accepted: " + a);
                        }
                        halfDone += (int) boxes.status(b.id()).stream()
                                .filter(s -> s.record().status().equals(AttachRecord.ATTACHING)).count();
                        failed.add(b);
                        // the runtime sees the hook fail and kills the container
                        boxes.stop(b);
                    }
                }
                d = daemon();
                for (Box b : failed) {
                    assertComplete(b);
                }
                for (Box b : bs) {
                    if (!failed.contains(b)) {
                        boxes.stop(b);
                    }
                    Answer p = call("poststop", Boxes.state(b, false));
                    assertEquals(OK, p.lines(), b.id() + ": " + p);
                }
                assertNothingLeft(bs);
            }
        } finally {
            pool.shutdownNow();
        }
        String log = d.logText();
        System.out.printf("100 starts, daemon killed at a random point of each round of %d (a round takes ~%d ms):"
                + " %d complete, %d failed before accepted, %d after (%d records left half done, undone at the"
                + " restart)%n", perRound, roundMs, ok, failedBefore, failedAfter, halfDone);
        assertTrue(log.contains("removed the stale socket"), log);
        assertTrue(failedAfter > 0, "no kill landed inside a request");
        assertTrue(ok > 0, "no request got through");
        if (halfDone > 0) {
            assertTrue(log.contains("half-done attach(es)"), log);
        }
    }

    @Test
    void aRestartWithFiftyContainersAttachedKeepsThemEnforced() throws Exception {
        DaemonProcess d = daemon();
        List<Box> bs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            bs.add(boxes.box("r" + i));
        }
        for (int i = 0; i < 50; i += 10) {
            for (Answer a : concurrently(bs.subList(i, i + 10), "createRuntime", true)) {
                assertEquals(OK, a.lines(), a.toString());
            }
        }
        assertEquals(0, d.terminate(30), d.logText());
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "socket left after SIGTERM");
        assertTrue(d.logText().contains("stopped;"), d.logText());
        for (Box b : bs) {
            assertEnforced(b);
        }
        daemon();
        for (Box b : bs) {
            assertComplete(b);
            assertEquals(1, boxes.status(b.id()).size());
            boxes.stop(b);
        }
        for (int i = 0; i < 50; i += 10) {
            for (Answer a : concurrently(bs.subList(i, i + 10), "poststop", false)) {
                assertEquals(OK, a.lines(), a.toString());
            }
        }
        assertNothingLeft(bs);
    }

    /** A second daemon, a file in the socket's place, and other namespaces: each refused with one line. */
    @Test
    void aDaemonRefusesToStartWhereItMustNot() throws Exception {
        daemon();
        List<String> second = run(DaemonProcess.command(List.of(), "daemon", "--socket", socket.toString()));
        assertEquals(List.of("cgbpf: daemon: another cgbpf daemon is running or starting on " + socket + " (it holds "
                + socket + ".lock)"), second);
        Path file = boxes.work.resolve("plain");
        Files.writeString(file, "x");
        assertEquals(List.of("cgbpf: daemon: " + file + " exists and is not a socket; not removing it"),
                run(DaemonProcess.command(List.of(), "daemon", "--socket", file.toString())));
        Path other = boxes.work.resolve("ns.sock");
        for (List<String> unshare : List.of(List.of("unshare", "--mount"),
                List.of("unshare", "--pid", "--fork", "--mount-proc"))) {
            List<String> out = run(DaemonProcess.command(unshare, "daemon", "--socket", other.toString()));
            assertEquals(1, out.size(), unshare + ": " + out);
            assertTrue(out.get(0).startsWith("cgbpf: daemon: the cgbpf daemon must run in the host's PID and mount"
                    + " namespaces: it runs in "), unshare + ": " + out);
            assertFalse(Files.exists(other, LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void detachStartsADaemonInItsOwnSessionAndSigtermStopsIt() throws Exception {
        Path dir = boxes.work.resolve("detached").resolve("run");
        Path sock = dir.resolve("cgbpf.sock");
        Path pidFile = dir.resolve("cgbpf-daemon.pid");
        Path log = boxes.work.resolve("detached").resolve("log").resolve("daemon.log");
        List<String> cmd = DaemonProcess.command(List.of(), "daemon", "--detach", "--socket", sock.toString(),
                "--pid-file", pidFile.toString(), "--log-file", log.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(boxes.env());
        // its events into the test's directory, not the host's /var/log/cgbpf/denials.log
        pb.environment().put("CGBPF_DENIALS_LOG", boxes.work.resolve("detached").resolve("denials.log").toString());
        long t0 = System.nanoTime();
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(90, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        long startMs = (System.nanoTime() - t0) / 1_000_000;
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        try {
            assertEquals("cgbpf daemon started: pid " + pid + ", socket " + sock + ", log " + log, out.strip());
            assertEquals("rw-------", mode(pidFile));
            assertEquals("rw-------", mode(sock));
            assertEquals("rwx------", mode(dir));
            assertEquals("rw-------", mode(log));
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertEquals(Long.toString(pid), fields[3], "session id of the detached daemon: " + Arrays.toString(fields));
            assertEquals(pid, DaemonProbe.status(sock, java.time.Duration.ofSeconds(5)).pid());
            Box b = boxes.box("det");
            assertEquals(OK, DaemonClient.call(sock, "createRuntime", boxes.env(), Boxes.state(b, true)).lines());
            assertEnforced(b);
            // a second --detach finds it running
            Process again = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String againOut = new String(again.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(again.waitFor(60, TimeUnit.SECONDS));
            assertEquals(1, again.exitValue());
            assertEquals("cgbpf: daemon: another cgbpf daemon answers on " + sock + " (pid " + pid + ")", againOut.strip());
            boxes.stop(b);
            assertEquals(OK, DaemonClient.call(sock, "poststop", boxes.env(), Boxes.state(b, false)).lines());
            assertNothingLeft(List.of(b));
        } finally {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
        }
        ProcessHandle h = ProcessHandle.of(pid).orElse(null);
        if (h != null) {
            h.onExit().get(30, TimeUnit.SECONDS);
        }
        assertFalse(Files.exists(sock, LinkOption.NOFOLLOW_LINKS), "socket left");
        assertFalse(Files.exists(pidFile, LinkOption.NOFOLLOW_LINKS), "pid file left");
        String text = Files.readString(log);
        assertTrue(text.contains("serves on " + sock) && text.contains("stopped;"), text);
        System.out.println("cgbpf daemon --detach returned after " + startMs + " ms");
    }

    /**
     * A stage that cannot finish within the deadline (the run directory's lock held by somebody
     * else): the client is told it failed at the deadline, and the attach that completes once the
     * lock is free is removed again. A SIGTERM meanwhile waits for it, then the daemon exits.
     */
    @Test
    void aStageOverItsDeadlineIsToldItFailedAndUndoneAfterwards() throws Exception {
        DaemonProcess d = daemon("--deadline", "2");
        Box b = boxes.box("late");
        Files.createDirectories(boxes.runDir);
        Answer a;
        try (FileChannel ch = FileChannel.open(boxes.runDir.resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock held = ch.lock()) {
            assertTrue(held.isValid());
            a = call("createRuntime", Boxes.state(b, true));
            assertEquals(List.of("accepted", "error cgbpf: hook createRuntime: the cgbpf daemon did not finish the stage"
                    + " within its deadline of 2 s", "exit 1"), a.lines(), a.toString());
            assertTrue(a.totalNanos() >= TimeUnit.MILLISECONDS.toNanos(1900), "" + a.totalNanos());
            d.process().toHandle().destroy();
            Thread.sleep(300);
            assertTrue(d.process().isAlive(), "the daemon exits before its request in flight finished");
        }
        assertTrue(d.process().waitFor(30, TimeUnit.SECONDS), d.logText());
        assertEquals(0, d.process().exitValue(), d.logText());
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
        assertTrue(d.logText().contains("createRuntime finished after its deadline (exit 1: cgbpf: hook: the caller"
                + " stopped waiting"), d.logText());
        assertEquals(0, Boxes.attached(b.cgroup(), AttachType.CGROUP_DEVICE));
        assertTrue(Boxes.canWriteDevZero(b.cgroup()));
        assertEquals(Set.of(), boxes.leftovers());
    }

    @Test
    void aStatusRequestListsTheContainers() throws Exception {
        DaemonProcess d = daemon();
        Box b = boxes.box("st");
        assertEquals(OK, call("createRuntime", Boxes.state(b, true)).lines());
        Answer st = DaemonClient.call(socket, "status", boxes.env(), null);
        assertEquals("accepted", st.lines().get(0), st.toString());
        assertTrue(st.lines().get(1).startsWith("info daemon pid=" + d.pid() + " "), st.toString());
        assertTrue(st.lines().get(2).startsWith("info container " + b.id() + " attached kernel cgroup=" + b.cgroup()),
                st.toString());
        assertEquals("exit 0", st.lines().get(3));
        boxes.stop(b);
        assertEquals(OK, call("poststop", Boxes.state(b, false)).lines());
        assertNotNull(d);
    }
}
