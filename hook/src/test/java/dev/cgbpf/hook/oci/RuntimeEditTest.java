package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edit cgbpf-runtime asks for ({@link RuntimeEdit}), on files: no kernel, no runtime. */
class RuntimeEditTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path bundle;

    private Map<String, String> settings() throws Exception {
        Path policy = bundle.resolve("annotated.json");
        Files.writeString(policy, "{\"appliesTo\": \"annotated\"}");
        return Map.of("CGBPF_POLICY", policy.toString());
    }

    private void config(String annotations, String env) throws Exception {
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"sh\"],"
                + " \"env\": [" + env + "]}, \"root\": {\"path\": \"rootfs\"}, \"annotations\": {" + annotations + "}}");
    }

    private JsonNode read() throws Exception {
        return JSON.readTree(bundle.resolve("config.json").toFile());
    }

    @Test
    void anAnnotatedContainerGetsBothStagesWithTheShimsSettings() throws Exception {
        config("\"dev.cgbpf.devices\": \"deny c 1:5 w\"", "\"PATH=/bin\"");
        Map<String, String> fwd = Map.of("CGBPF_HOOK", "/opt/x/cgbpf-hook", "CGBPF_SOCKET", "/tmp/s.sock",
                "CGBPF_RUN_DIR", "/run/r", "UNRELATED", "no");
        RuntimeEdit.Result r = RuntimeEdit.run(settings(), fwd, bundle.toString());
        assertEquals(0, r.status(), r.line());
        JsonNode doc = read();
        for (String stage : List.of("createRuntime", "poststop")) {
            JsonNode h = doc.path("hooks").path(stage).get(0);
            assertEquals("/opt/x/cgbpf-hook", h.path("path").asText());
            assertEquals(List.of("cgbpf-hook", stage), JSON.convertValue(h.path("args"), List.class));
            assertEquals(List.of("CGBPF_RUN_DIR=/run/r", "CGBPF_SOCKET=/tmp/s.sock"),
                    JSON.convertValue(h.path("env"), List.class));
        }
        // a second edit (a retried create) replaces, never duplicates
        assertEquals(0, RuntimeEdit.run(settings(), fwd, bundle.toString()).status());
        assertEquals(1, read().path("hooks").path("createRuntime").size());
    }

    @Test
    void aContainerWithoutSettingsIsLeftByteForByte() throws Exception {
        config("\"org.example\": \"x\"", "\"PATH=/bin\", \"DEV.CGBPF.DEVICES=not ours\"");
        byte[] before = Files.readAllBytes(bundle.resolve("config.json"));
        RuntimeEdit.Result r = RuntimeEdit.run(settings(), Map.of(), bundle.toString());
        assertEquals(0, r.status(), r.line());
        assertArrayEquals(before, Files.readAllBytes(bundle.resolve("config.json")));
    }

    @Test
    void appliesToAllEditsEveryContainer() throws Exception {
        config("", "");
        Path policy = bundle.resolve("policy.json");
        Files.writeString(policy, "{\"appliesTo\": \"all\"}");
        assertEquals(0, RuntimeEdit.run(Map.of("CGBPF_POLICY", policy.toString()), Map.of("CGBPF_HOOK", "/x/cgbpf-hook"),
                bundle.toString()).status());
        assertTrue(read().path("hooks").has("createRuntime"));
    }

    @Test
    void dockerEnvironmentSettingsBecomeAnnotationsSpacesAndEqualsKept() throws Exception {
        config("", "\"PATH=/bin\", \"dev.cgbpf.devices=deny c 1:5 w\", \"dev.cgbpf.bind-ip=127.0.0.45\","
                + " \"X=dev.cgbpf.devices=a=b\"");
        assertEquals(0, RuntimeEdit.run(settings(), Map.of("CGBPF_HOOK", "/x/cgbpf-hook"), bundle.toString()).status());
        JsonNode doc = read();
        assertEquals("deny c 1:5 w", doc.path("annotations").path("dev.cgbpf.devices").asText());
        assertEquals("127.0.0.45", doc.path("annotations").path("dev.cgbpf.bind-ip").asText());
        assertEquals(List.of("PATH=/bin", "X=dev.cgbpf.devices=a=b"),
                JSON.convertValue(doc.path("process").path("env"), List.class));
        assertTrue(doc.path("hooks").has("poststop"));
    }

    @Test
    void oneSettingTwiceWithDifferentValuesIsRefusedAndTheFileKept() throws Exception {
        config("\"dev.cgbpf.devices\": \"deny c 1:5 w\"", "\"dev.cgbpf.devices=deny c 1:3 w\"");
        byte[] before = Files.readAllBytes(bundle.resolve("config.json"));
        RuntimeEdit.Result r = RuntimeEdit.run(settings(), Map.of(), bundle.toString());
        assertEquals(1, r.status());
        assertEquals("cgbpf: runtime-edit: setting 'dev.cgbpf.devices' is both an annotation ('deny c 1:5 w') and in"
                + " process.env ('deny c 1:3 w'); give it once", r.line());
        assertArrayEquals(before, Files.readAllBytes(bundle.resolve("config.json")));
    }

    @Test
    void badInputIsOneLine() throws Exception {
        RuntimeEdit.Result r = RuntimeEdit.run(settings(), Map.of(), "relative/dir");
        assertEquals(1, r.status());
        assertEquals("cgbpf: runtime-edit: bundle 'relative/dir' is not an absolute path of a directory", r.line());
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": ");
        r = RuntimeEdit.run(settings(), Map.of(), bundle.toString());
        assertEquals(1, r.status());
        assertFalse(r.line().contains("\n"));
        assertTrue(r.line().startsWith("cgbpf: runtime-edit: " + bundle.resolve("config.json") + ": "), r.line());
        config("\"dev.cgbpf.devices\": \"x\"", "");
        Path policy = bundle.resolve("policy.json");
        Files.writeString(policy, "{\"appliesTo\": \"some\"}");
        r = RuntimeEdit.run(Map.of("CGBPF_POLICY", policy.toString()), Map.of(), bundle.toString());
        assertEquals("cgbpf: runtime-edit: policy.json: field 'appliesTo': 'some' is not all or annotated", r.line());
    }
}
