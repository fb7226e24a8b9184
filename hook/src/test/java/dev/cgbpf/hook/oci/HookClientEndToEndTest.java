package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hookclient.HookClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The C client {@code cgbpf-hook} (native/target/cgbpf-hook) registered in real runc and crun
 * bundles by {@code cgbpf hook install --path .../cgbpf-hook}, as install.sh's users get it.
 *
 * <p>The daemon's socket is the system property {@code cgbpf.e2e.socket} when set (a running
 * {@code cgbpf daemon}); by default a path where nothing listens, so every stage takes the
 * fallback: the client execs the harness's launcher ({@code CGBPF_LAUNCHER}), the JVM hook, which
 * does the work. Either way the container must see the policy and leave nothing behind.
 */
class HookClientEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ContainerHarness h;
    private static Path policy;
    private static Path socket;

    @BeforeAll
    static void setUp() throws Exception {
        h = ContainerHarness.open("client");
        policy = h.work.resolve("policy.json");
        Files.writeString(policy, "{\"failurePolicy\": \"closed\", \"appliesTo\": \"annotated\"}\n");
        String s = System.getProperty("cgbpf.e2e.socket");
        socket = s != null && !s.isEmpty() ? Path.of(s) : h.work.resolve("no-daemon.sock");
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (h != null) {
            h.close();
        }
    }

    /** A bundle whose hook is the C client, talking to {@link #socket}, falling back to the harness's launcher. */
    private static Path clientBundle(String id, List<String> args, Map<String, String> annotations) throws IOException {
        Path b = h.bundles.bundle(h.work.resolve("bundles").resolve(id), args, annotations, false);
        h.install(b, policy, HookClient.binary(), h.runDir,
                List.of("CGBPF_SOCKET=" + socket, "CGBPF_LAUNCHER=" + h.launcher));
        return b;
    }

    private static void assertNothingLeft(String id, Set<String> before) throws BpfException, IOException {
        assertEquals(before, h.files(), "records and pins before and after the container");
        assertEquals(Set.of(), ContainerHarness.stillLoaded(h.progIdsOf(id)),
                "programs the hook attached for " + id + " still in the kernel");
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun"})
    void throughTheClientAWriteToDevZeroIsDeniedAndNothingIsLeft(String name) throws Exception {
        OciRuntime rt = h.runtime(name);
        String id = h.newId(name);
        Path b = clientBundle(id, List.of("sh", "-c", String.join("; ",
                "echo x > /dev/zero && echo zero-write-allowed || echo zero-write-denied",
                "echo zero-read $(head -c 4 /dev/zero | wc -c)",
                "echo x > /dev/null && echo null-write-ok")), Map.of("dev.cgbpf.devices", "deny c 1:5 w"));
        JsonNode hooks = JSON.readTree(b.resolve("config.json").toFile()).get("hooks");
        assertEquals(HookClient.binary().toString(), hooks.at("/createRuntime/0/path").asText(), hooks.toString());
        assertEquals(List.of("cgbpf-hook", "createRuntime"), strings(hooks.at("/createRuntime/0/args")));
        assertEquals(List.of("cgbpf-hook", "poststop"), strings(hooks.at("/poststop/0/args")));
        Set<String> before = h.files();
        try {
            long t0 = System.nanoTime();
            OciRuntime.Run r = rt.run(b, id);
            System.out.printf("%s run through cgbpf-hook (socket %s): %.0f ms, exit %d%n%s%s", name, socket,
                    (System.nanoTime() - t0) / 1e6, r.exit(), r.stdout(), r.stderr());
            assertEquals(0, r.exit(), r.stderr());
            assertTrue(r.stdout().contains("zero-write-denied"), r.stdout());
            assertTrue(r.stdout().contains("zero-read 4"), r.stdout());
            assertTrue(r.stdout().contains("null-write-ok"), r.stdout());
            assertFalse(h.progIdsOf(id).isEmpty(), "the hook log names the programs attached for " + id);
        } finally {
            rt.forceDelete(id);
        }
        assertNothingLeft(id, before);
    }

    @ParameterizedTest
    @ValueSource(strings = {"runc", "crun"})
    void throughTheClientARefusedContainerDoesNotStartAndGetsTheHooksLine(String name) throws Exception {
        OciRuntime rt = h.runtime(name);
        String id = h.newId(name);
        Path b = clientBundle(id, List.of("sh", "-c", "echo CONTAINER-STARTED"),
                Map.of("dev.cgbpf.devices", "deny c 1:3 w"));
        Set<String> before = h.files();
        String text = "the device policy denies read-write access to /dev/null (c 1:3)";
        try {
            OciRuntime.Run r = rt.run(b, id);
            assertNotEquals(0, r.exit());
            assertFalse(r.stdout().contains("CONTAINER-STARTED"), r.stdout());
            if (name.equals("runc")) {
                // the client's (or, after the fallback, the JVM's) stderr reaches runc's error
                assertTrue(r.stderr().contains("stderr: cgbpf: hook: " + text), r.stderr());
            }
            List<String> errors = h.hookLogLines(" " + id + " createRuntime: ").stream()
                    .filter(l -> l.contains(" ERROR ")).toList();
            assertEquals(1, errors.size(), errors.toString());
            assertTrue(errors.get(0).contains(text), errors.get(0));
        } finally {
            rt.forceDelete(id);
        }
        assertNothingLeft(id, before);
    }

    /**
     * {@code runc run} of the same container with the client and with the launcher registered
     * directly: what the client's fallback adds to a JVM hook (median of 3 each, printed).
     */
    @Test
    void wallTimeOfRuncRunThroughTheClientAndThroughTheLauncher() throws Exception {
        OciRuntime rt = h.runtime("runc");
        List<Double> client = new ArrayList<>();
        List<Double> launcher = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            for (boolean viaClient : new boolean[] {true, false}) {
                String id = h.newId("runc");
                List<String> args = List.of("true");
                Map<String, String> ann = Map.of("dev.cgbpf.devices", "deny c 1:5 w");
                Path b = viaClient ? clientBundle(id, args, ann) : h.bundle(id, args, ann, false, policy);
                try {
                    long t0 = System.nanoTime();
                    OciRuntime.Run r = rt.run(b, id);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    assertEquals(0, r.exit(), r.stderr());
                    (viaClient ? client : launcher).add(ms);
                } finally {
                    rt.forceDelete(id);
                }
            }
        }
        client.sort(null);
        launcher.sort(null);
        System.out.printf("runc run (true), median of 3: through cgbpf-hook (socket %s) %.0f ms %s, through the"
                + " launcher %.0f ms %s%n", socket, client.get(1), client, launcher.get(1), launcher);
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asText()));
        return out;
    }
}
