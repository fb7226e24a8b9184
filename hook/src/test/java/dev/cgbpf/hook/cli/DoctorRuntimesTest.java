package dev.cgbpf.hook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cgbpf.hook.daemon.DaemonProbe;
import dev.cgbpf.hook.oci.HookStage;
import dev.cgbpf.hook.oci.OciHooksFile;
import dev.cgbpf.hook.policy.AppliesTo;
import dev.cgbpf.hook.runtimes.Registrations;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cgbpf doctor}'s runtime lines: for each engine, whether cgbpf is registered, read from
 * made-up configuration files (podman's hooks.d, Docker's daemon.json, containerd's config.toml).
 */
class DoctorRuntimesTest {
    @TempDir
    Path dir;

    private Registrations places(Set<String> installed) {
        return new Registrations(List.of(dir.resolve("hooks.d"), dir.resolve("share-hooks.d")),
                dir.resolve("daemon.json"), dir.resolve("config.toml"), installed::contains);
    }

    private String doctor(Registrations r, String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Console c = new Console(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        new DoctorCommand(DoctorCommandTest::hostWithoutBpf, s -> new DaemonProbe.Result(
                DaemonProbe.State.NO_SOCKET, -1, "no socket", List.of()), r).run(new Args("doctor", List.of(args)), c);
        return out.toString(StandardCharsets.UTF_8);
    }

    private List<String> runtimeLines(String out) {
        return out.lines().filter(l -> l.startsWith("runtime ")).toList();
    }

    @Test
    void installedEnginesWithoutCgbpfAreReportedAsIgnoringTheSettings() throws Exception {
        List<String> lines = runtimeLines(doctor(places(Set.of("podman", "dockerd", "containerd"))));
        assertEquals(4, lines.size(), lines.toString());
        assertTrue(lines.get(0).matches("runtime +podman: NOT registered: no cgbpf hook for createRuntime in .*"
                + "dev.cgbpf.\\* annotations would be ignored"), lines.get(0));
        assertTrue(lines.get(1).matches("runtime +cri-o: not installed"), lines.get(1));
        assertTrue(lines.get(2).matches("runtime +docker: NOT registered: no .*daemon.json.*would be ignored"),
                lines.get(2));
        assertTrue(lines.get(3).matches("runtime +containerd: NOT registered: no BinaryName.*"), lines.get(3));
    }

    @Test
    void registeredEnginesSayWhere() throws Exception {
        Path hooks = Files.createDirectories(dir.resolve("share-hooks.d"));
        for (HookStage st : List.of(HookStage.CREATE_RUNTIME, HookStage.POSTSTOP)) {
            Files.writeString(hooks.resolve("cgbpf-" + st.specName() + ".json"),
                    OciHooksFile.render("/usr/local/bin/cgbpf-hook", st, AppliesTo.ANNOTATED));
        }
        Files.writeString(hooks.resolve("other.json"), "{\"version\": \"1.0.0\", \"hook\": {\"path\": \"/bin/x\"},"
                + " \"when\": {\"always\": true}, \"stages\": [\"prestart\"]}");
        Files.writeString(dir.resolve("daemon.json"), "{\"runtimes\": {\"nvidia\": {\"path\": \"/usr/bin/nvidia\"},"
                + " \"cgbpf\": {\"path\": \"/usr/local/bin/cgbpf-runtime\"}}}");
        Files.writeString(dir.resolve("config.toml"), """
                version = 2
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cgbpf]
                  runtime_type = "io.containerd.runc.v2"
                  pod_annotations = ["dev.cgbpf.*"]
                  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.cgbpf.options]
                    BinaryName = "/usr/local/bin/cgbpf-runtime"
                """);
        Registrations r = places(Set.of("podman", "crio", "dockerd", "containerd"));
        List<String> lines = runtimeLines(doctor(r));
        assertTrue(lines.get(0).matches("runtime +podman: registered: cgbpf hook createRuntime, poststop in .*"
                + "cgbpf-createRuntime.json, .*cgbpf-poststop.json"), lines.get(0));
        assertTrue(lines.get(1).startsWith("runtime       cri-o: registered: "), lines.get(1));
        assertTrue(lines.get(2).matches("runtime +docker: registered: runtime cgbpf in .*daemon.json \\(docker run"
                + " --runtime cgbpf\\)"), lines.get(2));
        assertTrue(lines.get(3).matches("runtime +containerd: registered: BinaryName cgbpf-runtime in .*config.toml,"
                + " pod_annotations pass dev.cgbpf.\\*"), lines.get(3));

        JsonNode j = JsonMapper.builder().build().readTree(doctor(r, "--json"));
        assertEquals(4, j.get("runtimes").size());
        assertEquals("docker", j.get("runtimes").get(2).get("name").asText());
        assertTrue(j.get("runtimes").get(2).get("registered").asBoolean());
        assertTrue(j.get("runtimes").get(2).get("installed").asBoolean());
    }

    @Test
    void onlyAPoststopOrABrokenFileIsNotRegistered() throws Exception {
        Path hooks = Files.createDirectories(dir.resolve("hooks.d"));
        Files.writeString(hooks.resolve("cgbpf-poststop.json"),
                OciHooksFile.render("/usr/local/bin/cgbpf-hook", HookStage.POSTSTOP, AppliesTo.ANNOTATED));
        assertTrue(runtimeLines(doctor(places(Set.of("podman")))).get(0).contains("NOT registered: no cgbpf hook for"
                + " createRuntime"));
        Files.writeString(dir.resolve("daemon.json"), "{\"runtimes\": ");
        assertTrue(runtimeLines(doctor(places(Set.of("dockerd")))).get(2).startsWith("runtime       docker: cannot read "));
    }
}
