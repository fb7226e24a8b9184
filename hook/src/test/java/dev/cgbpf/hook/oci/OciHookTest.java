package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.Reg;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.CgroupDir;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.ProgAttach;
import dev.cgbpf.kernel.ProgLoad;
import dev.cgbpf.kernel.ProgQuery;
import dev.cgbpf.kernel.CgroupMode;
import dev.cgbpf.kernel.CgroupV2Mount;
import dev.cgbpf.kernel.KernelRequired;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hook's stages on bad input, without a runtime: every failure is one line naming what was
 * wrong, and nothing is left behind (no record, no pins). The stages run against a fake /proc
 * (the state's pid is made up) and a fake cgroup v2 mount in a temporary directory; the kernel
 * is never reached because every case here fails before the attach, or, for the dry run, never
 * needs it.
 */
class OciHookTest {
    static final int PID = 4242;
    @TempDir
    Path tmp;
    Path bundle;
    Path proc;
    Path mount;
    HookSettings settings;

    @BeforeEach
    void setUp() throws IOException {
        bundle = Files.createDirectories(tmp.resolve("bundle"));
        proc = Files.createDirectories(tmp.resolve("proc").resolve(Integer.toString(PID)));
        mount = Files.createDirectories(tmp.resolve("cgroup2"));
        Files.createDirectories(mount.resolve("ctr1"));
        Files.writeString(proc.resolve("cgroup"), "5:devices:/ctr1\n0::/ctr1\n");
        Files.writeString(tmp.resolve("policy.json"), "{\"appliesTo\": \"annotated\"}");
        settings = new HookSettings(tmp.resolve("policy.json"), tmp.resolve("run"), tmp.resolve("pins"),
                tmp.resolve("hook.log"), HookSettings.BackendMode.DRY_RUN, HookSettings.AttachMode.LINK,
                tmp.resolve("proc"));
        config("\"annotations\": {\"dev.cgbpf.devices\": \"deny c 1:5 w\"}, \"linux\": {\"cgroupsPath\": \"/ctr1\"}");
    }

    @AfterEach
    void nothingLeft() throws IOException {
        assertEquals(List.of(), entries(tmp.resolve("pins")));
    }

    /** The names in {@code dir} (none when it is missing), the run directory's lock file left out. */
    static List<String> entries(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(RunDir.LOCK)).sorted().toList();
        }
    }

    /** The files of the container in the fake cgroup {@code name}, keyed by that directory's inode. */
    ContainerFiles files(String name) throws HookException {
        return settings.files(ContainerCgroup.idOf(mount.resolve(name)));
    }

    static ContainerStatus status(HookSettings s, String id) throws HookException {
        List<ContainerStatus> found = ContainerStatus.find(s, id);
        assertEquals(1, found.size(), found.toString());
        return found.get(0);
    }

    void config(String body) throws IOException {
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", " + body + "}");
    }

    OciHook hook(boolean bpfUsable) {
        return new OciHook(settings, new HookLog(settings.logFile()),
                () -> new BpfAvailability(bpfUsable, bpfUsable ? null : "test: no bpf"),
                () -> Optional.of(new CgroupV2Mount(mount, "/", CgroupMode.HYBRID)));
    }

    byte[] state(String id, Integer pid, String annotations) {
        return ("{\"ociVersion\": \"1.0.2\", \"id\": \"" + id + "\", \"status\": \"creating\", "
                + (pid == null ? "" : "\"pid\": " + pid + ", ") + "\"bundle\": \"" + bundle + "\""
                + (annotations == null ? "" : ", \"annotations\": {" + annotations + "}") + "}")
                .getBytes(StandardCharsets.UTF_8);
    }

    String fail(HookStage stage, byte[] state) {
        HookException e = assertThrows(HookException.class, () -> hook(true).run(stage, state));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        try {
            assertEquals(List.of(), entries(settings.runDir()), "record left after: " + e.getMessage());
        } catch (IOException io) {
            throw new java.io.UncheckedIOException(io);
        }
        return e.getMessage();
    }

    @Test
    void unknownAndUnsuitableStagesAreOneLineErrors() {
        assertEquals("unknown hook stage 'postStop' (cgbpf runs at createRuntime, prestart and poststop)",
                assertThrows(HookException.class, () -> HookStage.parse("postStop")).getMessage());
        assertTrue(assertThrows(HookException.class, () -> HookStage.parse("poststart")).getMessage()
                .startsWith("hook stage poststart runs after the user process has started"));
        assertTrue(assertThrows(HookException.class, () -> HookStage.parse("createContainer")).getMessage()
                .contains("mount namespace"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{not json                                                    | state: malformed JSON: ",
        "{\"ociVersion\":\"1\",\"id\":\"../x\",\"status\":\"creating\",\"bundle\":\"/b\"} | state: field 'id': '../x' is not a valid container id",
        "{\"ociVersion\":\"1\",\"id\":\"a\",\"status\":\"running\",\"pid\":-1,\"bundle\":\"/b\"} | state: field 'pid': -1 is not a process id",
    })
    void malformedStateFailsClosed(String json, String expected) {
        assertTrue(fail(HookStage.CREATE_RUNTIME, json.getBytes(StandardCharsets.UTF_8)).startsWith(expected));
    }

    @Test
    void malformedConfigJson() throws IOException {
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1\", \"linux\": {\"cgroupsPath\": 7}}");
        assertTrue(fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, null))
                .startsWith("config.json: field 'linux.cgroupsPath': "));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"dev.cgbpf.devices\": \"deny x 1:5 w\"      | annotation dev.cgbpf.devices",
        "\"dev.cgbpf.bind-ip\": \"8.8.8.8\"           | annotation dev.cgbpf.bind-ip: 8.8.8.8 is not an address of this machine",
        "\"dev.cgbpf.bind-ip\": \"127.0.0.300\"       | annotation dev.cgbpf.bind-ip: '127.0.0.300' is not an IPv4 address",
        "\"dev.cgbpf.bind-ip\": \"localhost\"         | annotation dev.cgbpf.bind-ip: 'localhost' is not an IPv4 or IPv6 address literal",
        "\"dev.cgbpf.devcies\": \"deny c 1:5 w\"      | annotation 'dev.cgbpf.devcies' is not a cgbpf annotation",
        "\"dev.cgbpf.devices\": \"allow /etc/passwd r\" | annotation dev.cgbpf.devices",
        "\"dev.cgbpf.devices\": \"deny c 1:5 w\\u0000\" | state: field 'annotations.dev.cgbpf.devices': contains a NUL byte",
    })
    void hostileAnnotationsAreOneLineErrors(String annotation, String expected) {
        String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, annotation));
        assertTrue(m.startsWith(expected), m);
    }

    /**
     * A hook in a user namespace (a rootless runtime's) or not running as root says so in one
     * line, before it tries anything of the kernel; the fake /proc's {@code self} stands for the
     * hook's own process.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0 1000 65536       | Uid: 0 0 0 0       | rootless container: the hook runs in a user namespace (its uid 0 is uid 1000 of the host), and only root of the host can attach cgroup-bpf programs",
        "1000 1000 1        | Uid: 1000 1000 0 0 | rootless container: the hook runs in a user namespace (uid map '1000 1000 1')",
        "0 0 4294967295     | Uid: 1000 1000 0 0 | the hook runs as uid 1000, not root: only root can attach cgroup-bpf programs",
    })
    void aHookThatIsNotRootOfTheHostSaysSoInOneLine(String uidMap, String status, String expected) throws IOException {
        Path self = Files.createDirectories(tmp.resolve("proc").resolve("self"));
        Files.writeString(self.resolve("uid_map"), "         " + uidMap.replace(" ", "      ") + "\n");
        Files.writeString(self.resolve("status"), "Name:\tjava\n" + status.replace(": ", ":\t").replace(" ", "\t")
                + "\n");
        settings = settings.withBackend(HookSettings.BackendMode.KERNEL);
        String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        assertTrue(m.startsWith(expected), m);
    }

    /**
     * The same from a real user namespace: {@code cgbpf hook createRuntime} under
     * {@code unshare --user --map-root-user}, as a rootless podman runs its hooks.
     */
    @Test
    void theHookInARealUserNamespaceRefusesInOneLine() throws Exception {
        Files.writeString(tmp.resolve("state.json"), new String(state("ctr1", PID, null), StandardCharsets.UTF_8));
        ProcessBuilder pb = new ProcessBuilder(dev.cgbpf.hook.daemon.DaemonProcess.command(
                List.of("unshare", "--user", "--map-root-user"), "hook", "createRuntime"))
                .redirectInput(tmp.resolve("state.json").toFile());
        pb.environment().put("CGBPF_POLICY", tmp.resolve("policy.json").toString());
        pb.environment().put("CGBPF_RUN_DIR", tmp.resolve("run").toString());
        pb.environment().put("CGBPF_PIN_DIR", tmp.resolve("pins").toString());
        pb.environment().put("CGBPF_LOG_FILE", tmp.resolve("hook.log").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(1, p.waitFor(), out + err);
        assertEquals(List.of("cgbpf: hook: rootless container: the hook runs in a user namespace (its uid 0 is uid 0"
                + " of the host), and only root of the host can attach cgroup-bpf programs; cgbpf cannot enforce a"
                + " policy for rootless containers (run it as root, or take cgbpf's hooks out of the rootless"
                + " runtime's configuration)"), err.lines().toList());
        assertEquals(List.of(), entries(settings.runDir()));
    }

    /**
     * A bind address is one of the host's: a container with a network namespace of its own (a new
     * one, or another container's) is refused it; one that joins the hook's own namespace by path
     * is on the host's network and gets it.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"type\": \"network\"}                                  | true",
        "{\"type\": \"network\", \"path\": \"/var/run/netns/pod1\"} | true",
        "{\"type\": \"network\", \"path\": \"/proc/self/ns/net\"}   | false",
        "{\"type\": \"pid\"}                                      | false",
    })
    void aBindAddressNeedsTheHostsNetwork(String namespace, boolean refused) throws IOException {
        config("\"annotations\": {\"dev.cgbpf.bind-ip\": \"127.0.0.1\"}, \"linux\": {\"cgroupsPath\": \"/ctr1\","
                + " \"namespaces\": [" + namespace + "]}");
        String expected = "annotation dev.cgbpf.bind-ip: the container has a network namespace of its own, where the"
                + " host's addresses do not exist; a bind address is for containers on the host's network";
        if (refused) {
            String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
            assertTrue(m.startsWith(expected), m);
        } else {
            HookException e = null;
            try {
                hook(true).run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
            } catch (HookException x) {
                e = x;
            }
            assertTrue(e == null || !e.getMessage().contains("network namespace of its own"), String.valueOf(e));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "../../etc                  | config.json: field 'linux.cgroupsPath': '../../etc' has a '..' component",
        "/ctr1/../..                | config.json: field 'linux.cgroupsPath': '/ctr1/../..' has a '..' component",
        "/                          | config.json: field 'linux.cgroupsPath': '/' names the root cgroup",
        "/other                     | state: process 4242 is in cgroup '/ctr1', which is not the container's per config.json linux.cgroupsPath '/other'",
        "machine.slice:cgbpf:ctr1   | state: process 4242 is in cgroup '/ctr1', which is not the container's",
    })
    void cgroupPathsThatDoNotNameTheContainersCgroupAreRefused(String cgroupsPath, String expected) throws IOException {
        config("\"annotations\": {\"dev.cgbpf.devices\": \"deny c 1:5 w\"}, \"linux\": {\"cgroupsPath\": \""
                + cgroupsPath + "\"}");
        String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        assertTrue(m.startsWith(expected), m);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0::/../../escape               | cgroup '/../../escape' lies outside this cgroup namespace",
        "0::/                           | state: process 4242 is in the root cgroup",
        "0::/ctr1 (deleted)             | process 4242: its cgroup '/ctr1 (deleted)' was removed",
        "1:cpu:/ctr1                    | process 4242 is in no cgroup v2 hierarchy",
    })
    void procCgroupLinesThatEscapeOrAreGoneAreRefused(String line, String expected) throws IOException {
        config("\"annotations\": {\"dev.cgbpf.devices\": \"deny c 1:5 w\"}");
        Files.writeString(proc.resolve("cgroup"), line + "\n");
        String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        assertTrue(m.startsWith(expected), m);
    }

    @Test
    void aSymlinkedCgroupDirectoryIsRefused() throws IOException {
        Files.delete(mount.resolve("ctr1"));
        Files.createDirectories(tmp.resolve("elsewhere"));
        Files.createSymbolicLink(mount.resolve("ctr1"), tmp.resolve("elsewhere"));
        String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        assertTrue(m.contains("is not a directory of the cgroup v2 hierarchy"), m);
    }

    @Test
    void theAttachStageNeedsAPid() {
        assertTrue(fail(HookStage.CREATE_RUNTIME, state("ctr1", null, null))
                .startsWith("state: field 'pid': missing; the createRuntime stage needs the container's process"));
    }

    @Test
    void aPolicyDenyingDevNullIsRefusedWithItsOwnMessage() {
        String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, "\"dev.cgbpf.devices\": \"deny c 1:3 rw\""));
        assertTrue(m.startsWith("the device policy denies read-write access to /dev/null (c 1:3)"), m);
    }

    @Test
    void aHundredThousandDistinctRulesAreTooManyAndADuplicatedRuleIsFine() throws Exception {
        // the host policy's limit of 40,000 patterns refuses (its maps shape could hold more)
        Files.writeString(settings.policy(), "{\"limits\": {\"deviceRules\": 200000, \"devicePatterns\": 40000}}");
        StringBuilder distinct = new StringBuilder();
        StringBuilder same = new StringBuilder();
        for (int i = 0; i < 100_000; i++) {
            distinct.append(i == 0 ? "" : ";").append("allow c 7:").append(i).append(" r");
            same.append(i == 0 ? "" : ";").append("deny c 1:5 w");
        }
        String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, "\"dev.cgbpf.devices\": \"" + distinct + "\""));
        assertTrue(m.startsWith("too many device rules: more than 40000 distinct device patterns"), m);
        OciHook.Outcome o = hook(false).run(HookStage.CREATE_RUNTIME,
                state("ctr1", PID, "\"dev.cgbpf.devices\": \"" + same + "\""));
        assertTrue(o.warning().startsWith("DRY RUN, NOTHING IS ENFORCED for container ctr1"), o.warning());
        AttachRecord r = AttachRecord.read(files("ctr1"));
        assertEquals(List.of("cgbpf_dev"), r.programs().stream().map(AttachRecord.Program::name).toList());
        hook(false).run(HookStage.POSTSTOP, state("ctr1", null, null));
        assertFalse(Files.exists(files("ctr1").recordDir()));
    }

    @Test
    void dryRunRecordsWhatWouldBeAttachedAndPoststopRemovesIt() throws Exception {
        // (bind addresses: aDryRunOfABindAddressPolicyVerifiesEveryProgram)
        OciHook.Outcome o = hook(false).run(HookStage.CREATE_RUNTIME,
                state("ctr1", PID, "\"dev.cgbpf.deny-sockets\": \"raw\""));
        assertEquals(0, o.status());
        AttachRecord r = AttachRecord.read(files("ctr1"));
        assertEquals(AttachRecord.DRY_RUN, r.backend());
        assertEquals(mount.resolve("ctr1").toString(), r.cgroup());
        assertEquals(List.of("cgbpf_dev", "cgbpf_sock"), r.programs().stream().map(AttachRecord.Program::name).toList());
        // the programs the kernel would get, denial event tail included (the engine has the ring buffer map)
        assertEquals(dev.cgbpf.hook.compile.SockCreateCompiler.compile(java.util.EnumSet.of(
                        dev.cgbpf.hook.policy.SocketRule.RAW), dev.cgbpf.hook.compile.DenialCounters.UNBOUND_WITH_EVENTS)
                .orElseThrow().program().size(), r.programs().get(1).insns());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(files("ctr1").record())));
        // a second attach stage (prestart after createRuntime) finds the record and does nothing
        assertEquals(0, hook(false).run(HookStage.PRESTART, state("ctr1", PID, null)).status());
        assertTrue(Files.readString(settings.logFile()).contains("already attached to " + mount.resolve("ctr1")));
        // crun's poststop state says pid 0
        hook(false).run(HookStage.POSTSTOP, ("{\"ociVersion\": \"1.0.2\", \"id\": \"ctr1\", \"status\": \"stopped\","
                + " \"pid\": 0, \"bundle\": \"" + bundle + "\"}").getBytes(StandardCharsets.UTF_8));
        assertFalse(Files.exists(files("ctr1").recordDir()));
        // and again: idempotent
        assertEquals(0, hook(false).run(HookStage.POSTSTOP, state("ctr1", null, null)).status());
    }

    /**
     * The dry run must verify a bind-address policy like any other: its connect programs call
     * bpf_bind (helper 64), which the kernel allows for cgroup_inet4/6_connect
     * (sock_addr_func_proto). Fails while the engine verifier refuses that helper: that is the
     * verifier's gap (task F), not something the hook may work around. Every family gets its
     * connect and send programs (a family without an address refuses), and the packet guards
     * (cgroup_skb, direct packet access) pass the engine verifier too.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "127.0.0.9      | cgbpf_dev cgbpf_bind4 cgbpf_bind6 cgbpf_conn4 cgbpf_conn6 cgbpf_send4 cgbpf_send6 cgbpf_in cgbpf_out",
        "127.0.0.9,::1  | cgbpf_dev cgbpf_bind4 cgbpf_bind6 cgbpf_conn4 cgbpf_conn6 cgbpf_send4 cgbpf_send6 cgbpf_in cgbpf_out",
        "::1            | cgbpf_dev cgbpf_bind4 cgbpf_bind6 cgbpf_conn4 cgbpf_conn6 cgbpf_send4 cgbpf_send6 cgbpf_in cgbpf_out",
    })
    void aDryRunOfABindAddressPolicyVerifiesEveryProgram(String bindIp, String programs) throws Exception {
        Files.writeString(settings.policy(), "{\"network\": {\"bindAddressPool\": [\"127.0.0.0/8\", \"::1/128\"]}}");
        OciHook.Outcome o = hook(false).run(HookStage.CREATE_RUNTIME,
                state("ctr1", PID, "\"dev.cgbpf.bind-ip\": \"" + bindIp + "\""));
        assertEquals(0, o.status());
        assertTrue(o.warning().startsWith("DRY RUN, NOTHING IS ENFORCED for container ctr1"), o.warning());
        AttachRecord r = AttachRecord.read(files("ctr1"));
        assertEquals(AttachRecord.DRY_RUN, r.backend());
        assertEquals(List.of(programs.split(" ")), r.programs().stream().map(AttachRecord.Program::name).toList());
        hook(false).run(HookStage.POSTSTOP, state("ctr1", null, null));
        assertFalse(Files.exists(files("ctr1").recordDir()));
    }

    /** {@code cgbpf status --json} of a dry run: the record, nothing attached, no counters. */
    @Test
    void statusJsonOfADryRun() throws Exception {
        hook(false).run(HookStage.CREATE_RUNTIME, state("ctr1", PID, "\"dev.cgbpf.deny-sockets\": \"raw\""));
        JsonNode j = new ObjectMapper().readTree(status(settings, "ctr1").json());
        assertEquals(List.of("id", "backend", "status", "mode", "stage", "origin", "containerdNamespace", "bundle",
                "cgroup", "cgroupExists", "cgroupId", "bindAddresses", "programs", "denials"), fieldNames(j));
        assertEquals("bundle", j.get("origin").asText());
        assertTrue(j.get("containerdNamespace").isNull());
        assertEquals(bundle.toString(), j.get("bundle").asText());
        assertEquals("ctr1", j.get("id").asText());
        assertEquals("dry-run", j.get("backend").asText());
        assertEquals("attached", j.get("status").asText());
        assertEquals("none", j.get("mode").asText());
        assertEquals("createRuntime", j.get("stage").asText());
        assertEquals(mount.resolve("ctr1").toString(), j.get("cgroup").asText());
        assertTrue(j.get("cgroupExists").asBoolean());
        assertEquals(2, j.get("programs").size());
        JsonNode sock = j.get("programs").get(1);
        assertEquals(List.of("name", "attachType", "progId", "insns", "tag", "attached"), fieldNames(sock));
        assertEquals("cgbpf_sock", sock.get("name").asText());
        assertEquals("cgroup_inet_sock_create", sock.get("attachType").asText());
        assertEquals(0, sock.get("progId").asInt());
        assertTrue(sock.get("insns").asInt() > 3, sock.toString());
        assertFalse(sock.get("attached").asBoolean(), "a dry run attaches nothing");
        assertEquals(0, j.get("denials").size());
        Files.delete(mount.resolve("ctr1"));
        assertFalse(new ObjectMapper().readTree(status(settings, "ctr1").json()).get("cgroupExists")
                .asBoolean());
        hook(false).run(HookStage.POSTSTOP, state("ctr1", null, null));
        assertEquals(List.of(), ContainerStatus.find(settings, "ctr1"));
    }

    /** {@code cgbpf status} takes the start of an id that is no other container's, as podman and Docker print it. */
    @Test
    void statusFindsAContainerByAUniquePrefixOfItsId() throws Exception {
        config("\"annotations\": {\"dev.cgbpf.deny-sockets\": \"raw\"}");
        // no cgroupsPath: each container's cgroup is named after its id
        Files.writeString(proc.resolve("cgroup"), "0::/3f9a1b2c4d5e6f\n");
        Files.createDirectories(mount.resolve("3f9a1b2c4d5e6f"));
        Path proc2 = Files.createDirectories(tmp.resolve("proc").resolve("4343"));
        Files.writeString(proc2.resolve("cgroup"), "0::/3f9a77\n");
        Files.createDirectories(mount.resolve("3f9a77"));
        hook(false).run(HookStage.CREATE_RUNTIME, state("3f9a1b2c4d5e6f", PID, null));
        hook(false).run(HookStage.CREATE_RUNTIME, state("3f9a77", 4343, null));
        assertEquals("3f9a1b2c4d5e6f", single(ContainerStatus.findByIdOrPrefix(settings, "3f9a1")).record().id());
        assertEquals("3f9a77", single(ContainerStatus.findByIdOrPrefix(settings, "3f9a77")).record().id());
        assertEquals(List.of(), ContainerStatus.findByIdOrPrefix(settings, "3f9b"));
        assertEquals("id prefix 3f9a matches 2 containers (3f9a1b2c4d5e6f, 3f9a77): give more of the id",
                assertThrows(HookException.class, () -> ContainerStatus.findByIdOrPrefix(settings, "3f9a"))
                        .getMessage());
        assertTrue(single(ContainerStatus.findByIdOrPrefix(settings, "3f9a1")).text()
                .contains("\norigin: bundle " + bundle + "\n"));
        hook(false).run(HookStage.POSTSTOP, state("3f9a1b2c4d5e6f", null, null));
        hook(false).run(HookStage.POSTSTOP, state("3f9a77", null, null));
        assertEquals(List.of(), ContainerStatus.find(settings, null));
    }

    private static ContainerStatus single(List<ContainerStatus> found) {
        assertEquals(1, found.size(), found.toString());
        return found.get(0);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/run/containerd/io.containerd.runtime.v2.task/moby/0123abcd              | docker             | moby    | Docker (containerd namespace moby)",
        "/run/containerd/io.containerd.runtime.v2.task/k8s.io/0123abcd            | kubernetes         | k8s.io  | Kubernetes through containerd's CRI plugin (containerd namespace k8s.io)",
        "/tmp/x/state/io.containerd.runtime.v2.task/default/web                   | containerd         | default | containerd namespace default",
        "/var/lib/containers/storage/overlay-containers/0123abcd/userdata          | containers-storage |         | podman or CRI-O (containers/storage bundle)",
        "/srv/bundles/web                                                        | bundle             |         | bundle /srv/bundles/web",
        "/run/containerd/io.containerd.runtime.v2.task/moby                       | bundle             |         | bundle /run/containerd/io.containerd.runtime.v2.task/moby",
    })
    void theOriginOfAContainerIsReadFromItsBundlePath(String bundlePath, String engine, String ns, String text) {
        ContainerOrigin o = ContainerOrigin.of(bundlePath);
        assertEquals(engine, o.engine());
        assertEquals(ns, o.namespace());
        assertEquals(text, o.description());
    }

    static List<String> fieldNames(JsonNode n) {
        List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** Bad container input is never a reason to start unprotected, whatever the failure policy says. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"dev.cgbpf.bind-ip\": \"8.8.8.8\"      | annotation dev.cgbpf.bind-ip: 8.8.8.8",
        "\"dev.cgbpf.devices\": \"bogus\"        | annotation dev.cgbpf.devices",
        "\"dev.cgbpf.typo\": \"x\"               | annotation 'dev.cgbpf.typo' is not a cgbpf annotation",
    })
    void failurePolicyOpenDoesNotCoverBadContainerInput(String annotation, String expected) throws Exception {
        Files.writeString(settings.policy(), "{\"failurePolicy\": \"open\"}");
        String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, annotation));
        assertTrue(m.startsWith(expected), m);
    }

    /** bpf(2) unusable on a real stage: closed refuses the container; open lets it start, loudly, recording nothing. */
    @Test
    void noSilentDryRunWhenBpfIsNotUsable() throws Exception {
        settings = settings.withBackend(HookSettings.BackendMode.KERNEL);
        HookException e = assertThrows(HookException.class, () -> hook(false).run(HookStage.CREATE_RUNTIME,
                state("ctr1", PID, null)));
        assertEquals("bpf(2) is not usable: test: no bpf", e.getMessage());
        assertEquals(List.of(), entries(settings.runDir()));
        Files.writeString(settings.policy(), "{\"failurePolicy\": \"open\"}");
        OciHook.Outcome o = hook(false).run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        assertEquals(0, o.status());
        assertEquals("failurePolicy open: container ctr1 starts WITHOUT its cgbpf policy: bpf(2) is not usable:"
                + " test: no bpf", o.warning());
        assertEquals(List.of(), entries(settings.runDir()), "no record pretends protection");
        assertTrue(assertThrows(HookException.class, () -> HookSettings.fromEnvironment(
                java.util.Map.of("CGBPF_BACKEND", "auto"))).getMessage().startsWith("CGBPF_BACKEND='auto' is no longer"));
    }

    /**
     * Two containers with one id (two runtimes, or two state roots) in two cgroups: each has its
     * own record, and the poststop of one leaves the other, whose cgroup still has processes.
     */
    @Test
    void containersWithTheSameIdAreKeptApart() throws Exception {
        Files.createDirectories(mount.resolve("ctr1b"));
        Files.writeString(mount.resolve("ctr1").resolve("cgroup.events"), "populated 1\nfrozen 0\n");
        Files.writeString(mount.resolve("ctr1b").resolve("cgroup.events"), "populated 1\nfrozen 0\n");
        config("\"annotations\": {\"dev.cgbpf.devices\": \"deny c 1:5 w\"}");
        hook(false).run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        // the second container: same id, same bundle, another cgroup (a runtime with another root)
        Files.writeString(proc.resolve("cgroup"), "0::/ctr1b\n");
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"annotations\": "
                + "{\"dev.cgbpf.devices\": \"deny c 1:5 w\"}, \"linux\": {\"cgroupsPath\": \"/ctr1b\"}}");
        hook(false).run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        assertEquals(2, ContainerStatus.find(settings, "ctr1").size());
        // the second one stops: its cgroup empties; poststop removes its record only
        Files.writeString(mount.resolve("ctr1b").resolve("cgroup.events"), "populated 0\nfrozen 0\n");
        hook(false).run(HookStage.POSTSTOP, state("ctr1", null, null));
        List<ContainerStatus> left = ContainerStatus.find(settings, "ctr1");
        assertEquals(1, left.size());
        assertEquals(mount.resolve("ctr1").toString(), left.get(0).record().cgroup());
        assertTrue(Files.readString(settings.logFile()).contains("still has processes; its programs stay"));
        // a third start of the id in the first cgroup finds the record in place
        Files.writeString(proc.resolve("cgroup"), "0::/ctr1\n");
        config("\"annotations\": {\"dev.cgbpf.devices\": \"deny c 1:5 w\"}");
        assertEquals(0, hook(false).run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null)).status());
        Files.writeString(mount.resolve("ctr1").resolve("cgroup.events"), "populated 0\nfrozen 0\n");
        hook(false).run(HookStage.POSTSTOP, state("ctr1", null, null));
        assertEquals(List.of(), entries(settings.runDir()));
    }

    /** A hook killed while writing its first record leaves a directory without one: the next stage sweeps it. */
    @Test
    void aRecordDirectoryLeftUnwrittenIsSwept() throws Exception {
        Path debris = Files.createDirectories(settings.runDir().resolve("4242"));
        Files.writeString(debris.resolve(ContainerFiles.RECORD + ".tmp"), "{\"version\": 2, \"id\": \"ct");
        Files.createDirectories(settings.runDir().resolve("not-a-cgroup-id"));
        hook(false).run(HookStage.POSTSTOP, state("ctr1", null, null));
        assertEquals(List.of("not-a-cgroup-id"), entries(settings.runDir()), "only the debris of a hook goes");
        Files.delete(settings.runDir().resolve("not-a-cgroup-id"));
    }

    /** A cgroup that holds another container's record is not taken over. */
    @Test
    void aCgroupHoldingAnotherContainersProgramsIsRefused() throws Exception {
        Files.writeString(mount.resolve("ctr1").resolve("cgroup.events"), "populated 1\n");
        config("\"annotations\": {\"dev.cgbpf.devices\": \"deny c 1:5 w\"}");
        hook(false).run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        config("\"annotations\": {\"dev.cgbpf.devices\": \"deny c 1:5 w\"}, \"linux\": {\"cgroupsPath\": \"/ctr1\"}");
        HookException e = assertThrows(HookException.class, () -> hook(false).run(HookStage.CREATE_RUNTIME,
                state("other", PID, null)));
        assertTrue(e.getMessage().contains("already holds the cgbpf programs of container ctr1"), e.getMessage());
        assertEquals(1, ContainerStatus.find(settings, "ctr1").size());
        Files.writeString(mount.resolve("ctr1").resolve("cgroup.events"), "populated 0\n");
        hook(false).run(HookStage.POSTSTOP, state("ctr1", null, null));
    }

    /** Bind addresses come from the host's pool, and two running containers never hold the same one. */
    @Test
    void bindAddressesAreLeasedFromThePool() throws Exception {
        Files.writeString(settings.policy(), "{\"network\": {\"bindAddressPool\": [\"127.77.0.0/30\"]}}");
        Files.createDirectories(mount.resolve("ctr2"));
        for (String c : List.of("ctr1", "ctr2")) {
            Files.writeString(mount.resolve(c).resolve("cgroup.events"), "populated 1\n");
        }
        config("\"annotations\": {\"dev.cgbpf.bind-ip\": \"127.0.0.1\"}");
        assertTrue(fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, null)).startsWith(
                "annotation dev.cgbpf.bind-ip: 127.0.0.1 is not in the host policy's network.bindAddressPool"));
        config("\"annotations\": {\"dev.cgbpf.bind-ip\": \"127.77.0.1\"}");
        hook(false).run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        assertEquals(List.of("127.77.0.1"), files("ctr1").record().toFile().exists()
                ? AttachRecord.read(files("ctr1")).bindAddresses() : List.of());
        Files.writeString(proc.resolve("cgroup"), "0::/ctr2\n");
        HookException taken = assertThrows(HookException.class,
                () -> hook(false).run(HookStage.CREATE_RUNTIME, state("ctr2", PID, null)));
        assertEquals("annotation dev.cgbpf.bind-ip: 127.77.0.1 is held by running container ctr1 (the host policy"
                + " does not let containers share bind addresses)", taken.getMessage());
        config("\"annotations\": {\"dev.cgbpf.bind-ip\": \"auto\"}");
        hook(false).run(HookStage.CREATE_RUNTIME, state("ctr2", PID, null));
        assertEquals(List.of("127.77.0.2"), AttachRecord.read(files("ctr2")).bindAddresses());
        // the pool /30 hands out .1 and .2 only: a third container finds none free
        Files.createDirectories(mount.resolve("ctr3"));
        Files.writeString(proc.resolve("cgroup"), "0::/ctr3\n");
        assertTrue(assertThrows(HookException.class, () -> hook(false).run(HookStage.CREATE_RUNTIME,
                state("ctr3", PID, null))).getMessage().startsWith("annotation dev.cgbpf.bind-ip: auto: no free address"));
        // once ctr1's cgroup is gone its address is free again
        Files.delete(mount.resolve("ctr1").resolve("cgroup.events"));
        Files.delete(mount.resolve("ctr1"));
        hook(false).run(HookStage.CREATE_RUNTIME, state("ctr3", PID, null));
        assertEquals(List.of("127.77.0.1"), AttachRecord.read(files("ctr3")).bindAddresses());
        for (String c : List.of("ctr1", "ctr2", "ctr3")) {
            if (Files.exists(mount.resolve(c).resolve("cgroup.events"))) {
                Files.writeString(mount.resolve(c).resolve("cgroup.events"), "populated 0\n");
            }
            hook(false).run(HookStage.POSTSTOP, state(c, null, null));
        }
        assertEquals(List.of(), entries(settings.runDir()));
    }

    /** A config.json that is a symbolic link to a file that is not JSON: the error quotes nothing of it. */
    @Test
    void errorsAboutUnreadableInputDoNotEchoIt() throws Exception {
        Path secret = tmp.resolve("shadow");
        Files.writeString(secret, "root:SECRETHASH:19000:0:99999:7:::\n");
        Files.delete(bundle.resolve("config.json"));
        Files.createSymbolicLink(bundle.resolve("config.json"), secret);
        String m = fail(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
        assertTrue(m.startsWith("config.json: malformed JSON: syntax error at line 1"), m);
        assertFalse(m.contains("root") || m.contains("SECRET"), m);
    }

    @Test
    void containersWithoutAnnotationsAreLeftAlone() throws Exception {
        config("\"linux\": {\"cgroupsPath\": \"/ctr1\"}");
        assertEquals(new OciHook.Outcome(0, null), hook(true).run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null)));
        assertFalse(Files.exists(files("ctr1").recordDir()));
    }

    /**
     * A dry run is the kernel path's code on the engine: for the same bundle it attaches the same
     * programs (names, attach types, sizes, and the tags, which hash the instructions) as the
     * kernel does.
     */
    @Test
    void aDryRunAttachesWhatTheKernelPathAttaches() throws Exception {
        KernelRequired.check();
        CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow();
        Path cg = v2.mountPoint().resolve("cgbpf-dryrun-" + ProcessHandle.current().pid());
        Files.createDirectory(cg);
        Path pins = Path.of("/sys/fs/bpf/cgbpf-dryrun-" + ProcessHandle.current().pid());
        try {
            Files.writeString(proc.resolve("cgroup"), "0::/" + cg.getFileName() + "\n");
            Files.writeString(settings.policy(), "{\"devices\": [{\"allow\": false, \"type\": \"c\", \"major\": 1,"
                    + " \"minor\": 5, \"access\": \"w\"}], \"network\": {\"denySockets\": [\"raw\"]}}");
            config("\"annotations\": {\"dev.cgbpf.devices\": \"deny c 1:8 rw\", \"dev.cgbpf.bind-ip\": \"auto\","
                    + " \"dev.cgbpf.bind-ports\": \"8000-8099\"}, \"linux\": {\"cgroupsPath\": \"/" + cg.getFileName() + "\"}");
            HookSettings kernel = new HookSettings(settings.policy(), settings.runDir(), pins, settings.logFile(),
                    HookSettings.BackendMode.KERNEL, HookSettings.AttachMode.LINK, settings.procRoot());
            HookSettings dry = kernel.withBackend(HookSettings.BackendMode.DRY_RUN);
            ContainerFiles f = kernel.files(ContainerCgroup.idOf(cg));
            List<AttachRecord.Program> onKernel;
            new OciHook(kernel, new HookLog(null), BpfAvailability::probe, CgroupV2Mount::discover)
                    .run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
            onKernel = AttachRecord.read(f).programs();
            new OciHook(kernel, new HookLog(null), BpfAvailability::probe, CgroupV2Mount::discover)
                    .run(HookStage.POSTSTOP, state("ctr1", null, null));
            assertFalse(Files.exists(f.recordDir()));
            new OciHook(dry, new HookLog(null), () -> new BpfAvailability(false, "test: no bpf"), CgroupV2Mount::discover)
                    .run(HookStage.CREATE_RUNTIME, state("ctr1", PID, null));
            List<AttachRecord.Program> onEngine = AttachRecord.read(f).programs();
            assertEquals(11, onKernel.size(), onKernel.toString());
            assertTrue(onKernel.stream().allMatch(p -> p.progId() > 0 && p.tag().matches("[0-9a-f]{16}")), onKernel.toString());
            // the same programs, instruction for instruction (the tag is the kernel's hash of them):
            // the ones with a refusal report it on both (docs/events.md), the engine has the ring buffer
            assertEquals(onKernel.stream().map(p -> p.name() + " " + p.attachType() + " " + p.insns() + " " + p.tag()).toList(),
                    onEngine.stream().map(p -> p.name() + " " + p.attachType() + " " + p.insns() + " " + p.tag()).toList());
            new OciHook(dry, new HookLog(null), () -> new BpfAvailability(false, "test: no bpf"), CgroupV2Mount::discover)
                    .run(HookStage.POSTSTOP, state("ctr1", null, null));
            assertFalse(Files.exists(pins.resolve(f.key())), "a dry run leaves no pins on the host");
        } finally {
            Files.deleteIfExists(cg);
            if (Files.isDirectory(pins)) {
                try (Stream<Path> s = Files.walk(pins)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    /** The kernel path of a failing attach: a program the kernel refuses leaves nothing behind. */
    @Test
    void aKernelRefusalMidwayRollsBackEverything() throws Exception {
        KernelRequired.check();
        // a real cgroup the hook can attach to, and a fake /proc naming it
        CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow();
        Path cg = v2.mountPoint().resolve("cgbpf-hooktest-" + ProcessHandle.current().pid());
        Files.createDirectory(cg);
        Path pins = Path.of("/sys/fs/bpf/cgbpf-unit-" + ProcessHandle.current().pid());
        try {
            Files.writeString(proc.resolve("cgroup"), "0::/" + cg.getFileName() + "\n");
            config("\"linux\": {\"cgroupsPath\": \"/" + cg.getFileName() + "\"}");
            settings = new HookSettings(settings.policy(), settings.runDir(), pins, settings.logFile(),
                    HookSettings.BackendMode.KERNEL, HookSettings.AttachMode.LINK, settings.procRoot());
            OciHook real = new OciHook(settings, new HookLog(settings.logFile()), BpfAvailability::probe,
                    CgroupV2Mount::discover);
            String id = "ctr1";
            ContainerFiles f = settings.files(ContainerCgroup.idOf(cg));
            // attach, then attach again (idempotent), then poststop
            String ann = "\"dev.cgbpf.devices\": \"deny c 1:5 w\", \"dev.cgbpf.bind-ip\": \"127.0.0.9\"";
            real.run(HookStage.CREATE_RUNTIME, state(id, PID, ann));
            AttachRecord r = AttachRecord.read(f);
            assertEquals(AttachRecord.ATTACHED, r.status());
            assertEquals(9, r.programs().size());
            try (Stream<Path> s = Files.list(f.pinDir())) {
                assertEquals(19, s.count(), "9 program pins, 9 link pins, the counter map");
            }
            JsonNode status = new ObjectMapper().readTree(status(settings, id).json());
            assertEquals("kernel", status.get("backend").asText());
            assertEquals("link", status.get("mode").asText());
            for (JsonNode p : status.get("programs")) {
                assertTrue(p.get("attached").asBoolean(), p.toString());
                assertTrue(p.get("progId").asInt() > 0, p.toString());
            }
            assertEquals(new ObjectMapper().readTree(
                    "{\"device\": 0, \"bind_address\": 0, \"bind_port\": 0, \"socket\": 0, \"address_traffic\": 0}"), status.get("denials"));
            real.run(HookStage.PRESTART, state(id, PID, ann));
            assertEquals(r, AttachRecord.read(f));
            real.run(HookStage.POSTSTOP, state(id, null, null));
            assertFalse(Files.exists(f.pinDir()));
            assertFalse(Files.exists(f.recordDir()));
            // midway refusal: an exclusive (non-multi) connect4 program already on the cgroup makes the
            // kernel refuse the 4th program (EPERM) after three are attached: all must go again
            try (Fd cgfd = CgroupDir.open(cg);
                 Fd blocker = ProgLoad.progLoad(ProgType.CGROUP_SOCK_ADDR.value(),
                         new Asm().movImm(Reg.R0, 1).exit().build().encode(), "GPL", "blocker",
                         AttachType.CGROUP_INET4_CONNECT.value(), 0).fd()) {
                ProgAttach.progAttach(cgfd, blocker, AttachType.CGROUP_INET4_CONNECT.value(), Set.of(), null);
                HookException e = assertThrows(HookException.class, () -> real.run(HookStage.CREATE_RUNTIME,
                        state(id, PID, ann)));
                assertTrue(e.getMessage().startsWith("EPERM: BPF_LINK_CREATE (attach type 10) failed"), e.getMessage());
                assertFalse(Files.exists(f.pinDir()));
                assertFalse(Files.exists(f.recordDir()));
                for (AttachType t : List.of(AttachType.CGROUP_DEVICE, AttachType.CGROUP_INET4_BIND,
                        AttachType.CGROUP_INET6_BIND)) {
                    assertEquals(0, ProgQuery.progQuery(cgfd, t.value(), 0, 8, false).count(), t + " after rollback");
                }
                ProgAttach.progDetach(cgfd, blocker, AttachType.CGROUP_INET4_CONNECT.value());
            }
        } finally {
            Files.deleteIfExists(cg);
            if (Files.isDirectory(pins)) {
                try (Stream<Path> s = Files.walk(pins)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }
}
