package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The C helper src/test/c/netprobe.c, built with {@code gcc -static} into target/ once per JVM,
 * and run inside a test cgroup (the shell moves itself into the cgroup, then execs the helper)
 * or, without one, as the host; optionally in a network namespace the test made
 * ({@code ip netns exec}).
 */
final class NetProbe {
    private static final Path SOURCE = Path.of("src/test/c/netprobe.c");
    private static final Path BINARY = Path.of("target/netprobe");
    private static boolean built;

    private final Path cgroup;
    private final String netns;

    NetProbe(Path cgroup) {
        this(cgroup, null);
    }

    /** @param cgroup null for the host side; @param netns a named network namespace, or null */
    NetProbe(Path cgroup, String netns) {
        this.cgroup = cgroup;
        this.netns = netns;
    }

    static synchronized void build() throws IOException, InterruptedException {
        if (built) {
            return;
        }
        Files.createDirectories(BINARY.getParent());
        Process p = new ProcessBuilder("gcc", "-static", "-O1", "-Wall", "-Werror", "-o", BINARY.toString(), SOURCE.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "gcc did not finish");
        assertEquals(0, p.exitValue(), "gcc -static " + SOURCE + ": " + out);
        built = true;
    }

    /** Starts one operation in the cgroup; its output is read by the caller. */
    Process start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (cgroup != null) {
            cmd.addAll(List.of("/bin/sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", cgroup.resolve("cgroup.procs").toString()));
        }
        if (netns != null) {
            cmd.addAll(List.of("ip", "netns", "exec", netns));
        }
        cmd.add(BINARY.toAbsolutePath().toString());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Runs one operation in the cgroup and returns its one result line without the operation's name. */
    String run(String... args) throws Exception {
        List<String> lines = lines(start(args));
        assertEquals(1, lines.size(), String.join(" ", args) + ": " + lines);
        String line = lines.get(0);
        return line.substring(line.indexOf(' ') + 1);
    }

    /** All lines of a started operation, after it ended. */
    static List<String> lines(Process p) throws Exception {
        List<String> out = new ArrayList<>();
        try (BufferedReader r = reader(p)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                out.add(line);
            }
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "netprobe did not finish");
        assertEquals(0, p.exitValue(), "netprobe: " + out);
        return out;
    }

    static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    }
}
