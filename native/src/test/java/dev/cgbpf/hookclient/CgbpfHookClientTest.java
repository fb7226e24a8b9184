package dev.cgbpf.hookclient;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The C client {@code cgbpf-hook} (native/src/main/c/cgbpf-hook.c, built by this module) against
 * a fake daemon ({@link FakeDaemon}) and a fake JVM launcher (a shell script that records its
 * arguments, environment and stdin): the exact request bytes, the answer relayed, and when it
 * falls back to {@code LAUNCHER hook STAGE} and when it must not.
 */
class CgbpfHookClientTest {
    /** Bytes a JSON state never has, to show the state is passed as it is. */
    private static final byte[] STATE = concat("{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"pid\":1,\n \"bundle\":\"/b\"}\n"
            .getBytes(StandardCharsets.UTF_8), new byte[] {0, (byte) 0xff, '\n', 's', 't', 'a', 't', 'e', ' ', '9'});

    @TempDir
    Path work;
    private Path socket;
    private Path launcher;
    private Path launcherOut;

    @BeforeEach
    void fakeLauncher() throws IOException {
        socket = work.resolve("cgbpf.sock");
        launcherOut = work.resolve("launcher");
        launcher = work.resolve("fake-cgbpf");
        Files.writeString(launcher, """
                #!/bin/sh
                out='%s'
                /bin/mkdir "$out"
                printf '%%s\\n' "$@" > "$out/args"
                /usr/bin/env > "$out/env"
                /bin/cat > "$out/stdin"
                echo "fake launcher: a line on stderr" >&2
                exit 7
                """.formatted(launcherOut));
        assertTrue(launcher.toFile().setExecutable(true));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The environment of a hook entry in config.json: the daemon's socket, the fake launcher, and {@code more}. */
    private Map<String, String> env(String... more) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CGBPF_SOCKET", socket.toString());
        env.put("CGBPF_LAUNCHER", launcher.toString());
        for (int i = 0; i < more.length; i += 2) {
            env.put(more[i], more[i + 1]);
        }
        return env;
    }

    private HookClient.Result run(String stage, Map<String, String> env, byte[] state) throws Exception {
        return HookClient.run(List.of(stage), env, state, work);
    }

    private boolean launcherRan() {
        return Files.exists(launcherOut);
    }

    /** The request as the protocol has it. */
    private static byte[] request(String stage, List<String> envLines, byte[] state) {
        StringBuilder sb = new StringBuilder("cgbpf-hook 1 " + stage + "\n");
        envLines.forEach(l -> sb.append("env ").append(l).append('\n'));
        sb.append("state ").append(state.length).append('\n');
        return concat(sb.toString().getBytes(StandardCharsets.UTF_8), state);
    }

