package dev.cgbpf.hook.runtimes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A daemon the runtime tests start for themselves (containerd, dockerd) on private sockets and
 * state directories, its output in a log file; {@link #close()} stops it (SIGTERM, then SIGKILL
 * after 30 s) and waits for it.
 */
final class Service implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Path log;

    private Service(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /** Starts {@code cmd} with {@code env} added, and waits up to 60 s until {@code ready} holds. */
    static Service start(String name, List<String> cmd, Map<String, String> env, Path log, BooleanSupplier ready)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().putAll(env);
        Service s = new Service(name, pb.start(), log);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!ready.getAsBoolean()) {
            if (!s.process.isAlive() || System.nanoTime() > end) {
                s.close();
                throw new IOException(name + " did not start: " + s.logTail());
            }
            Thread.sleep(100);
        }
        return s;
    }

    boolean alive() {
        return process.isAlive();
    }

    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            System.err.println(name + " did not stop on SIGTERM within 30 s: killed");
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
