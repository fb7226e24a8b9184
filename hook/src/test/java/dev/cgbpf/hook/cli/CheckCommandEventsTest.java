package dev.cgbpf.hook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cgbpf check} on the engine, without root: a denied bind prints, after its verdict, the
 * event its program wrote into the engine's ring buffer, as {@code cgbpf events} prints one (the
 * container named by the bundle's directory, this process's pid, the rule's policy words); an
 * allowed bind prints none.
 */
class CheckCommandEventsTest {
    private static final String[] POLICY = {"--policy", Path.of("..", "config", "policy.json").toString(),
        "--annotation", "dev.cgbpf.bind-ip=127.0.0.5", "--annotation", "dev.cgbpf.bind-mode=deny"};

    private static CliRun check(Path bundle, String... probe) {
        List<String> args = new java.util.ArrayList<>(List.of("check", "--bundle", bundle.toString()));
        args.addAll(List.of(POLICY));
        args.addAll(List.of(probe));
        return CliRun.of("", args.toArray(String[]::new));
    }

    @Test
    void aDeniedBindPrintsItsEventAndAnAllowedOneNone(@TempDir Path dir) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("web-1"));
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.0.2\",\"linux\":{}}");

        CliRun denied = check(bundle, "bind", "127.0.0.9:8002");
        assertEquals(1, denied.status(), denied.err());
        List<String> lines = denied.out().lines().toList();
        assertEquals(2, lines.size(), denied.out());
        assertTrue(lines.get(0).startsWith("bind 127.0.0.9:8002/tcp: refused with EPERM"), lines.get(0));
        String event = lines.get(1);
        String tail = "  web-1  pid " + ProcessHandle.current().pid() + " (";
        assertTrue(event.contains(tail), event);
        assertTrue(event.endsWith(")  bind 127.0.0.9:8002  denied by dev.cgbpf.bind-ip 127.0.0.5 with"
                + " dev.cgbpf.bind-mode deny: not the container's address"), event);
        assertTrue(java.time.OffsetDateTime.parse(event.substring(0, event.indexOf(' '))) != null, event);

        CliRun allowed = check(bundle, "bind", "127.0.0.5:8002");
        assertEquals(0, allowed.status(), allowed.err());
        assertEquals(List.of("bind 127.0.0.5:8002/tcp: ends up on 127.0.0.5:8002"), allowed.out().lines().toList());
    }
}
