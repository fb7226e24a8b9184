package dev.cgbpf.hookclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The runtime shim {@code cgbpf-runtime} (native/src/main/c/cgbpf-runtime.c, built by this module)
 * with a fake real runtime (a script recording its argv), a fake daemon and a fake JVM launcher:
 * which subcommands ask for the bundle edit, the exact request, the hand-over with the same argv,
 * the JVM fallback, and that a needed edit that failed never runs the runtime.
 */
class CgbpfRuntimeShimTest {
    private static final String ANNOTATED = """
            {"ociVersion":"1.0.2","process":{"args":["sh"]},"root":{"path":"rootfs"},
             "annotations":{"dev.cgbpf.devices":"deny c 1:5 w"}}
            """;
    private static final String PLAIN = """
            {"ociVersion":"1.0.2","process":{"args":["sh"]},"root":{"path":"rootfs"}}
            """;

    @TempDir
    Path work;
    private Path socket;
    private Path bundle;
    private Path launcher;
    private Path launcherOut;
    private Path runtime;
    private Path runtimeOut;

    @BeforeEach
    void fakes() throws IOException {
        socket = work.resolve("cgbpf.sock");
        bundle = Files.createDirectory(work.resolve("bundle"));
        Files.writeString(bundle.resolve("config.json"), ANNOTATED);
        launcherOut = work.resolve("launcher.args");
        launcher = script("fake-cgbpf", launcherOut, 0);
        runtimeOut = work.resolve("runtime.args");
        runtime = script("fake-runc", runtimeOut, 0);
    }

    /** A script that writes its argv (argv[0] first) one per line to out and exits with status. */
    private Path script(String name, Path out, int status) throws IOException {
        Path p = work.resolve(name);
        Files.writeString(p, """
                #!/bin/sh
                printf '%%s\\n' "$0" "$@" > '%s'
                echo "%s ran" >&2
                exit %d
                """.formatted(out, name, status));
        assertTrue(p.toFile().setExecutable(true));
        return p;
    }

    private static Path shim() {
        String p = System.getProperty("cgbpf.runtime.shim");
        Path b = p != null ? Path.of(p) : Path.of("target", "cgbpf-runtime");
        assertTrue(Files.isExecutable(b), b + " is missing: build native first");
        return b.toAbsolutePath().normalize();
    }