    @ParameterizedTest
    @ValueSource(strings = {"createRuntime", "prestart", "poststop"})
    void sendsTheStageTheSixSettingsAndTheStateAsTheyAre(String stage) throws Exception {
        // a runtime's order of the hook's env is not the protocol's: env lines come in a fixed order
        Map<String, String> env = env("CGBPF_ATTACH", "attach", "FOO", "bar", "CGBPF_LOG_FILE", "/var/log/x y.log",
                "CGBPF_PIN_DIR", "/sys/fs/bpf/p", "CGBPF_OTHER", "not forwarded", "CGBPF_BACKEND", "",
                "CGBPF_RUN_DIR", "/run/r", "CGBPF_POLICY", "/etc/cgbpf/p=1.json", "CGBPF_HOOK_TIMEOUT_MS", "5000");
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            HookClient.Result r = run(stage, env, STATE);
            assertEquals(0, r.exit(), r.stderr());
            assertEquals("", r.stderr());
            assertEquals("", r.stdout());
            assertEquals(1, d.requests().size());
            assertEquals(new String(request(stage, List.of("CGBPF_POLICY=/etc/cgbpf/p=1.json", "CGBPF_RUN_DIR=/run/r",
                            "CGBPF_PIN_DIR=/sys/fs/bpf/p", "CGBPF_LOG_FILE=/var/log/x y.log", "CGBPF_BACKEND=",
                            "CGBPF_ATTACH=attach"), STATE), StandardCharsets.ISO_8859_1),
                    new String(d.requests().get(0), StandardCharsets.ISO_8859_1));
        }
        assertFalse(launcherRan());
    }

    @Test
    void withoutSettingsAndWithoutStateTheRequestIsTwoLines() throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            HookClient.Result r = run("poststop", env(), new byte[0]);
            assertEquals(0, r.exit(), r.stderr());
            assertArrayEquals("cgbpf-hook 1 poststop\nstate 0\n".getBytes(StandardCharsets.US_ASCII),
                    d.requests().get(0));
        }
    }

    @Test
    void aStateOf32MiBIsSentAndOneByteMoreIsRefused() throws Exception {
        byte[] big = new byte[32 << 20];
        Arrays.fill(big, (byte) 'x');
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            HookClient.Result r = run("createRuntime", env(), big);
            assertEquals(0, r.exit(), r.stderr());
            assertArrayEquals(request("createRuntime", List.of(), big), d.requests().get(0));

            r = run("createRuntime", env(), Arrays.copyOf(big, big.length + 1));
            assertEquals(1, r.exit());
            assertEquals(List.of("cgbpf: hook: the state on stdin is larger than 32 MiB"), r.stderrLines());
            assertEquals(1, d.connections(), "no connection for a refused state");
        }
        assertFalse(launcherRan());
    }

    /** Answers of the daemon, the exit status and the stderr lines the runtime then sees. */
    static Stream<Arguments> answers() {
        return Stream.of(
                Arguments.of("accepted\nexit 0\n", 0, List.of()),
                Arguments.of("accepted\nwarning cgbpf: warning: failurePolicy open: container c1 starts WITHOUT its cgbpf policy: x\n"
                        + "exit 0\n", 0, List.of("cgbpf: warning: failurePolicy open: container c1 starts WITHOUT"
                        + " its cgbpf policy: x")),
                Arguments.of("accepted\nerror cgbpf: hook: the device policy denies read-write access to /dev/null (c 1:3)\n"
                        + "exit 1\n", 1, List.of("cgbpf: hook: the device policy denies read-write access to"
                        + " /dev/null (c 1:3)")),
                Arguments.of("accepted\nwarning cgbpf: warning: one\nerror cgbpf: hook: two\nexit 1\n", 1,
                        List.of("cgbpf: warning: one", "cgbpf: hook: two")),
                // a malformed request: no "accepted", and no fallback either
                Arguments.of("error cgbpf: daemon: malformed request: no state line\nexit 2\n", 2,
                        List.of("cgbpf: daemon: malformed request: no state line")),
                Arguments.of("accepted\nexit 3\n", 3, List.of()),
                // after exit, nothing counts
                Arguments.of("accepted\nexit 0\nerror after the end\n", 0, List.of()),
                // what the client does not understand is an error, never a fallback
                Arguments.of("accepted\nexit 256\n", 1, List.of("cgbpf: hook: the cgbpf daemon at SOCKET sent an"
                        + " answer this cgbpf-hook does not understand")),
                Arguments.of("accepted\nexit 0x1\n", 1, List.of("cgbpf: hook: the cgbpf daemon at SOCKET sent an"
                        + " answer this cgbpf-hook does not understand")),
                Arguments.of("accepted\nok\nexit 0\n", 1, List.of("cgbpf: hook: the cgbpf daemon at SOCKET sent an"
                        + " answer this cgbpf-hook does not understand")),
                Arguments.of("accepted\n" + "x".repeat(9000) + "\nexit 0\n", 1, List.of("cgbpf: hook: the cgbpf"
                        + " daemon at SOCKET sent a line longer than 8192 bytes")),
                // an answer that ends without exit: the daemon answered, so no fallback
                Arguments.of("accepted\nwarning cgbpf: warning: w\n", 1, List.of("cgbpf: warning: w", "cgbpf: hook: the cgbpf daemon"
                        + " at SOCKET accepted the request and closed the connection without an exit status (see its"
                        + " log)")),
                Arguments.of("error cgbpf: daemon: e\n", 1, List.of("cgbpf: daemon: e", "cgbpf: hook: the cgbpf daemon at SOCKET"
                        + " answered and closed the connection without an exit status (see its log)")));
    }

    @ParameterizedTest
    @MethodSource("answers")
    void relaysTheDaemonsAnswerAndItsExitStatus(String answer, int exit, List<String> stderr) throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering(answer))) {
            HookClient.Result r = run("createRuntime", env("CGBPF_HOOK_TIMEOUT_MS", "10000"), STATE);
            assertEquals(exit, r.exit(), r.stderr());
            assertEquals(stderr.stream().map(l -> l.replace("SOCKET", socket.toString())).toList(), r.stderrLines());
            assertEquals("", r.stdout());
            assertEquals(1, d.requests().size());
        }
        assertFalse(launcherRan(), "no fallback once the daemon answered");
    }

    @Test
    void anAnswerInPiecesAndLateAfterAcceptedIsWaitedFor() throws Exception {
        // the timeout is for "accepted"; after it the daemon takes as long as it takes
        try (FakeDaemon d = FakeDaemon.start(socket, (dm, ch) -> {
            dm.readRequest(ch);
            FakeDaemon.send(ch, "acc");
            Thread.sleep(100);
            FakeDaemon.send(ch, "epted\nwarn");
            Thread.sleep(1000);
            FakeDaemon.send(ch, "ing cgbpf: warning: slow\nexit 0\n");
        })) {
            HookClient.Result r = run("createRuntime", env("CGBPF_HOOK_TIMEOUT_MS", "300"), STATE);
            assertEquals(0, r.exit(), r.stderr());
            assertEquals(List.of("cgbpf: warning: slow"), r.stderrLines());
            assertTrue(r.millis() >= 1100, r.millis() + " ms");
        }
        assertFalse(launcherRan());
    }

    @Test
    void acceptedThenTheDaemonDiesIsAFailureAndNeverAFallback() throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, (dm, ch) -> {
            dm.readRequest(ch);
            FakeDaemon.send(ch, "accepted\n");
            Thread.sleep(200);
        })) {
            HookClient.Result r = run("createRuntime", env(), STATE);
            assertEquals(1, r.exit());
            assertEquals(List.of("cgbpf: hook: the cgbpf daemon at " + socket + " accepted the request and closed"
                    + " the connection without an exit status (see its log)"), r.stderrLines());
        }
        assertFalse(launcherRan(), "a daemon that accepted may have attached half: no second hook");
    }

    /** The fake launcher ran as {@code LAUNCHER hook STAGE}, with {@code env} and {@code state}; stderr passed on. */
    private void assertFellBack(HookClient.Result r, String stage, Map<String, String> env, byte[] state)
            throws IOException {
        assertTrue(launcherRan(), "fallback: " + r);
        assertEquals(7, r.exit(), "the launcher's exit status: " + r.stderr());
        assertEquals(List.of("fake launcher: a line on stderr"), r.stderrLines());
        assertEquals(List.of("hook", stage), Files.readAllLines(launcherOut.resolve("args")));
        List<String> got = Files.readAllLines(launcherOut.resolve("env"));
        for (Map.Entry<String, String> e : env.entrySet()) {
            assertTrue(got.contains(e.getKey() + "=" + e.getValue()), e + " in " + got);
        }
        assertArrayEquals(state, Files.readAllBytes(launcherOut.resolve("stdin")));
    }

    private static Map<String, String> withSettings(Map<String, String> env) {
        env.put("CGBPF_POLICY", "/etc/cgbpf/policy.json");
        env.put("CGBPF_RUN_DIR", "/run/test");
        env.put("FOO", "bar baz");
        return env;
    }

    @ParameterizedTest
    @ValueSource(strings = {"createRuntime", "prestart", "poststop"})
    void noSocketFallsBackToTheJvmHookWithTheSameStageEnvironmentAndState(String stage) throws Exception {
        Map<String, String> env = withSettings(env());
        HookClient.Result r = run(stage, env, STATE);
        assertFellBack(r, stage, env, STATE);
    }

    @Test
    void noDirectoryForTheSocketFallsBackToo() throws Exception {
        Map<String, String> env = env();
        env.put("CGBPF_SOCKET", work.resolve("missing/dir/cgbpf.sock").toString());
        assertFellBack(run("poststop", env, STATE), "poststop", env, STATE);
    }

    @Test
    void connectionRefusedFallsBack() throws Exception {
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket), "a socket file nobody listens on");
        Map<String, String> env = withSettings(env());
        assertFellBack(run("createRuntime", env, STATE), "createRuntime", env, STATE);
    }

    @Test
    void aDaemonThatClosesWithoutAWordIsNoDaemon() throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, (dm, ch) -> dm.readRequest(ch))) {
            Map<String, String> env = withSettings(env());
            assertFellBack(run("createRuntime", env, STATE), "createRuntime", env, STATE);
            assertEquals(1, d.requests().size());
        }
    }

    @Test
    void aDaemonThatNeverSaysAcceptedIsLeftAfterTheTimeout() throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, (dm, ch) -> {
            dm.readRequest(ch);
            Thread.sleep(60_000);
        })) {
            Map<String, String> env = withSettings(env("CGBPF_HOOK_TIMEOUT_MS", "300"));
            HookClient.Result r = run("createRuntime", env, STATE);
            assertFellBack(r, "createRuntime", env, STATE);
            assertTrue(r.millis() >= 300 && r.millis() < 5000, r.millis() + " ms");
            assertEquals(1, d.requests().size(), "the request was sent in full");
            System.out.printf("fallback after a 300 ms timeout: %.1f ms%n", r.millis());
        }
    }

    @Test
    void theDefaultTimeoutIsTwoSeconds() throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, (dm, ch) -> Thread.sleep(60_000))) {
            Map<String, String> env = env();
            HookClient.Result r = run("createRuntime", env, STATE);
            assertFellBack(r, "createRuntime", env, STATE);
            assertTrue(r.millis() >= 2000 && r.millis() < 6000, r.millis() + " ms");
        }
    }

    @Test
    void aDaemonThatDoesNotReadALargeStateIsLeftAfterTheTimeout() throws Exception {
        // 8 MiB do not fit the socket buffers: the send itself must give up at the deadline
        byte[] big = new byte[8 << 20];
        new java.util.Random(1).nextBytes(big);
        try (FakeDaemon d = FakeDaemon.start(socket, (dm, ch) -> Thread.sleep(60_000))) {
            Map<String, String> env = env("CGBPF_HOOK_TIMEOUT_MS", "300");
            HookClient.Result r = run("prestart", env, big);
            assertFellBack(r, "prestart", env, big);
            assertTrue(r.millis() < 5000, r.millis() + " ms");
        }
    }

    @Test
    void aDaemonThatRefusesEarlyIsStillHeard() throws Exception {
        // the daemon answers after the first line, without reading the rest, and closes
        byte[] big = new byte[8 << 20];
        try (FakeDaemon d = FakeDaemon.start(socket, (dm, ch) -> {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16);
            ch.read(b);
            FakeDaemon.send(ch, "error cgbpf: daemon: unsupported protocol version\nexit 2\n");
        })) {
            HookClient.Result r = run("createRuntime", env(), big);
            assertEquals(2, r.exit(), r.stderr());
            assertEquals(List.of("cgbpf: daemon: unsupported protocol version"), r.stderrLines());
        }
        assertFalse(launcherRan());
    }

    @ParameterizedTest
    @ValueSource(strings = {"CGBPF_POLICY", "CGBPF_RUN_DIR", "CGBPF_PIN_DIR", "CGBPF_LOG_FILE", "CGBPF_BACKEND",
        "CGBPF_ATTACH"})
    void aSettingWithANewlineIsRefusedBeforeAnythingIsSent(String key) throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            HookClient.Result r = run("createRuntime", env(key, "/x\nexit 0"), STATE);
            assertEquals(1, r.exit());
            assertEquals(List.of("cgbpf: hook: environment variable " + key + " contains a newline"), r.stderrLines());
            assertEquals(0, d.connections());
        }
        assertFalse(launcherRan());
    }

    @Test
    void aNewlineInAVariableThatIsNotForwardedDoesNotMatter() throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            HookClient.Result r = run("createRuntime", env("OTHER", "a\nb"), STATE);
            assertEquals(0, r.exit(), r.stderr());
        }
    }

    static Stream<Arguments> usageErrors() {
        return Stream.of(Arguments.of(List.of()), Arguments.of(List.of("createContainer")),
                Arguments.of(List.of("hook", "createRuntime")), Arguments.of(List.of("createRuntime", "x")),
                Arguments.of(List.of("")));
    }

    @ParameterizedTest
    @MethodSource("usageErrors")
    void anythingButOneKnownStageIsAUsageError(List<String> args) throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            HookClient.Result r = HookClient.run(args, env(), STATE, work);
            assertEquals(2, r.exit());
            assertEquals(List.of("cgbpf: hook: usage: cgbpf-hook createRuntime|prestart|poststop < state.json"),
                    r.stderrLines());
            assertEquals(0, d.connections());
        }
        assertFalse(launcherRan());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-5", "abc", "2000ms", "600001", "99999999999999999999"})
    void aBadTimeoutIsRefused(String value) throws Exception {
        HookClient.Result r = run("createRuntime", env("CGBPF_HOOK_TIMEOUT_MS", value), STATE);
        assertEquals(1, r.exit());
        assertEquals(List.of("cgbpf: hook: CGBPF_HOOK_TIMEOUT_MS must be a number of milliseconds from 1 to 600000"),
                r.stderrLines());
        assertFalse(launcherRan());
    }

    @Test
    void aLauncherThatCannotRunIsOneLineAndExit1() throws Exception {
        Map<String, String> env = env();
        env.put("CGBPF_LAUNCHER", work.resolve("no-such-cgbpf").toString());
        HookClient.Result r = run("createRuntime", env, STATE);
        assertEquals(1, r.exit());
        assertEquals(List.of("cgbpf: hook: no cgbpf daemon answered at " + socket + ", and " + work.resolve(
                "no-such-cgbpf") + " cannot be run: No such file or directory"), r.stderrLines());
    }

    /** Wall time of one client run, spawn to exit, as a runtime would see it (median of 50, after 5 warm-ups). */
    @Test
    void wallTime() throws Exception {
        try (FakeDaemon d = FakeDaemon.start(socket, FakeDaemon.answering("accepted\nexit 0\n"))) {
            double daemon = median(50, () -> {
                HookClient.Result r = run("createRuntime", withSettings(env()), STATE);
                assertEquals(0, r.exit(), r.stderr());
                return r.millis();
            });
            Path noSocket = work.resolve("none.sock");
            double fallback = median(50, () -> {
                deleteTree(launcherOut);
                Map<String, String> env = withSettings(env());
                env.put("CGBPF_SOCKET", noSocket.toString());
                HookClient.Result r = run("createRuntime", env, STATE);
                assertEquals(7, r.exit(), r.stderr());
                return r.millis();
            });
            System.out.printf("cgbpf-hook wall time, median of 50: fake daemon %.2f ms, no daemon + exec of a"
                    + " /bin/sh fake launcher %.2f ms%n", daemon, fallback);
        }
    }

    private interface Timed {
        double run() throws Exception;
    }

    private static double median(int n, Timed t) throws Exception {
        for (int i = 0; i < 5; i++) {
            t.run();
        }
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ms.add(t.run());
        }
        ms.sort(null);
        return ms.get(n / 2);
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            try (Stream<Path> s = Files.list(p)) {
                for (Path c : s.toList()) {
                    Files.delete(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }
}
