package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code cgbpf hook install --bundle DIR}: the edit of config.json. */
class BundleHooksTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Fields cgbpf does not model, numbers in every JSON spelling, and another tool's hooks. */
    private static final String CONFIG = """
            {"ociVersion": "1.0.2-dev",
             "x-vendor": {"half": 1.50, "exp": 1e3, "Exp": 1.0E10, "tiny": 1E-7, "u64": 18446744073709551615,
                          "belowLong": -9223372036854775809, "negZero": -0, "negZeroF": -0.0, "plain": 100},
             "process": {"args": ["sh"], "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                         "user": {"uid": 0, "gid": 0}, "cwd": "/"},
             "hooks": {"prestart": [{"path": "/usr/bin/other-tool", "args": ["other-tool", "prestart"]}],
                       "x-future-stage": [{"path": "/usr/bin/x"}]},
             "root": {"path": "rootfs"},
             "annotations": {"org.example.note": "caf\\u00e9 \\"quoted\\""},
             "linux": {"resources": {"memory": {"limit": 536870912, "swap": -1}, "cpu": {"shares": 1024}},
                       "x-unknown": [null, true, false, [], {}]}}
            """;
    @TempDir
    Path bundle;

    private Path config() {
        return bundle.resolve("config.json");
    }

    private static BundleHooks hooks(HookStage stage, List<String> env, Integer timeout) {
        return new BundleHooks("/usr/local/bin/cgbpf", stage, env, timeout);
    }

    /** The number tokens of a JSON text, in order, as written. */
    private static List<String> numbers(String json) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("(?<=[:\\[,]\\s{0,20})-?\\d[0-9.eE+-]*").matcher(json);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    @Test
    void keepsEveryUnknownFieldInOrderAndEveryNumberAsWritten() throws Exception {
        Files.writeString(config(), CONFIG);
        hooks(HookStage.CREATE_RUNTIME, List.of("CGBPF_RUN_DIR=/run/x"), 5).install(bundle);
        String after = Files.readString(config());

        List<String> before = numbers(CONFIG);
        assertTrue(before.containsAll(List.of("1.50", "1e3", "1.0E10", "1E-7", "18446744073709551615",
                "-9223372036854775809", "-0", "-0.0", "536870912", "-1")), before.toString());
        List<String> got = numbers(after);
        // ours adds one timeout per entry (createRuntime, poststop); everything else as it was, in order
        assertEquals(2, got.stream().filter("5"::equals).count(), after);
        assertEquals(before, got.stream().filter(n -> !n.equals("5")).toList(), after);

        ObjectNode was = (ObjectNode) JSON.readTree(CONFIG);
        ObjectNode is = (ObjectNode) JSON.readTree(after);
        assertEquals(fieldNames(was), fieldNames(is), "top-level fields and their order");
        for (String f : fieldNames(was)) {
            if (!f.equals("hooks")) {
                assertEquals(was.get(f), is.get(f), f);
            }
        }
        assertEquals("café \"quoted\"", is.at("/annotations/org.example.note").asText());
        JsonNode h = is.get("hooks");
        assertEquals(List.of("prestart", "x-future-stage", "createRuntime", "poststop"), fieldNames(h));
        assertEquals(was.at("/hooks/prestart"), h.get("prestart"), "another tool's hook stays");
        assertEquals(was.at("/hooks/x-future-stage"), h.get("x-future-stage"));
        assertEquals(JSON.readTree("""
                [{"path": "/usr/local/bin/cgbpf", "args": ["cgbpf", "hook", "createRuntime"],
                  "env": ["CGBPF_RUN_DIR=/run/x"], "timeout": 5}]"""), h.get("createRuntime"));
        assertEquals(JSON.readTree("""
                [{"path": "/usr/local/bin/cgbpf", "args": ["cgbpf", "hook", "poststop"],
                  "env": ["CGBPF_RUN_DIR=/run/x"], "timeout": 5}]"""), h.get("poststop"));
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    @Test
    void aSecondInstallReplacesItsOwnEntriesAndChangesNothingElse() throws Exception {
        Files.writeString(config(), CONFIG);
        Files.setPosixFilePermissions(config(), PosixFilePermissions.fromString("rw-r-----"));
        hooks(HookStage.CREATE_RUNTIME, List.of(), null).install(bundle);
        byte[] once = Files.readAllBytes(config());
        hooks(HookStage.CREATE_RUNTIME, List.of(), null).install(bundle);
        assertArrayEquals(once, Files.readAllBytes(config()), "install twice = install once");
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(config())));
        // switching the attach stage moves our entry; the other tool's prestart hook stays first
        hooks(HookStage.PRESTART, List.of(), null).install(bundle);
        JsonNode h = JSON.readTree(Files.readString(config())).get("hooks");
        assertFalse(h.has("createRuntime"), h.toString());
        assertEquals(2, h.get("prestart").size());
        assertEquals("/usr/bin/other-tool", h.get("prestart").get(0).get("path").asText());
        assertEquals("/usr/local/bin/cgbpf", h.get("prestart").get(1).get("path").asText());
        assertEquals(1, h.get("poststop").size());
        try (var s = Files.list(bundle)) {
            assertEquals(List.of(config()), s.toList(), "no temporary file left");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "{\"ociVersion\": \"1\",",
        "[1, 2]",
        "{\"ociVersion\": \"1\"} {\"second\": 1}",
        "{\"ociVersion\": \"1\", \"hooks\": [\"x\"]}",
        "{\"ociVersion\": \"1\", \"hooks\": {\"poststop\": {\"path\": \"/x\"}}}",
        "{\"ociVersion\": \"1\", \"linux\": {\"cgroupsPath\": 7}}",
    })
    void malformedConfigJsonIsRefusedWithOneLineAndLeftAlone(String text) throws IOException {
        Files.writeString(config(), text);
        HookException e = assertThrows(HookException.class,
                () -> hooks(HookStage.CREATE_RUNTIME, List.of(), null).install(bundle));
        assertTrue(e.getMessage().startsWith("config.json"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertEquals(text, Files.readString(config(), StandardCharsets.UTF_8), "file untouched");
    }

    @Test
    void badSettingsAreRefusedBeforeTheFileIsTouched() throws IOException {
        Files.writeString(config(), CONFIG);
        assertEquals("hook path 'cgbpf' is not absolute (runtimes require an absolute path)",
                assertThrows(HookException.class, () -> new BundleHooks("cgbpf", HookStage.CREATE_RUNTIME, List.of(),
                        null).install(bundle)).getMessage());
        assertEquals("hook environment entry 'NOEQUALS' is not KEY=VALUE",
                assertThrows(HookException.class, () -> hooks(HookStage.CREATE_RUNTIME, List.of("NOEQUALS"), null)
                        .install(bundle)).getMessage());
        assertEquals("hook timeout 0 is not greater than zero",
                assertThrows(HookException.class, () -> hooks(HookStage.CREATE_RUNTIME, List.of(), 0)
                        .install(bundle)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> hooks(HookStage.POSTSTOP, List.of(), null));
        assertEquals(CONFIG, Files.readString(config()));
        assertTrue(assertThrows(HookException.class, () -> hooks(HookStage.CREATE_RUNTIME, List.of(), null)
                .install(bundle.resolve("missing"))).getMessage().startsWith("config.json"));
    }

    @Test
    void theCClientIsRegisteredAsCgbpfHookStageAndReplacesTheLauncherEntries() throws Exception {
        Files.writeString(config(), CONFIG);
        hooks(HookStage.CREATE_RUNTIME, List.of(), null).install(bundle);
        new BundleHooks("/usr/local/bin/cgbpf-hook", HookStage.CREATE_RUNTIME, List.of("CGBPF_RUN_DIR=/run/x"), null)
                .install(bundle);
        JsonNode h = JSON.readTree(Files.readString(config())).get("hooks");
        assertEquals(JSON.readTree("""
                [{"path": "/usr/local/bin/cgbpf-hook", "args": ["cgbpf-hook", "createRuntime"],
                  "env": ["CGBPF_RUN_DIR=/run/x"]}]"""), h.get("createRuntime"));
        assertEquals(JSON.readTree("""
                [{"path": "/usr/local/bin/cgbpf-hook", "args": ["cgbpf-hook", "poststop"],
                  "env": ["CGBPF_RUN_DIR=/run/x"]}]"""), h.get("poststop"));
        assertEquals(JSON.readTree(CONFIG).at("/hooks/prestart"), h.get("prestart"), "another tool's hook stays");
        // and back, from another directory: still one entry per stage
        new BundleHooks("/opt/cgbpf/bin/cgbpf", HookStage.PRESTART, List.of(), null).install(bundle);
        h = JSON.readTree(Files.readString(config())).get("hooks");
        assertFalse(h.has("createRuntime"), h.toString());
        assertEquals(2, h.get("prestart").size(), h.toString());
        assertEquals(JSON.readTree("""
                {"path": "/opt/cgbpf/bin/cgbpf", "args": ["cgbpf", "hook", "prestart"]}"""), h.get("prestart").get(1));
        assertEquals(JSON.readTree("""
                [{"path": "/opt/cgbpf/bin/cgbpf", "args": ["cgbpf", "hook", "poststop"]}]"""), h.get("poststop"));
    }

    @Test
    void anotherToolsHookNamedLikeOursIsNotOurs() throws Exception {
        // "cgbpf-hook" as argv[0] of some other program, and a program that merely has "hook" as args[1]
        Files.writeString(config(), """
                {"ociVersion": "1.0.2", "hooks": {"poststop": [
                  {"path": "/usr/bin/other", "args": ["cgbpf-hook", "poststop"]},
                  {"path": "/usr/bin/other", "args": ["other", "hook", "poststop"]}]}}
                """);
        new BundleHooks("/usr/local/bin/cgbpf-hook", HookStage.CREATE_RUNTIME, List.of(), null).install(bundle);
        JsonNode post = JSON.readTree(Files.readString(config())).at("/hooks/poststop");
        assertEquals(3, post.size(), post.toString());
        assertEquals("/usr/local/bin/cgbpf-hook", post.get(2).get("path").asText());
    }

    @Test
    void theDefaultIsTheClientWhenItIsInstalled() throws Exception {
        Path client = bundle.resolve("cgbpf-hook");
        assertEquals(HookExecutable.LAUNCHER, HookExecutable.defaultPath(client), "not installed");
        Files.writeString(client, "");
        assertEquals(HookExecutable.LAUNCHER, HookExecutable.defaultPath(client), "not executable");
        assertTrue(client.toFile().setExecutable(true));
        assertEquals(client.toString(), HookExecutable.defaultPath(client));
        assertEquals(List.of("cgbpf-hook", "poststop"), HookExecutable.args("/x/cgbpf-hook", HookStage.POSTSTOP));
        assertEquals(List.of("cgbpf", "hook", "poststop"), HookExecutable.args("/x/cgbpf", HookStage.POSTSTOP));
        assertEquals(List.of("cgbpf", "hook", "prestart"), HookExecutable.args("/x/cgbpf-hook.sh", HookStage.PRESTART));
    }

    @Test
    void theOciHooksFileNamesTheClientOrTheLauncher() throws Exception {
        JsonNode c = JSON.readTree(OciHooksFile.render("/usr/local/bin/cgbpf-hook", HookStage.CREATE_RUNTIME,
                dev.cgbpf.hook.policy.AppliesTo.ANNOTATED));
        assertEquals(JSON.readTree("""
                {"version": "1.0.0",
                 "hook": {"path": "/usr/local/bin/cgbpf-hook", "args": ["cgbpf-hook", "createRuntime"]},
                 "when": {"annotations": {"^dev\\\\.cgbpf\\\\.": ".*"}},
                 "stages": ["createRuntime"]}"""), c);
        JsonNode l = JSON.readTree(OciHooksFile.render("/usr/local/bin/cgbpf", HookStage.POSTSTOP,
                dev.cgbpf.hook.policy.AppliesTo.ALL));
        assertEquals(JSON.readTree("""
                {"version": "1.0.0",
                 "hook": {"path": "/usr/local/bin/cgbpf", "args": ["cgbpf", "hook", "poststop"]},
                 "when": {"always": true},
                 "stages": ["poststop"]}"""), l);
    }
}