    private Map<String, String> env(String... more) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CGBPF_SOCKET", socket.toString());
        env.put("CGBPF_LAUNCHER", launcher.toString());
        env.put("CGBPF_RUNTIME", runtime.toString());
        env.put("CGBPF_POLICY", work.resolve("no-policy.json").toString());
        for (int i = 0; i < more.length; i += 2) {
            env.put(more[i], more[i + 1]);
        }
        return env;
    }

    private HookClient.Result run(Map<String, String> env, Path cwd, String... args) throws Exception {
        return HookClient.run(shim(), List.of(args), env, new byte[0], work, cwd);
    }

    private List<String> argv(Path out) throws IOException {
        return Files.exists(out) ? Files.readAllLines(out) : List.of();
    }

    private static List<String> with(String first, String... rest) {
        List<String> l = new ArrayList<>(List.of(first));
        l.addAll(List.of(rest));
        return l;
    }

    @ParameterizedTest
    @ValueSource(strings = {"state", "delete", "kill", "start", "exec", "features", "--version", "ps", "update"})
    void everyOtherSubcommandGoesStraightToTheRuntime(String sub) throws Exception {
        String[] args = {"--root", "/run/x", "--log", "/l.json", sub, "--bundle", bundle.toString(), "c1"};
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            HookClient.Result r = run(env(), null, args);
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(0, d.connections());
        }
        assertEquals(with(runtime.toString(), args), argv(runtimeOut));
        assertFalse(Files.exists(launcherOut));
    }

    @Test
    void createAsksTheDaemonToEditTheBundleThenRunsTheRuntimeWithTheSameArguments() throws Exception {
        String[] args = {"--root", "/run/containerd/runc/k8s.io", "--log", "/x/log.json", "--log-format", "json",
                "--systemd-cgroup", "create", "--bundle", bundle.toString(), "--pid-file", "/x/init.pid", "c1"};
        Path hook = work.resolve("my-hook");
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            HookClient.Result r = run(env("CGBPF_RUN_DIR", "/run/r", "CGBPF_HOOK", hook.toString(),
                    "CGBPF_OTHER", "x"), null, args);
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(1, d.requests().size());
            String body = bundle.toRealPath().toString();
            assertEquals("cgbpf-hook 1 bundle\n"
                            + "env CGBPF_POLICY=" + work.resolve("no-policy.json") + "\n"
                            + "env CGBPF_RUN_DIR=/run/r\n"
                            + "env CGBPF_SOCKET=" + socket + "\n"
                            + "env CGBPF_LAUNCHER=" + launcher + "\n"
                            + "env CGBPF_HOOK=" + hook + "\n"
                            + "state " + body.length() + "\n" + body,
                    new String(d.requests().get(0), StandardCharsets.UTF_8));
        }
        assertEquals(with(runtime.toString(), args), argv(runtimeOut));
    }

    @Test
    void theHookRegisteredByDefaultIsTheCgbpfHookNextToTheShim() throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            assertEquals(0, run(env(), null, "run", "-b", bundle.toString(), "c1").exit());
            String req = new String(d.requests().get(0), StandardCharsets.UTF_8);
            assertTrue(req.contains("env CGBPF_HOOK=" + shim().getParent().resolve("cgbpf-hook") + "\n"), req);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--bundle=", "-b=", "-b", "--bundle", ""})
    void theBundleIsFoundInEachSpellingAndIsTheWorkingDirectoryByDefault(String spelling) throws Exception {
        List<String> args = new ArrayList<>(List.of("--debug", "create"));
        if (spelling.endsWith("=")) {
            args.add(spelling + bundle);
        } else if (!spelling.isEmpty()) {
            args.add(spelling);
            args.add(bundle.toString());
        }
        args.add("c1");
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            HookClient.Result r = run(env(), spelling.isEmpty() ? bundle : work, args.toArray(String[]::new));
            assertEquals(0, r.exit(), r.stderr());
            assertTrue(new String(d.requests().get(0), StandardCharsets.UTF_8)
                    .endsWith("\n" + bundle.toRealPath()), "the bundle's absolute path is the body");
        }
        assertEquals(with(runtime.toString(), args.toArray(String[]::new)), argv(runtimeOut));
    }

    @Test
    void aContainerWithoutCgbpfSettingsIsNotSentToTheDaemon() throws Exception {
        Files.writeString(bundle.resolve("config.json"), PLAIN);
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 1\n"))) {
            assertEquals(0, run(env(), null, "create", "--bundle", bundle.toString(), "c1").exit());
            assertEquals(0, d.connections());
        }
        assertEquals(List.of(runtime.toString(), "create", "--bundle", bundle.toString(), "c1"), argv(runtimeOut));
    }

    @Test
    void appliesToAllInTheHostPolicySendsEveryContainer() throws Exception {
        Files.writeString(bundle.resolve("config.json"), PLAIN);
        Path policy = work.resolve("policy.json");
        Files.writeString(policy, "{\"version\": 1, \"devices\": [{\"allow\": true, \"access\": \"rwm\"}],\n"
                + " \"network\": {\"bindMode\": \"rewrite\"}, \"appliesTo\" : \"all\"}");
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            assertEquals(0, run(env("CGBPF_POLICY", policy.toString()), bundle, "create", "c1").exit());
            assertEquals(1, d.connections());
        }
    }

    @Test
    void theRealRuntimeComesFromTheHostPolicyUnlessCgbpfRuntimeIsSet() throws Exception {
        Path other = script("other-runtime", work.resolve("other.args"), 0);
        Path policy = work.resolve("policy.json");
        Files.writeString(policy, "{\"appliesTo\": \"annotated\", \"runtime\": \"" + other + "\"}");
        Map<String, String> env = env("CGBPF_POLICY", policy.toString());
        env.remove("CGBPF_RUNTIME");
        assertEquals(0, run(env, null, "state", "c1").exit());
        assertEquals(List.of(other.toString(), "state", "c1"), argv(work.resolve("other.args")));
        assertEquals(0, run(env("CGBPF_POLICY", policy.toString()), null, "state", "c2").exit());
        assertEquals(List.of(runtime.toString(), "state", "c2"), argv(runtimeOut));
    }

    @Test
    void aRefusedEditStopsTheContainerWithTheDaemonsLine() throws Exception {
        String answer = "accepted\nerror cgbpf: runtime-edit: annotation 'dev.cgbpf.devices': bad\nexit 1\n";
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering(answer))) {
            HookClient.Result r = run(env(), null, "create", "--bundle", bundle.toString(), "c1");
            assertEquals(1, r.exit());
            assertEquals(List.of("cgbpf: runtime-edit: annotation 'dev.cgbpf.devices': bad",
                    "cgbpf-runtime: not starting the container: its cgbpf settings could not be put in place ("
                            + bundle + ")"), r.stderrLines());
        }
        assertFalse(Files.exists(runtimeOut), "the runtime must not run");
        assertFalse(Files.exists(launcherOut), "no fallback after the daemon's answer");
    }

    @Test
    void withoutADaemonTheJvmEditsTheBundle() throws Exception {
        HookClient.Result r = run(env(), null, "create", "--bundle", bundle.toString(), "c1");
        assertEquals(0, r.exit(), r.stderr());
        assertEquals(List.of(launcher.toString(), "runtime-edit", "--bundle", bundle.toRealPath().toString()),
                argv(launcherOut));
        assertEquals(List.of(runtime.toString(), "create", "--bundle", bundle.toString(), "c1"), argv(runtimeOut));
    }

    @Test
    void aFailedJvmEditStopsTheContainer() throws Exception {
        launcher = script("fake-cgbpf", launcherOut, 7);
        HookClient.Result r = run(env(), null, "create", "--bundle", bundle.toString(), "c1");
        assertEquals(7, r.exit());
        assertTrue(Files.exists(launcherOut));
        assertFalse(Files.exists(runtimeOut), "the runtime must not run");
    }

    @Test
    void noDaemonAndNoLauncherStopsTheContainer() throws Exception {
        HookClient.Result r = run(env("CGBPF_LAUNCHER", work.resolve("missing").toString()), null,
                "create", "--bundle", bundle.toString(), "c1");
        assertEquals(1, r.exit());
        assertEquals(2, r.stderrLines().size(), r.stderr());
        assertTrue(r.stderrLines().get(0).startsWith("cgbpf-runtime: no cgbpf daemon answered, and "), r.stderr());
        assertFalse(Files.exists(runtimeOut));
    }

    @Test
    void aMissingBundleOrAnUnreadablePolicyIsOneLine() throws Exception {
        HookClient.Result r = run(env(), null, "create", "--bundle", work.resolve("nope").toString(), "c1");
        assertEquals(1, r.exit());
        assertTrue(r.stderrLines().get(0).startsWith("cgbpf-runtime: bundle " + work.resolve("nope")), r.stderr());
        Path policy = work.resolve("policy.json");
        Files.writeString(policy, "[\"appliesTo\", \"all\"]");
        r = run(env("CGBPF_POLICY", policy.toString()), null, "state", "c1");
        assertEquals(1, r.exit());
        assertEquals(List.of("cgbpf-runtime: cannot read the host policy " + policy + " (runtime, appliesTo); cgbpf"
                + " check --policy " + policy + " says why"), r.stderrLines());
        assertFalse(Files.exists(runtimeOut));
    }

    @Test
    void aRuntimeThatIsNotThereIsOneLine() throws Exception {
        HookClient.Result r = run(env("CGBPF_RUNTIME", work.resolve("no-runc").toString()), null, "state", "c1");
        assertEquals(127, r.exit());
        assertEquals(List.of("cgbpf-runtime: cannot run the runtime " + work.resolve("no-runc")
                + ": No such file or directory"), r.stderrLines());
    }
}
