package dev.cgbpf.hook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cgbpf.hook.daemon.Daemon;
import dev.cgbpf.hook.daemon.DaemonLog;
import dev.cgbpf.hook.daemon.DaemonProbe;
import dev.cgbpf.kernel.KernelRequired;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** {@code cgbpf doctor} says whether a daemon answers on its socket (a daemon in this JVM here). */
class DoctorDaemonTest {

    private static String doctor(String... args) throws CliException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Console c = new Console(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        new DoctorCommand(DoctorCommandTest::hostWithoutBpf, s -> DaemonProbe.status(s, Duration.ofSeconds(5)))
                .run(new Args("doctor", List.of(args)), c);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void doctorReportsWhetherADaemonAnswers() throws Exception {
        KernelRequired.check();
        Path work = Files.createTempDirectory("cgbpf-doctor-");
        Path socket = work.resolve("d.sock");
        try {
            String none = doctor("--socket", socket.toString());
            assertTrue(none.contains("daemon        not running (no socket at " + socket), none);
            Daemon d = new Daemon(Daemon.Config.of(socket, null),
                    Map.of("CGBPF_RUN_DIR", work.resolve("run").toString(), "CGBPF_LOG_FILE", "-"),
                    new DaemonLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)), "test");
            d.start();
            Thread serving = new Thread(d::serve);
            serving.start();
            try {
                long pid = ProcessHandle.current().pid();
                String text = doctor("--socket", socket.toString());
                assertTrue(text.contains("daemon        runs: a cgbpf daemon answers on " + socket + " (pid " + pid + ")"),
                        text);
                JsonNode j = JsonMapper.builder().build().readTree(doctor("--json", "--socket", socket.toString()));
                assertEquals(true, j.get("daemon").get("answers").asBoolean());
                assertEquals(pid, j.get("daemon").get("pid").asLong());
                assertEquals("answers", j.get("daemon").get("state").asText());
                assertEquals("6.1.0-test", j.get("kernel").asText());
            } finally {
                d.stop();
                serving.join(30_000);
            }
            String after = doctor("--socket", socket.toString());
            assertTrue(after.contains("daemon        not running (no socket at " + socket), after);
        } finally {
            try (Stream<Path> s = Files.walk(work)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
