package dev.cgbpf.hook.runtimes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.hook.daemon.DaemonProcess;
import dev.cgbpf.hook.oci.ContainerHarness;
import dev.cgbpf.hook.oci.HookStage;
import dev.cgbpf.hook.oci.OciHooksFile;
import dev.cgbpf.hook.oci.OciRuntime;
import dev.cgbpf.hook.policy.AppliesTo;
import dev.cgbpf.hookclient.HookClient;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * cgbpf under the container engines users have, from Debian's packages, each started by this
 * class on private sockets and state directories and stopped after: podman with crun and with
 * runc (hooks.d), containerd ({@code ctr run --runc-binary cgbpf-runtime}) and Docker
 * ({@code dockerd --add-runtime cgbpf=cgbpf-runtime}). The container is busybox (a rootfs from
 * the host's static busybox; imported where the engine wants an image) with a device deny and a
 * bind address on the host network. Each test checks, inside the container, that a write to
 * /dev/zero fails while reads work and that a listener on the wildcard address lands on the
 * container's address; and after the container is removed, that its records, pins and programs
 * are gone. A cgbpf daemon of this class serves the hook and the shim; its fallback is the JVM.
 * Engines missing: a failure under CGBPF_REQUIRE_KERNEL=1 (CI installs them), else skipped.
 */
class RuntimesEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> APPLETS = List.of("sh", "echo", "cat", "head", "wc", "sleep", "grep", "nc",
            "true");
    private static ContainerHarness h;
    private static DaemonProcess daemon;
    private static Path policy;
    private static Path rootfs;

    @BeforeAll
    static void setUp() throws Exception {
        h = ContainerHarness.open("rt");
        policy = h.work.resolve("policy.json");
        Files.writeString(policy, "{\"failurePolicy\": \"closed\", \"appliesTo\": \"annotated\"}\n");
        daemon = DaemonProcess.start(h.work.resolve("daemon.sock"), Map.of(), h.work.resolve("daemon.log"));
        rootfs = h.work.resolve("image/rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("bin/busybox"));
        rootfs.resolve("bin/busybox").toFile().setExecutable(true, false);
        for (String a : APPLETS) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(a), Path.of("busybox"));
        }
        for (String d : List.of("proc", "dev", "sys", "tmp", "etc")) {
            Files.createDirectories(rootfs.resolve(d));
        }
        Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
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

    /** Which of the two ways the hook and the shim's edit are done. */
    enum Via {
        /** this class's daemon; the fallback launcher does not exist, so a container that starts enforced was served by it */
        DAEMON,
        /** no daemon at the socket: the client execs the JVM hook, the shim runs {@code cgbpf runtime-edit} */
        JVM
    }

    /** The settings the hook and the shim run with: this class's daemon, run dir, pins, log and policy. */
    private static Map<String, String> settings() {
        return settings(Via.DAEMON);
    }

    private static Map<String, String> settings(Via via) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CGBPF_SOCKET", h.work.resolve(via == Via.DAEMON ? "daemon.sock" : "no-daemon.sock").toString());
        env.put("CGBPF_LAUNCHER", via == Via.DAEMON ? h.work.resolve("no-launcher").toString() : h.launcher.toString());
        env.put("CGBPF_RUN_DIR", h.runDir.toString());
        env.put("CGBPF_PIN_DIR", h.pinDir.toString());
        env.put("CGBPF_LOG_FILE", h.hookLog.toString());
        env.put("CGBPF_POLICY", policy.toString());
        return env;
    }

    private static Path shim() {
        Path p = Path.of(System.getProperty("cgbpf.runtime.shim", "../native/target/cgbpf-runtime"));
        assertTrue(Files.isExecutable(p), p + " is missing: build native first");
        return p.toAbsolutePath().normalize();
    }

    private static void need(String... commands) {
        for (String c : commands) {
            if (!Proc.installed(c)) {
                OciRuntime.missing(c + " is not installed (apt-get install podman containerd docker.io)");
            }
        }
    }

    /** The container's command: the device checks, then a listener on the wildcard address, as the kernel lists it. */
    private static List<String> script(int port) {
        return List.of("sh", "-c", String.join("; ",
                "echo x > /dev/zero && echo zero-write-allowed || echo zero-write-denied",
                "echo zero-read $(head -c 4 /dev/zero | wc -c)",
                "echo x > /dev/null && echo null-write-ok",
                // Docker's -e settings are moved out of the environment by the shim
                "echo settings-in-environment $(grep -c dev.cgbpf /proc/1/environ)",
                "nc -l -p " + port + " </dev/null >/dev/null 2>&1 & sleep 1",
                // /proc/net/tcp{,6} name a socket's address and port in hex; 0A is LISTEN
                "grep -ih ':" + String.format("%04X", port) + " [0:]* 0A' /proc/net/tcp /proc/net/tcp6"
                        + " | while read n local rest; do echo listening $local; done",
                "kill $!"));
    }

    private static int port(int slot) {
        return 42000 + (int) (ProcessHandle.current().pid() % 1000) * 5 + slot;
    }

    /** What the container printed says the device rule and the bind address were in force. */
    private static void assertEnforced(String how, Proc r, String own, int port) throws IOException {
        System.out.printf("%s: exit %d%n%s%s", how, r.exit(), r.stdout(), r.stderr());
        assertEquals(0, r.exit(), how + ": " + r.stderr());
        assertTrue(r.stdout().contains("zero-write-denied"), how + ":\n" + r.stdout());
        assertTrue(r.stdout().contains("zero-read 4"), how + ":\n" + r.stdout());
        assertTrue(r.stdout().contains("null-write-ok"), how + ":\n" + r.stdout());
        assertTrue(r.stdout().contains("settings-in-environment 0"), how + ":\n" + r.stdout());
        byte[] a = InetAddress.getByName(own).getAddress();
        // busybox nc listens on [::]; the inet6 bind program moves it to ::ffff:own (the kernel
        // prints an in6_addr as four 32-bit words, each in host order)
        String hex = String.format("0000000000000000FFFF0000%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], port);
        assertTrue(r.stdout().contains("listening " + hex), how + ": expected a listener at " + hex + " (" + own + ":"
                + port + "):\n" + r.stdout());
    }

    /** After removal: the run dir and pin dir as before, the programs attached for {@code id} gone (15 s at most). */
    private static void assertNothingLeft(String id, Set<String> before) throws Exception {
        long end = System.nanoTime() + 15_000_000_000L;
        while (!(before.equals(h.files()) && ContainerHarness.stillLoaded(h.progIdsOf(id)).isEmpty())
                && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertFalse(h.progIdsOf(id).isEmpty(), "the hook log names the programs attached for " + id);
        assertEquals(before, h.files(), "records and pins before and after " + id);
        assertEquals(Set.of(), ContainerHarness.stillLoaded(h.progIdsOf(id)), "programs of " + id + " still loaded");
        assertTrue(daemon.process().isAlive(), "the cgbpf daemon died: " + daemon.logText());
    }

    // ---------------------------------------------------------------- podman

    /** podman's hooks directory with cgbpf's two oci-hooks(5) files, the C client with this class's settings. */
    private static Path hooksDir() throws IOException {
        Path dir = h.work.resolve("hooks.d");
        Files.createDirectories(dir);
        for (HookStage st : List.of(HookStage.CREATE_RUNTIME, HookStage.POSTSTOP)) {
            ObjectNode doc = (ObjectNode) JSON.readTree(OciHooksFile.render(HookClient.binary().toString(), st,
                    AppliesTo.ANNOTATED));
            var env = ((ObjectNode) doc.get("hook")).putArray("env");
            settings().forEach((k, v) -> env.add(k + "=" + v));
            Files.writeString(dir.resolve("cgbpf-" + st.specName() + ".json"), JSON.writeValueAsString(doc));
        }
        return dir;
    }

    private static List<String> podman(String runtime, String... args) {
        // short: podman refuses a runroot path longer than 50 characters
        Path p = h.work.resolve("p");
        List<String> cmd = new ArrayList<>(List.of("podman", "--root", p.resolve("root").toString(), "--runroot",
                p.resolve("run").toString(), "--tmpdir", p.resolve("tmp").toString(), "--storage-driver", "vfs",
                "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", runtime, "--log-level",
                "error"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @ParameterizedTest(name = "podman + {0}")
    @ValueSource(strings = {"crun", "runc"})
    void podmanThroughHooksDir(String runtime) throws Exception {
        need("podman", runtime);
        int slot = runtime.equals("crun") ? 0 : 1;
        String own = "127.0.0." + (41 + slot);
        int port = port(slot);
        Path tar = h.work.resolve("image.tar");
        Proc.ok(List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."), Map.of(), null, 60);
        Proc.ok(podman(runtime, "import", tar.toString(), "localhost/cgbpf-busybox:test"), Map.of(), null, 120);
        Path cid = h.work.resolve("podman-" + runtime + ".cid");
        List<String> run = new ArrayList<>(List.of("--hooks-dir", hooksDir().toString(), "run", "--rm", "--cidfile",
                cid.toString(), "--network", "host", "--ulimit", "nofile=20000:20000", "--ulimit",
                "nproc=32768:32768", "--annotation", "dev.cgbpf.devices=deny c 1:5 w", "--annotation",
                "dev.cgbpf.bind-ip=" + own,
                "localhost/cgbpf-busybox:test"));
        run.addAll(script(port));
        Set<String> before = h.files();
        Proc r = Proc.run(podman(runtime, run.toArray(String[]::new)), Map.of(), null, 180);
        assertEnforced("podman + " + runtime, r, own, port);
        assertNothingLeft(Files.readString(cid).strip(), before);
    }

    /**
     * crun does not show a refusing hook's line; {@code run.oci.hooks.stderr=FILE} has crun write
     * the hooks' stderr there (what docs/runtimes.md tells podman+crun users to do).
     */
    @Test
    void podmanCrunRefusalLineReachesTheHooksStderrFile() throws Exception {
        need("podman", "crun");
        Path tar = h.work.resolve("image.tar");
        Proc.ok(List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."), Map.of(), null, 60);
        Proc.ok(podman("crun", "import", tar.toString(), "localhost/cgbpf-busybox:test"), Map.of(), null, 120);
        Path stderrFile = h.work.resolve("crun-hooks.stderr");
        Set<String> before = h.files();
        Proc r = Proc.run(podman("crun", "--hooks-dir", hooksDir().toString(), "run", "--rm", "--network", "host",
                "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768", "--annotation",
                "dev.cgbpf.devices=deny c 1:3 w", "--annotation", "run.oci.hooks.stderr=" + stderrFile,
                "localhost/cgbpf-busybox:test", "echo", "CONTAINER-STARTED"), Map.of(), null, 180);
        assertTrue(r.exit() != 0, r.stdout());
        assertFalse(r.stdout().contains("CONTAINER-STARTED"), r.stdout());
        String text = "cgbpf: hook: the device policy denies read-write access to /dev/null (c 1:3)";
        assertTrue(Files.exists(stderrFile) && Files.readString(stderrFile).contains(text),
                "hooks' stderr file: " + (Files.exists(stderrFile) ? Files.readString(stderrFile) : "missing"));
        assertEquals(before, h.files(), "nothing kept for the refused container");
    }

    // ---------------------------------------------------------------- containerd

    @Test
    void containerdThroughCgbpfRuntime() throws Exception {
        need("containerd", "ctr", "runc");
        Path dir = h.work.resolve("containerd");
        Files.createDirectories(dir);
        Path sock = dir.resolve("containerd.sock");
        Path config = dir.resolve("config.toml");
        Files.writeString(config, """
                version = 2
                root = "%1$s/root"
                state = "%1$s/state"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "%1$s/containerd.sock"
                [ttrpc]
                  address = "%1$s/containerd.sock.ttrpc"
                [debug]
                  address = ""
                [plugins."io.containerd.internal.v1.opt"]
                  path = "%1$s/opt"
                """.formatted(dir));
        try (Service ctd = Service.start("containerd", List.of("containerd", "--config", config.toString()),
                settings(Via.DAEMON), dir.resolve("containerd.log"), () -> Files.exists(sock))) {
            String id = "cgbpf-rt-ctr-" + ProcessHandle.current().pid();
            String own = "127.0.0.43";
            int port = port(2);
            Set<String> before = h.files();
            List<String> cmd = new ArrayList<>(List.of("ctr", "--address", sock.toString(), "--namespace", "cgbpf-test",
                    "run", "--rm", "--rootfs", "--runc-binary", shim().toString(), "--net-host", "--env", "PATH=/bin",
                    "--annotation", "dev.cgbpf.devices=deny c 1:5 w", "--annotation", "dev.cgbpf.bind-ip=" + own,
                    rootfs.toString(), id));
            cmd.addAll(script(port));
            Proc r = Proc.run(cmd, Map.of(), null, 180);
            assertEnforced("ctr run --runc-binary cgbpf-runtime", r, own, port);
            assertNothingLeft(id, before);

            // no settings: the shim hands the container to runc as it is
            List<String> ctr = List.of("ctr", "--address", sock.toString(), "--namespace", "cgbpf-test", "run", "--rm",
                    "--rootfs", "--runc-binary", shim().toString(), "--env", "PATH=/bin");
            Proc plain = Proc.run(cat(ctr, rootfs.toString(), id + "-plain", "sh", "-c",
                    "echo x > /dev/zero && echo zero-write-allowed"), Map.of(), null, 180);
            assertEquals(0, plain.exit(), plain.stderr());
            assertEquals("zero-write-allowed", plain.stdout().strip());
            assertEquals(List.of(), h.hookLogLines(" " + id + "-plain "), "no hook ran for a container without settings");

            // settings the hook refuses (the runtime's own /dev/null rule denied): the container never starts
            Proc refused = Proc.run(cat(ctr, "--annotation", "dev.cgbpf.devices=deny c 1:3 w", rootfs.toString(),
                    id + "-refused", "sh", "-c", "echo CONTAINER-STARTED"), Map.of(), null, 180);
            assertTrue(refused.exit() != 0, refused.stdout());
            assertFalse(refused.stdout().contains("CONTAINER-STARTED"), refused.stdout());
            assertEquals(before, h.files(), "nothing kept for the refused container");
            assertTrue(h.hookLogLines(" " + id + "-refused ").stream().anyMatch(l -> l.contains(
                    "the device policy denies read-write access to /dev/null")), h.hookLogLines(id).toString());
            assertTrue(ctd.alive(), ctd.logTail());
        }
    }

    // ---------------------------------------------------------------- Docker

    @Test
    void dockerThroughCgbpfRuntimeWithSettingsInTheEnvironment() throws Exception {
        need("dockerd", "/usr/bin/docker", "runc", "containerd");
        Path dir = h.work.resolve("docker");
        Files.createDirectories(dir);
        Path sock = dir.resolve("docker.sock");
        String host = "unix://" + sock;
        List<String> cmd = List.of("dockerd", "-H", host, "--data-root", dir.resolve("data").toString(),
                "--exec-root", dir.resolve("exec").toString(), "--pidfile", dir.resolve("dockerd.pid").toString(),
                "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
                "--storage-driver", "vfs", "--exec-opt", "native.cgroupdriver=cgroupfs", "--add-runtime",
                "cgbpf=" + shim(), "--log-level", "error");
        // no daemon here: the shim's edit is `cgbpf runtime-edit`, the hook the JVM's
        try (Service dockerd = Service.start("dockerd", cmd, settings(Via.JVM), dir.resolve("dockerd.log"),
                () -> ping(host))) {
            Path tar = h.work.resolve("docker-image.tar");
            Proc.ok(List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."), Map.of(), null, 60);
            Proc.ok(List.of("/usr/bin/docker", "-H", host, "import", tar.toString(), "cgbpf-busybox:test"), Map.of(),
                    null, 120);
            String own = "127.0.0.44";
            int port = port(3);
            Path cid = dir.resolve("cid");
            Set<String> before = h.files();
            List<String> run = new ArrayList<>(List.of("/usr/bin/docker", "-H", host, "run", "--rm", "--cidfile",
                    cid.toString(), "--runtime", "cgbpf", "--network", "host", "-e", "dev.cgbpf.devices=deny c 1:5 w",
                    "-e", "dev.cgbpf.bind-ip=" + own, "cgbpf-busybox:test"));
            run.addAll(script(port));
            Proc r = Proc.run(run, Map.of(), null, 180);
            assertEnforced("docker run --runtime cgbpf -e dev.cgbpf.*", r, own, port);
            assertNothingLeft(Files.readString(cid).strip(), before);

            // a label does not reach config.json: the same settings as labels enforce nothing
            List<String> labelled = new ArrayList<>(List.of("/usr/bin/docker", "-H", host, "run", "--rm", "--runtime",
                    "cgbpf", "--network", "none", "--label", "dev.cgbpf.devices=deny c 1:5 w", "cgbpf-busybox:test",
                    "sh", "-c", "echo x > /dev/zero && echo zero-write-allowed || echo zero-write-denied"));
            Proc l = Proc.run(labelled, Map.of(), null, 180);
            assertEquals(0, l.exit(), l.stderr());
            assertEquals("zero-write-allowed", l.stdout().strip(), "labels are not forwarded to the OCI spec");
            assertTrue(dockerd.alive(), dockerd.logTail());
        } finally {
            unmountBelow(dir);
        }
    }

    /** dockerd leaves its exec root's netns/default (an nsfs bind mount) behind when it stops: undo it. */
    private static void unmountBelow(Path dir) throws IOException, InterruptedException {
        List<String> below = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String mountPoint = line.split(" ")[4];
            if (mountPoint.startsWith(dir + "/")) {
                below.add(mountPoint);
            }
        }
        below.sort(java.util.Comparator.reverseOrder());
        for (String m : below) {
            Proc.run(List.of("umount", "-l", m), Map.of(), null, 30);
        }
    }

    private static List<String> cat(List<String> a, String... more) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(more));
        return out;
    }

    private static boolean ping(String host) {
        try {
            return Proc.run(List.of("/usr/bin/docker", "-H", host, "version", "--format", "{{.Server.Version}}"),
                    Map.of(), null, 20).exit() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
