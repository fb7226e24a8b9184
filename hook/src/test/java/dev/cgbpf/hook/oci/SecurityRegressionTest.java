package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.kernel.CgroupDir;
import dev.cgbpf.kernel.CgroupV2Mount;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.ObjGetNextId;
import dev.cgbpf.kernel.ProgQuery;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The security regression suite: attempts a container (or whoever writes its bundle) could make
 * to get around its cgbpf policy, each against real runc and crun containers on the kernel, each
 * under a restrictive host policy written here. Inside the container a small static program,
 * {@code attack-probe} (src/test/c/attack-probe.c, built here with {@code gcc -static}), makes
 * one attempt per call and prints {@code ok ...} or {@code err ERRNO ...}; host-side listeners
 * and receivers (Java, in this JVM, outside the container's cgroup) record where connections
 * and datagrams came from. Only loopback addresses and the test's own network namespaces carry
 * traffic; the dummy-interface address of the pool test is only ever named in an annotation.
 *
 * <p>Groups (the letter opens each test's display name):
 * <ul>
 * <li>A: annotations only narrow the host policy (devices, bind ports, bind mode, socket kinds);</li>
 * <li>B: a bind address is a resource: it must come from the host's pool, it is held by one
 *     container at a time, {@code auto} picks a free one;</li>
 * <li>C: a bad annotation under {@code failurePolicy open} never costs the host policy;</li>
 * <li>D: a hook that cannot use bpf(2) does not pretend (closed: refused; open: a loud warning,
 *     no dry-run record);</li>
 * <li>E: two containers with the same id (two runc state roots, runc next to crun) keep their
 *     own programs;</li>
 * <li>F: the container's bind address has no way around it (listen without bind, unbound UDP,
 *     IP_PKTINFO/IPV6_PKTINFO, native IPv6, MPTCP, UDP-Lite, raw and packet sockets);</li>
 * <li>G: a symlinked config.json leaks nothing into errors; a full run dir leaves no temp file.</li>
 * </ul>
 * A control test checks the harness itself with a policy the hook has always accepted.
 *
 * <p>Leaks are counted on this class's own objects only: the private run and pin directories
 * are listed before and after each test (records and pins may be named after the container id
 * or its cgroup id), and the cgbpf programs found attached to a test's container cgroup must be
 * gone from the kernel after the container is deleted. Other cgbpf containers may run on the
 * host meanwhile.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class SecurityRegressionTest {
    private static final String POOL = "127.77.0.0/24";
    private static final String DEVICES = "dev.cgbpf.devices";
    private static final String BIND_IP = "dev.cgbpf.bind-ip";
    private static final String BIND_MODE = "dev.cgbpf.bind-mode";
    private static final String BIND_PORTS = "dev.cgbpf.bind-ports";
    private static final String DENY_SOCKETS = "dev.cgbpf.deny-sockets";
    /** First token of the file a symlinked config.json points to (group G). */
    private static final String SECRET = "hunter2sekret";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger NEXT_ADDRESS = new AtomicInteger(10);
    private static final AtomicInteger BUNDLES = new AtomicInteger();

    private static ContainerHarness h;
    private static Path closedDeny;
    private static Path closedRewrite;
    private static Path openDeny;
    private static Path control;
    private static Path noCapsHook;

    @BeforeAll
    static void setUp() throws Exception {
        h = ContainerHarness.open("sec");
        Path probe = buildProbe();
        Path inRootfs = h.bundles.rootfs().resolve("bin/attack-probe");
        Files.copy(probe, inRootfs);
        inRootfs.toFile().setExecutable(true, false);
        closedDeny = policy("closed-deny", hostPolicy("closed", "deny", true));
        closedRewrite = policy("closed-rewrite", hostPolicy("closed", "rewrite", true));
        openDeny = policy("open-deny", hostPolicy("open", "deny", true));
        control = policy("control", hostPolicy("closed", "deny", false));
        // the hook as the runtime runs it, but with every capability gone: bpf(2) refuses it
        noCapsHook = h.work.resolve("cgbpf-nocaps");
        Files.writeString(noCapsHook, "#!/bin/sh\nexec setpriv --inh-caps=-all --ambient-caps=-all"
                + " --bounding-set=-all -- " + h.launcher + " \"$@\"\n");
        noCapsHook.toFile().setExecutable(true);
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (h != null) {
            h.close();
        }
    }

    /**
     * The host policy under test: /dev/zero read-only, /dev/net/tun and loop devices denied
     * entirely, binds only to ports 8000-8099, no raw sockets, container addresses from
     * 127.77.0.0/24. {@code allDevices} false keeps only the /dev/zero rule (the control).
     */
    static String hostPolicy(String failurePolicy, String bindMode, boolean allDevices) {
        String zero = "{\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 5, \"access\": \"w\"}";
        String more = ", {\"allow\": false, \"type\": \"c\", \"major\": 10, \"minor\": 200, \"access\": \"rwm\"}"
                + ", {\"allow\": false, \"type\": \"b\", \"major\": 7, \"access\": \"rwm\"}";
        return "{\"failurePolicy\": \"" + failurePolicy + "\", \"appliesTo\": \"all\",\n"
                + " \"devices\": [" + zero + (allDevices ? more : "") + "],\n"
                + " \"network\": {\"bindMode\": \"" + bindMode + "\", \"bindPorts\": \"8000-8099\","
                + " \"denySockets\": [\"raw\"], \"bindAddressPool\": [\"" + POOL + "\"]}}\n";
    }

    private static Path policy(String name, String text) throws IOException {
        Path p = h.work.resolve("policy-" + name + ".json");
        Files.writeString(p, text);
        return p;
    }

    /** gcc -static -O2 src/test/c/attack-probe.c -o target/attack-probe; no gcc: the suite fails with one line. */
    static Path buildProbe() throws IOException, InterruptedException {
        Path module = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
        Path src = module.resolve("src/test/c/attack-probe.c");
        Path out = module.resolve("target/attack-probe");
        if (onPath("gcc") == null) {
            fail("gcc is missing: the security suite builds its static probe with gcc -static"
                    + " (apt-get install gcc libc6-dev)");
        }
        Files.createDirectories(out.getParent());
        Process p = new ProcessBuilder("gcc", "-static", "-O2", "-Wall", "-o", out.toString(), src.toString())
                .redirectErrorStream(true).start();
        String msg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail("gcc -static -O2 " + src + " failed: " + msg.strip().replace('\n', ' '));
        }
        return out;
    }

    private static Path onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** A fresh address of the pool per container, so that one test's leftover lease cannot fail the next test. */
    private static String nextAddress() {
        int n = NEXT_ADDRESS.getAndIncrement();
        assertTrue(n < 250, "the pool's test addresses are used up");
        return "127.77.0." + n;
    }

    // ---------------------------------------------------------------------------------------------
    // containers

    /** What to start: runtime, process, annotations, network, host policy, edits of config.json. */
    private static final class Spec {
        final String runtime;
        OciRuntime rt;
        String id;
        List<String> args = List.of("sleep", "600");
        final Map<String, String> annotations = new LinkedHashMap<>();
        boolean hostNet;
        Path policy = closedDeny;
        Function<Path, Path> hook = b -> h.launcher;
        Path runDir;
        String cgroupsPath;
        final List<Consumer<ObjectNode>> edits = new ArrayList<>();

        Spec(String runtime) {
            this.runtime = runtime;
        }

        Spec ann(String key, String value) {
            annotations.put(key, value);
            return this;
        }

        Spec hostNet() {
            hostNet = true;
            return this;
        }

        Spec policy(Path p) {
            policy = p;
            return this;
        }

        /** The hook executable to register, given the bundle directory. */
        Spec hook(Function<Path, Path> f) {
            hook = f;
            return this;
        }

        /** Adds capabilities to the bounding, effective and permitted sets. */
        Spec caps(String... caps) {
            edits.add(cfg -> {
                for (String set : List.of("bounding", "effective", "permitted")) {
                    ArrayNode a = (ArrayNode) cfg.path("process").path("capabilities").path(set);
                    for (String c : caps) {
                        a.add(c);
                    }
                }
            });
            return this;
        }

        /** A node in the container's /dev (linux.devices), created by the runtime. */
        Spec deviceNode(String path, String type, int major, int minor) {
            edits.add(cfg -> {
                ObjectNode linux = (ObjectNode) cfg.path("linux");
                ArrayNode devs = linux.has("devices") ? (ArrayNode) linux.get("devices") : linux.putArray("devices");
                devs.addObject().put("path", path).put("type", type).put("major", major).put("minor", minor)
                        .put("fileMode", 0666).put("uid", 0).put("gid", 0);
            });
            return this;
        }

        /** A linux.resources.devices rule after the bundle's own (deny-all) one. */
        Spec resourceRule(boolean allow, String type, int major, int minor, String access) {
            edits.add(cfg -> ((ArrayNode) cfg.path("linux").path("resources").path("devices")).addObject()
                    .put("allow", allow).put("type", type).put("major", major).put("minor", minor)
                    .put("access", access));
            return this;
        }

        /** linux.resources.devices = [{allow: true, access: rwm}], as a privileged container has. */
        Spec privilegedDevices() {
            edits.add(cfg -> {
                ArrayNode d = ((ObjectNode) cfg.path("linux").path("resources")).putArray("devices");
                d.addObject().put("allow", true).put("access", "rwm");
            });
            return this;
        }
    }

    /** A started (or refused) container; closing it force-deletes it and checks its programs are gone. */
    private static final class Ctr implements AutoCloseable {
        final OciRuntime rt;
        final String id;
        final Path bundle;
        final OciRuntime.Run start;
        Path cgroup;
        Set<Integer> progs = Set.of();

        Ctr(OciRuntime rt, String id, Path bundle, OciRuntime.Run start) {
            this.rt = rt;
            this.id = id;
            this.bundle = bundle;
            this.start = start;
        }

        boolean running() {
            return start.exit() == 0;
        }

        /** Runs the probe in the container (runtime exec) and returns its one line. */
        String probe(String... args) throws IOException, InterruptedException {
            List<String> cmd = new ArrayList<>(List.of("exec", id, "/bin/attack-probe"));
            cmd.addAll(List.of(args));
            OciRuntime.Run r = rt.exec(cmd, 60);
            String line = r.stdout().lines().findFirst().orElse("");
            System.out.println(rt + " " + id + ": attack-probe " + String.join(" ", args) + " -> " + line);
            if (!line.startsWith("ok ") && !line.startsWith("err ")) {
                fail("attack-probe " + String.join(" ", args) + " did not run in " + id + " (exit " + r.exit() + "): "
                        + (r.stdout() + r.stderr()).strip());
            }
            return line;
        }

        /** The probe left running in the container: its output (stdout and stderr) as it comes. */
        Process spawnProbe(String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of("exec", id, "/bin/attack-probe"));
            cmd.addAll(List.of(args));
            return rt.spawn(cmd);
        }

        @Override
        public void close() throws Exception {
            rt.forceDelete(id);
            assertProgramsGone(id, progs);
        }
    }

    private static Ctr start(Spec s) throws Exception {
        OciRuntime rt = s.rt != null ? s.rt : h.runtime(s.runtime);
        String id = s.id != null ? s.id : h.newId(s.runtime);
        Path dir = h.work.resolve("bundles").resolve(id + "-" + BUNDLES.incrementAndGet());
        h.bundles.bundle(dir, s.args, s.annotations, s.hostNet, s.cgroupsPath);
        if (!s.edits.isEmpty()) {
            ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
            s.edits.forEach(e -> e.accept(cfg));
            JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), cfg);
        }
        h.install(dir, s.policy, s.hook.apply(dir), s.runDir != null ? s.runDir : h.runDir);
        OciRuntime.Run r = rt.exec(List.of("run", "--detach", "--bundle", dir.toString(), id), 120);
        System.out.println(rt + " run --detach " + id + " " + s.annotations + ": exit " + r.exit()
                + (r.exit() == 0 ? "" : "\n" + (r.stdout() + r.stderr()).strip()));
        Ctr c = new Ctr(rt, id, dir, r);
        if (r.exit() == 0) {
            try {
                c.cgroup = cgroupOf(rt, id);
                c.progs = attachedCgbpf(c.cgroup);
            } catch (Exception | Error e) {
                rt.forceDelete(id);
                throw e;
            }
        }
        return c;
    }

    /** The container's cgroup v2 directory, from its init's /proc/PID/cgroup. */
    private static Path cgroupOf(OciRuntime rt, String id) throws Exception {
        OciRuntime.Run st = rt.exec(List.of("state", id), 30);
        int pid = JSON.readTree(st.stdout()).path("pid").asInt();
        assertTrue(pid > 0, rt + " state " + id + ": " + st.stdout() + st.stderr());
        for (String line : Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup"))) {
            if (line.startsWith("0::")) {
                return CgroupV2Mount.discover().orElseThrow().dirOf(line.substring(3));
            }
        }
        throw new AssertionError("process " + pid + " of " + id + " has no cgroup v2 line");
    }

    /** Ids of the cgbpf programs attached to {@code cgroup}, any attach type. */
    private static Set<Integer> attachedCgbpf(Path cgroup) throws BpfException {
        Set<Integer> out = new TreeSet<>();
        try (Fd fd = CgroupDir.open(cgroup)) {
            for (int type = 0; type < 64; type++) {
                ProgQuery.Result q;
                try {
                    q = ProgQuery.progQuery(fd, type, 0, 64, false);
                } catch (BpfException e) {
                    continue; // not a cgroup attach type
                }
                for (int id : q.progIds()) {
                    try {
                        if (ObjGetNextId.progName(id).startsWith("cgbpf_")) {
                            out.add(id);
                        }
                    } catch (BpfException e) {
                        // gone meanwhile
                    }
                }
            }
        }
        return out;
    }

    /** The kernel frees a container's programs shortly after its cgroup and pins are gone. */
    private static void assertProgramsGone(String id, Set<Integer> progs) throws Exception {
        if (progs.isEmpty()) {
            return;
        }
        Set<Integer> left = new TreeSet<>(progs);
        for (int i = 0; i < 100 && !left.isEmpty(); i++) {
            left.retainAll(ObjGetNextId.progIds());
            if (!left.isEmpty()) {
                Thread.sleep(100);
            }
        }
        assertTrue(left.isEmpty(), "programs " + left + " of container " + id + " are still in the kernel after it"
                + " was deleted");
    }

    private interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body}; if it passes, the private run and pin dirs must list what they listed before. */
    private static void leakChecked(Body body) throws Exception {
        Set<String> before = h.files();
        body.run();
        assertEquals(before, h.files(), "records or pins left in this test's run dir and pin dir");
    }

    private static void assertStarted(Ctr c) throws IOException {
        if (!c.running()) {
            fail(c.rt + " did not start " + c.id + ": " + (c.start.stdout() + c.start.stderr()).strip()
                    + " | hook log: " + logOf(c.id));
        }
    }

    /**
     * The hook refused the container: the runtime failed, the hook logged an error for it, and
     * that error matches each of {@code patterns} (regular expressions, case-insensitive), so
     * that a refusal for an unrelated reason does not count.
     */
    private static void assertRefused(Ctr c, String... patterns) throws IOException {
        List<String> errors = logOf(c.id).stream().filter(l -> l.contains(" ERROR ")).toList();
        if (c.running()) {
            fail(c.id + " started; the hook should have refused it (hook log: " + logOf(c.id) + ")");
        }
        assertFalse(errors.isEmpty(), c.rt + " failed to start " + c.id + " but the hook logged no error for it: "
                + (c.start.stdout() + c.start.stderr()).strip());
        for (String p : patterns) {
            Pattern re = Pattern.compile(p, Pattern.CASE_INSENSITIVE);
            assertTrue(errors.stream().anyMatch(l -> re.matcher(message(l, c.id)).find()),
                    "the hook's error does not match /" + p + "/: " + errors);
            if (c.rt.name.equals("runc")) {
                assertTrue(re.matcher(c.start.stderr()).find(), "runc's error does not show the hook's line: "
                        + c.start.stderr());
            }
        }
    }

    /** The hook log's lines about container {@code id} ("... LEVEL ID STAGE: message"), not those of ID0, ID1... */
    private static List<String> logOf(String id) throws IOException {
        return h.hookLogLines(" " + id + " ");
    }

    /** A log line's message: what follows "ID STAGE: ". */
    private static String message(String logLine, String id) {
        int at = logLine.indexOf(id);
        int colon = at < 0 ? -1 : logLine.indexOf(": ", at);
        return colon < 0 ? logLine : logLine.substring(colon + 2);
    }

    private static void denied(String line, String errno) {
        assertTrue(line.startsWith("err " + errno + " "), "expected " + errno + ", got: " + line);
    }

    private static void allowed(String line) {
        assertTrue(line.startsWith("ok "), "expected success, got: " + line);
    }

    /** /dev/zero: writes refused with EPERM, reads work. */
    private static void zeroIsReadOnly(Ctr c) throws Exception {
        denied(c.probe("open", "/dev/zero", "w"), "EPERM");
        assertEquals("ok open /dev/zero r read=4", c.probe("open", "/dev/zero", "r"));
    }

    static Stream<Arguments> perRuntime(Object... values) {
        List<Arguments> out = new ArrayList<>();
        for (String rt : List.of("runc", "crun")) {
            for (Object v : values) {
                out.add(Arguments.of(rt, v));
            }
        }
        return out.stream();
    }

    // ---------------------------------------------------------------------------------------------
    // control: the harness against a policy the hook has always accepted

    @ParameterizedTest(name = "[control] {0}: the probe sees devices, binds, sockets and connects enforced")
    @ValueSource(strings = {"runc", "crun"})
    void a0ControlTheHarnessSeesEnforcement(String name) throws Exception {
        String own = nextAddress();
        leakChecked(() -> {
            try (ServerSocket tcp = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"));
                 DatagramSocket udp = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                 Ctr c = start(new Spec(name).policy(control).hostNet().ann(BIND_IP, own).ann(DENY_SOCKETS, "udp"))) {
                assertStarted(c);
                assertFalse(c.progs.isEmpty(), "no cgbpf program attached to " + c.cgroup);
                zeroIsReadOnly(c);
                assertEquals("ok bind tcp4 " + own + " 8000", c.probe("bind", "tcp4", own, "8000"));
                denied(c.probe("bind", "tcp4", own, "9000"), "EPERM");
                denied(c.probe("bind", "tcp4", "127.0.0.1", "8001"), "EPERM");
                denied(c.probe("socket", "inet", "udp"), "EPERM");
                allowed(c.probe("socket", "inet", "tcp"));
                tcp.setSoTimeout(5000);
                String line = c.probe("connect", "tcp4", "127.0.0.1", Integer.toString(tcp.getLocalPort()));
                assertTrue(line.startsWith("ok connect tcp4 127.0.0.1 " + tcp.getLocalPort() + " from " + own + " "),
                        line);
                try (Socket s = tcp.accept()) {
                    assertEquals(own, s.getInetAddress().getHostAddress());
                }
                // the host's receivers: an unbound datagram from outside any cgbpf container
                // arrives and shows its source (no udp socket in the container: denied above)
                assertEquals("127.0.0.1", sendAndReceiveFromHost(udp));
            }
        });
    }

    private static String sendAndReceiveFromHost(DatagramSocket receiver) throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            byte[] b = "host".getBytes(StandardCharsets.US_ASCII);
            s.send(new DatagramPacket(b, b.length, receiver.getLocalSocketAddress()));
        }
        return receiveSource(receiver);
    }

    // ---------------------------------------------------------------------------------------------
    // A. annotations only narrow the host policy

    static Stream<Arguments> reallowedDevices() {
        return perRuntime("allow a *:* rwm", "allow c 1:5 rwm", "allow c 10:200 rwm", "allow b 7:0 rwm");
    }

    @ParameterizedTest(name = "[A] {0}: dev.cgbpf.devices \"{1}\" cannot re-allow what the host denies")
    @MethodSource("reallowedDevices")
    void aAnAnnotationCannotReallowADeviceTheHostDenies(String name, String rule) throws Exception {
        Spec s = new Spec(name).ann(DEVICES, rule);
        if (rule.contains("10:200")) {
            // /dev/net/tun as docker --device makes it: the node plus a cgroup rule of the spec
            s.deviceNode("/dev/net/tun", "c", 10, 200).resourceRule(true, "c", 10, 200, "rwm").caps("CAP_MKNOD");
        } else if (rule.contains("b 7:0")) {
            // privileged-style: the spec allows every device; /dev/loop0 is in linux.devices
            s.privilegedDevices().deviceNode("/dev/loop0", "b", 7, 0).caps("CAP_MKNOD");
        }
        leakChecked(() -> {
            try (Ctr c = start(s)) {
                assertStarted(c);
                zeroIsReadOnly(c);
                if (rule.contains("10:200")) {
                    denied(c.probe("open", "/dev/net/tun", "rw"), "EPERM");
                    denied(c.probe("mknod-open", "c", "10", "200", "rw"), "EPERM");
                } else if (rule.contains("b 7:0")) {
                    denied(c.probe("open", "/dev/loop0", "r"), "EPERM");
                    denied(c.probe("mknod-open", "b", "7", "0", "r"), "EPERM");
                }
            }
        });
    }

    @ParameterizedTest(name = "[A] {0}: dev.cgbpf.bind-ports \"{1}\" cannot widen the host's 8000-8099")
    @MethodSource("widerPorts")
    void aAnAnnotationCannotWidenTheBindPorts(String name, String ports) throws Exception {
        String own = nextAddress();
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).hostNet().ann(BIND_IP, own).ann(BIND_PORTS, ports))) {
                assertStarted(c);
                denied(c.probe("bind", "tcp4", own, "9000"), "EPERM");
                denied(c.probe("bind", "udp4", own, "9000"), "EPERM");
                assertEquals("ok bind tcp4 " + own + " 8000", c.probe("bind", "tcp4", own, "8000"));
            }
        });
    }

    static Stream<Arguments> widerPorts() {
        return perRuntime("", "1-65535");
    }

    @ParameterizedTest(name = "[A] {0}: dev.cgbpf.bind-mode rewrite under a host deny still refuses 127.0.0.1")
    @ValueSource(strings = {"runc", "crun"})
    void aAnAnnotationCannotTurnDenyIntoRewrite(String name) throws Exception {
        String own = nextAddress();
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).hostNet().ann(BIND_IP, own).ann(BIND_MODE, "rewrite"))) {
                assertStarted(c);
                denied(c.probe("bind", "tcp4", "127.0.0.1", "8000"), "EPERM");
                denied(c.probe("bind", "udp4", "127.0.0.1", "8001"), "EPERM");
                assertEquals("ok bind tcp4 " + own + " 8002", c.probe("bind", "tcp4", own, "8002"));
            }
        });
    }

    @ParameterizedTest(name = "[A] {0}: dev.cgbpf.deny-sockets \"\" keeps the host's raw denial")
    @ValueSource(strings = {"runc", "crun"})
    void aAnEmptyDenySocketsKeepsTheHostsList(String name) throws Exception {
        // own network namespace, CAP_NET_RAW kept: only cgbpf stands between it and a raw socket
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).ann(DENY_SOCKETS, "").caps("CAP_NET_RAW"))) {
                assertStarted(c);
                denied(c.probe("socket", "inet", "raw"), "EPERM");
                denied(c.probe("socket", "inet6", "raw"), "EPERM");
            }
        });
    }

    // ---------------------------------------------------------------------------------------------
    // B. the bind address is a resource

    static Stream<Arguments> addressesOutsideThePool() {
        return perRuntime("127.0.0.1", "dummy", "127.78.0.1");
    }

    @ParameterizedTest(name = "[B] {0}: dev.cgbpf.bind-ip {1} (outside the pool) is refused")
    @MethodSource("addressesOutsideThePool")
    void bAnAddressOutsideThePoolIsRefused(String name, String address) throws Exception {
        String dummy = null;
        String ip = address;
        try {
            if (address.equals("dummy")) {
                // a host address that is really on an interface, but not in the pool; never a traffic target
                ip = "198.18.78.1";
                dummy = addInterface("cgbpfs" + (ProcessHandle.current().pid() % 100000));
                sh("ip", "addr", "add", ip + "/32", "dev", dummy);
                sh("ip", "link", "set", dummy, "up");
            }
            String annotated = ip;
            leakChecked(() -> {
                try (Ctr c = start(new Spec(name).hostNet().ann(BIND_IP, annotated))) {
                    assertRefused(c, Pattern.quote(BIND_IP));
                }
            });
        } finally {
            if (dummy != null) {
                sh("ip", "link", "del", dummy);
            }
        }
    }

    /**
     * Adds a link named {@code name} that carries no traffic off the machine: a dummy, or where
     * the kernel has no dummy driver, an ifb device (it only returns what it is given).
     */
    private static String addInterface(String name) throws IOException, InterruptedException {
        try {
            sh("ip", "link", "add", name, "type", "dummy");
        } catch (IOException e) {
            sh("ip", "link", "add", name, "type", "ifb");
        }
        return name;
    }

    @ParameterizedTest(name = "[B] {0}: two running containers cannot hold the same address")
    @ValueSource(strings = {"runc", "crun"})
    void bAnAddressBelongsToOneContainerAtATime(String name) throws Exception {
        String own = nextAddress();
        leakChecked(() -> {
            try (Ctr first = start(new Spec(name).hostNet().ann(BIND_IP, own))) {
                assertStarted(first);
                assertEquals("ok bind tcp4 " + own + " 8000", first.probe("bind", "tcp4", own, "8000"));
                Set<String> withFirst = h.files();
                try (Ctr second = start(new Spec(name).hostNet().ann(BIND_IP, own))) {
                    assertRefused(second, Pattern.quote(BIND_IP));
                }
                assertEquals(withFirst, h.files(), "the refused second container changed the records or pins");
                // the first keeps its address and its programs
                assertEquals(first.progs, attachedCgbpf(first.cgroup), "programs of the first container");
                assertEquals("ok bind tcp4 " + own + " 8000", first.probe("bind", "tcp4", own, "8000"));
                zeroIsReadOnly(first);
            }
            // released with the first container: usable again
            try (Ctr third = start(new Spec(name).hostNet().ann(BIND_IP, own))) {
                assertStarted(third);
                assertEquals("ok bind tcp4 " + own + " 8000", third.probe("bind", "tcp4", own, "8000"));
            }
        });
    }

    @ParameterizedTest(name = "[B] {0}: dev.cgbpf.bind-ip auto takes a free address of the pool")
    @ValueSource(strings = {"runc", "crun"})
    void bAutoTakesAFreeAddressOfThePool(String name) throws Exception {
        // bind mode rewrite, so that a wildcard bind shows the address the container got
        leakChecked(() -> {
            try (Ctr one = start(new Spec(name).policy(closedRewrite).hostNet().ann(BIND_IP, "auto"));
                 Ctr two = start(new Spec(name).policy(closedRewrite).hostNet().ann(BIND_IP, "auto"))) {
                assertStarted(one);
                assertStarted(two);
                String a = boundAddress(one.probe("bind", "tcp4", "0.0.0.0", "8000"));
                String b = boundAddress(two.probe("bind", "tcp4", "0.0.0.0", "8000"));
                assertTrue(a.startsWith("127.77.0."), "auto address " + a + " is not in " + POOL);
                assertTrue(b.startsWith("127.77.0."), "auto address " + b + " is not in " + POOL);
                assertNotEquals(a, b, "two running containers got the same auto address");
            }
        });
    }

    /** ADDR of "ok bind KIND ADDR PORT". */
    private static String boundAddress(String line) {
        allowed(line);
        String[] w = line.split(" ");
        return w[w.length - 2];
    }

    // ---------------------------------------------------------------------------------------------
    // C. a bad annotation never costs the host policy

    static Stream<Arguments> badAnnotations() {
        List<Arguments> out = new ArrayList<>();
        for (String rt : List.of("runc", "crun")) {
            out.add(Arguments.of(rt, DEVICES, "bogus"));
            out.add(Arguments.of(rt, BIND_IP, "203.0.113.9"));
            out.add(Arguments.of(rt, "dev.cgbpf.typo", "1"));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "[C] {0}: failurePolicy open, {1}={2}: refused, or runs under the host policy")
    @MethodSource("badAnnotations")
    void cABadAnnotationNeverCostsTheHostPolicy(String name, String key, String value) throws Exception {
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).policy(openDeny).ann(key, value).caps("CAP_NET_RAW"))) {
                if (!c.running()) {
                    assertRefused(c, Pattern.quote(key));
                    return;
                }
                // it runs: then the host's rules must be in force all the same
                zeroIsReadOnly(c);
                denied(c.probe("socket", "inet", "raw"), "EPERM");
                assertFalse(c.progs.isEmpty(), "the container runs with no cgbpf program attached");
            }
        });
    }

    // ---------------------------------------------------------------------------------------------
    // D. no silent dry run

    @ParameterizedTest(name = "[D] {0}: a hook without capabilities under failurePolicy closed refuses the container")
    @ValueSource(strings = {"runc", "crun"})
    void dWithoutBpfAClosedPolicyRefusesTheContainer(String name) throws Exception {
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).hook(b -> noCapsHook))) {
                assertRefused(c, "(?<![a-z])bpf");
            }
        });
    }

    @ParameterizedTest(name = "[D] {0}: a hook without capabilities under failurePolicy open warns WITHOUT, records no dry run")
    @ValueSource(strings = {"runc", "crun"})
    void dWithoutBpfAnOpenPolicyWarnsAndRecordsNoDryRun(String name) throws Exception {
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).policy(openDeny).hook(b -> noCapsHook))) {
                assertStarted(c);
                List<String> log = logOf(c.id);
                System.out.println(String.join("\n", log));
                // the warning must be about bpf(2): a WITHOUT for another reason is not this case
                Pattern bpf = Pattern.compile("(?<![a-z])bpf", Pattern.CASE_INSENSITIVE);
                assertTrue(log.stream().anyMatch(l -> l.contains("WITHOUT") && bpf.matcher(message(l, c.id)).find()),
                        "no WITHOUT warning naming bpf in the hook log: " + log);
                for (String f : h.files()) {
                    Path p = h.runDir.resolve(f.substring("run/".length()));
                    if (f.startsWith("run/") && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        String text = Files.readString(p);
                        assertFalse(text.contains("dry-run") || text.contains("dry_run"),
                                "a dry-run record pretends protection: " + f + ": " + text.strip());
                    }
                }
            }
        });
    }

    // ---------------------------------------------------------------------------------------------
    // E. containers are identified uniquely

    @ParameterizedTest(name = "[E] runc next to {0} with the same container id: the first keeps its programs")
    @ValueSource(strings = {"runc", "crun"})
    void eASecondContainerWithTheSameIdLeavesTheFirstAlone(String secondRuntime) throws Exception {
        String id = h.newId("same");
        OciRuntime runc = h.runtime("runc");
        // runc: a second state root, where the id is free again; crun: its own state root anyway
        OciRuntime other = secondRuntime.equals("runc") ? runc.withStateRoot(h.work.resolve("runc-root-2"))
                : h.runtime("crun");
        leakChecked(() -> {
            Spec firstSpec = new Spec("runc");
            firstSpec.rt = runc;
            firstSpec.id = id;
            firstSpec.cgroupsPath = "/" + id + "-first";
            try (Ctr first = start(firstSpec)) {
                assertStarted(first);
                zeroIsReadOnly(first);
                Set<String> withFirst = h.files();
                Spec secondSpec = new Spec(secondRuntime);
                secondSpec.rt = other;
                secondSpec.id = id;
                secondSpec.cgroupsPath = "/" + id + "-second";
                try (Ctr second = start(secondSpec)) {
                    assertStarted(second);
                    assertEquals(first.progs, attachedCgbpf(first.cgroup),
                            "the first container's programs after the second one started");
                    denied(first.probe("open", "/dev/zero", "w"), "EPERM");
                    zeroIsReadOnly(second);
                }
                // the second is gone, its poststop has run
                assertEquals(first.progs, attachedCgbpf(first.cgroup),
                        "the first container's programs after the second one's poststop");
                denied(first.probe("open", "/dev/zero", "w"), "EPERM");
                assertEquals(withFirst, h.files(), "records and pins after the second container is gone");
            }
        });
    }

    // ---------------------------------------------------------------------------------------------
    // F. the bind address has no way around it

    static Stream<Arguments> listenKinds() {
        return perRuntime("tcp4", "tcp6");
    }

    @ParameterizedTest(name = "[F] {0}: listen() on an unbound {1} socket is reachable only on the container address")
    @MethodSource("listenKinds")
    void fAnUnboundListenerIsOnlyOnTheContainerAddress(String name, String kind) throws Exception {
        String own = nextAddress();
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).hostNet().ann(BIND_IP, own))) {
                assertStarted(c);
                Process p = c.spawnProbe("listen-unbound", kind, "4");
                try {
                    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                            StandardCharsets.UTF_8));
                    String first = out.readLine();
                    System.out.println(name + " listen-unbound " + kind + " -> " + first);
                    if (first == null || !first.startsWith("ok listen ")) {
                        fail("listen without bind did not work in the container: " + first);
                    }
                    String[] w = first.split(" ");
                    int port = Integer.parseInt(w[w.length - 1]);
                    boolean viaOwn = reachable(own, port);
                    boolean viaLoopback = reachable("127.0.0.1", port);
                    boolean viaIpv6 = reachable("::1", port);
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the probe did not end");
                    StringBuilder rest = new StringBuilder();
                    for (String l = out.readLine(); l != null; l = out.readLine()) {
                        rest.append(l).append('\n');
                    }
                    System.out.println(rest.toString().strip());
                    List<String> wrong = new ArrayList<>();
                    if (viaLoopback) {
                        wrong.add("reachable from the host via 127.0.0.1:" + port);
                    }
                    if (viaIpv6) {
                        wrong.add("reachable from the host via [::1]:" + port);
                    }
                    if (!viaOwn) {
                        wrong.add("not reachable on its own address " + own + ":" + port);
                    }
                    assertEquals(List.of(), wrong, "the container's listener (" + first + "), which accepted: "
                            + rest.toString().strip().replace('\n', ';'));
                } finally {
                    p.destroyForcibly();
                }
            }
        });
    }

    /** Whether a TCP connect from the host (outside every container) to HOST:PORT succeeds within 1.5 s. */
    private static boolean reachable(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByName(host), port), 1500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Source address of the next datagram within 1.5 s, or null when none arrives. */
    private static String receiveSource(DatagramSocket s) throws IOException {
        s.setSoTimeout(1500);
        DatagramPacket d = new DatagramPacket(new byte[512], 512);
        try {
            s.receive(d);
            return d.getAddress().getHostAddress();
        } catch (SocketTimeoutException e) {
            return null;
        }
    }

    private static String port(DatagramSocket s) {
        return Integer.toString(s.getLocalPort());
    }

    @ParameterizedTest(name = "[F] {0}: unbound UDP sendto leaves from the container address or not at all")
    @ValueSource(strings = {"runc", "crun"})
    void fUnboundDatagramsLeaveFromTheContainerAddress(String name) throws Exception {
        String own = nextAddress();
        leakChecked(() -> {
            try (DatagramSocket v4 = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                 DatagramSocket mapped = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                 Ctr c = start(new Spec(name).hostNet().ann(BIND_IP, own))) {
                assertStarted(c);
                c.probe("sendto", "udp4", "127.0.0.1", port(v4));
                String src = receiveSource(v4);
                assertTrue(src == null || src.equals(own), "an unbound IPv4 datagram arrived from " + src);
                c.probe("sendto", "udp6", "::ffff:127.0.0.1", port(mapped));
                src = receiveSource(mapped);
                assertTrue(src == null || src.equals(own), "an unbound v4-mapped datagram arrived from " + src);
            }
        });
    }

    static Stream<Arguments> bindModes() {
        return perRuntime("deny", "rewrite");
    }

    @ParameterizedTest(name = "[F] {0}: bind mode {1}: IP_PKTINFO/IPV6_PKTINFO cannot choose another source")
    @MethodSource("bindModes")
    void fPktinfoCannotChooseTheSource(String name, String mode) throws Exception {
        String own = nextAddress();
        String[][] attempts = {
            {"pktinfo4", "127.0.0.1", "127.0.0.1", "127.0.0.1"},
            {"pktinfo4", "127.0.0.9", "127.0.0.1", "127.0.0.9"},
            {"pktinfo6", "::ffff:127.0.0.1", "::ffff:127.0.0.1", "127.0.0.1"},
            {"pktinfo6", "::ffff:127.0.0.9", "::ffff:127.0.0.1", "127.0.0.9"},
        };
        leakChecked(() -> {
            Path p = mode.equals("deny") ? closedDeny : closedRewrite;
            try (Ctr c = start(new Spec(name).policy(p).hostNet().ann(BIND_IP, own))) {
                assertStarted(c);
                List<String> wrong = new ArrayList<>();
                for (String[] a : attempts) {
                    try (DatagramSocket r = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                        String line = c.probe(a[0], a[1], a[2], port(r));
                        String src = receiveSource(r);
                        if (src != null && !src.equals(own)) {
                            wrong.add(a[0] + " source " + a[1] + " (" + line + "): arrived from " + src);
                        }
                    }
                }
                assertEquals(List.of(), wrong, "datagrams that arrived with a source other than " + own);
            }
        });
    }

    @ParameterizedTest(name = "[F] {0}: a container with only an IPv4 address has no native IPv6")
    @ValueSource(strings = {"runc", "crun"})
    void fAnIpv4OnlyContainerHasNoNativeIpv6(String name) throws Exception {
        String own = nextAddress();
        leakChecked(() -> {
            try (ServerSocket l6 = new ServerSocket(0, 5, InetAddress.getByName("::1"));
                 DatagramSocket u6 = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("::1"), 0));
                 DatagramSocket p6 = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("::1"), 0));
                 Ctr c = start(new Spec(name).hostNet().ann(BIND_IP, own))) {
                assertStarted(c);
                String conn = c.probe("connect", "tcp6", "::1", Integer.toString(l6.getLocalPort()));
                l6.setSoTimeout(500);
                String accepted = null;
                try (Socket s = l6.accept()) {
                    accepted = s.getInetAddress().getHostAddress();
                } catch (SocketTimeoutException e) {
                    // nothing came
                }
                String send = c.probe("sendto", "udp6", "::1", port(u6));
                String sent = receiveSource(u6);
                String pktinfo = c.probe("pktinfo6", "::1", "::1", port(p6));
                String pkt = receiveSource(p6);
                List<String> wrong = new ArrayList<>();
                if (!conn.startsWith("err ") || accepted != null) {
                    wrong.add("TCP connect to [::1] (" + conn + "), the host accepted from " + accepted);
                }
                if (sent != null) {
                    wrong.add("UDP sendto [::1] (" + send + ") arrived from " + sent);
                }
                if (pkt != null) {
                    wrong.add("UDP with IPV6_PKTINFO to [::1] (" + pktinfo + ") arrived from " + pkt);
                }
                assertEquals(List.of(), wrong, "native IPv6 from a container whose only address is " + own);
            }
        });
    }

    @ParameterizedTest(name = "[F] {0}: TCP, MPTCP and v4-mapped connects leave from the container address")
    @ValueSource(strings = {"runc", "crun"})
    void fOutgoingConnectionsLeaveFromTheContainerAddress(String name) throws Exception {
        String own = nextAddress();
        leakChecked(() -> {
            try (ServerSocket l = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
                 Ctr c = start(new Spec(name).hostNet().ann(BIND_IP, own))) {
                assertStarted(c);
                l.setSoTimeout(1500);
                String port = Integer.toString(l.getLocalPort());
                List<String> wrong = new ArrayList<>();
                for (String[] a : new String[][] {{"tcp4", "127.0.0.1"}, {"mptcp4", "127.0.0.1"},
                    {"tcp6", "::ffff:127.0.0.1"}}) {
                    String line = c.probe("connect", a[0], a[1], port);
                    String peer = null;
                    try (Socket s = l.accept()) {
                        peer = s.getInetAddress().getHostAddress();
                    } catch (SocketTimeoutException e) {
                        // refused in the container
                    }
                    if (a[0].equals("tcp4") && !line.startsWith("ok ")) {
                        wrong.add("tcp4: " + line);
                    }
                    if (peer != null && !peer.equals(own)) {
                        wrong.add(a[0] + " (" + line + "): the host saw a connection from " + peer);
                    }
                }
                assertEquals(List.of(), wrong);
            }
        });
    }

    static Stream<Arguments> deniedProtocols() {
        return perRuntime("tcp", "udp");
    }

    @ParameterizedTest(name = "[F] {0}: dev.cgbpf.deny-sockets {1} also stops its relatives (MPTCP, UDP-Lite)")
    @MethodSource("deniedProtocols")
    void fDenyingAProtocolAlsoStopsItsRelatives(String name, String word) throws Exception {
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).ann(DENY_SOCKETS, word))) {
                assertStarted(c);
                if (word.equals("tcp")) {
                    denied(c.probe("socket", "inet", "tcp"), "EPERM");
                    denied(c.probe("socket", "inet", "mptcp"), "EPERM");
                    denied(c.probe("socket", "inet6", "mptcp"), "EPERM");
                    allowed(c.probe("socket", "inet", "udp"));
                } else {
                    denied(c.probe("socket", "inet", "udp"), "EPERM");
                    denied(c.probe("socket", "inet", "udplite"), "EPERM");
                    denied(c.probe("socket", "inet6", "udplite"), "EPERM");
                    allowed(c.probe("socket", "inet", "tcp"));
                }
            }
        });
    }

    @ParameterizedTest(name = "[F] {0}: deny raw, host network, CAP_NET_RAW kept: refused (AF_PACKET is out of reach)")
    @ValueSource(strings = {"runc", "crun"})
    void fRawDeniedWithCapNetRawOnTheHostNetworkIsRefused(String name) throws Exception {
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).hostNet().caps("CAP_NET_RAW"))) {
                if (c.running()) {
                    // say what the container could do that the policy claims to deny
                    c.probe("socket", "packet");
                    c.probe("socket", "inet", "raw");
                }
                assertRefused(c, "raw");
            }
        });
    }

    @ParameterizedTest(name = "[F] {0}: deny raw, host network, no CAP_NET_RAW: raw inet and packet sockets fail")
    @ValueSource(strings = {"runc", "crun"})
    void fRawDeniedWithoutCapNetRawFails(String name) throws Exception {
        leakChecked(() -> {
            try (Ctr c = start(new Spec(name).hostNet())) {
                assertStarted(c);
                denied(c.probe("socket", "inet", "raw"), "EPERM");
                denied(c.probe("socket", "inet6", "raw"), "EPERM");
                denied(c.probe("socket", "packet"), "EPERM");
            }
        });
    }

    // ---------------------------------------------------------------------------------------------
    // G. smaller ones

    @ParameterizedTest(name = "[G] {0}: config.json symlinked to a secret file: the hook's error does not show it")
    @ValueSource(strings = {"runc", "crun"})
    void gASymlinkedConfigJsonLeaksNothing(String name) throws Exception {
        Path secret = h.work.resolve("secret-" + name + ".txt");
        Files.writeString(secret, SECRET + " is the root password\nsecond line\n");
        Path hookStderr = h.work.resolve("hook-stderr-" + name + ".txt");
        leakChecked(() -> {
            // the bundle is valid when the runtime reads it; the hook finds config.json swapped for
            // a symbolic link (a bundle owner winning the race between the two reads)
            Spec s = new Spec(name).ann("run.oci.hooks.stderr", hookStderr.toString());
            s.hook = bundle -> swapper(bundle, secret);
            try (Ctr c = start(s)) {
                String runtimeSaid = c.start.stdout() + c.start.stderr();
                String hookSaid = Files.exists(hookStderr) ? Files.readString(hookStderr) : "";
                System.out.println(String.join("\n", logOf(c.id)));
                String log = Files.exists(h.hookLog) ? Files.readString(h.hookLog) : "";
                assertFalse(runtimeSaid.contains(SECRET), "the runtime's error shows the secret: " + runtimeSaid);
                assertFalse(hookSaid.contains(SECRET), "the hook's stderr shows the secret: " + hookSaid);
                assertFalse(log.contains(SECRET), "the hook log shows the secret: "
                        + log.lines().filter(l -> l.contains(SECRET)).toList());
                assertFalse(c.running(), "the container started although its config.json was not readable as one");
            }
        });
    }

    /** A hook executable that replaces BUNDLE/config.json by a link to {@code target} before the attach stage. */
    private static Path swapper(Path bundle, Path target) {
        try {
            Path w = bundle.resolve("hook-swapper");
            Files.writeString(w, "#!/bin/sh\nif [ \"$2\" = createRuntime ]; then ln -sfn " + target + " "
                    + bundle.resolve("config.json") + "; fi\nexec " + h.launcher + " \"$@\"\n");
            w.toFile().setExecutable(true);
            return w;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "[G] {0}: a full run dir (64 KiB tmpfs) leaves no state.json.tmp")
    @ValueSource(strings = {"runc", "crun"})
    void gAFullRunDirLeavesNoTemporaryRecord(String name) throws Exception {
        Path tiny = h.work.resolve("tiny-run-" + name);
        Files.createDirectories(tiny);
        sh("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "cgbpf-enospc", tiny.toString());
        try {
            fill(tiny.resolve("filler"));
            Set<String> before = new TreeSet<>();
            ContainerHarness.list(tiny, "run", before);
            leakChecked(() -> {
                Spec s = new Spec(name);
                s.runDir = tiny;
                try (Ctr c = start(s)) {
                    System.out.println(logOf(c.id));
                    if (c.running()) {
                        zeroIsReadOnly(c);
                    } else {
                        assertRefused(c, "space|ENOSPC");
                    }
                }
                Set<String> after = new TreeSet<>();
                ContainerHarness.list(tiny, "run", after);
                assertTrue(after.stream().noneMatch(f -> f.endsWith(".tmp")), "temporary files left: " + after);
                assertEquals(before, after, "files left in the full run dir");
            });
        } finally {
            sh("umount", tiny.toString());
        }
    }

    /** Writes {@code file} until the file system is full. */
    private static void fill(Path file) throws IOException {
        byte[] block = new byte[4096];
        try (OutputStream o = Files.newOutputStream(file)) {
            for (int i = 0; i < 1024; i++) {
                o.write(block);
                o.flush();
            }
        } catch (IOException e) {
            if (!String.valueOf(e.getMessage()).contains("No space left")) {
                throw e;
            }
            return;
        }
        fail("a 64 KiB tmpfs took 4 MiB");
    }

    private static void sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
        }
    }
}
