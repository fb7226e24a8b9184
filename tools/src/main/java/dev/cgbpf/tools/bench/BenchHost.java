package dev.cgbpf.tools.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** What a benchmark says of the machine it ran on, and finds there. */
final class BenchHost {
    private BenchHost() {
    }

    /** An executable of that name on $PATH. */
    static Optional<Path> findOnPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The first line a command prints (its version, say). */
    static String firstLine(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return text.lines().findFirst().orElse("?").strip();
    }

    /**
     * {@code runc --root ROOT delete --force ID} for each id, in a benchmark's clean-up: a failure
     * is one line on {@code out}, and the next one is tried.
     */
    static void runcDeleteForce(Path runc, Path root, Iterable<String> ids, java.io.PrintStream out) {
        for (String id : ids) {
            try {
                new ProcessBuilder(runc.toString(), "--root", root.toString(), "delete", "--force", id)
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                        .waitFor(30, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException e) {
                out.println("  cleanup: runc delete " + id + ": " + e.getMessage());
            }
        }
    }

    /** The CPU's model name from /proc/cpuinfo. */
    static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip())
                    .findFirst().orElse("unknown cpu");
        } catch (IOException e) {
            return "unknown cpu";
        }
    }
}
