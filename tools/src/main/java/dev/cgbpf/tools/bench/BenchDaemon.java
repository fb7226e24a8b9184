package dev.cgbpf.tools.bench;

import dev.cgbpf.hook.daemon.DaemonProbe;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@code cgbpf daemon} of a benchmark's own: started from a launcher on a socket of the
 * benchmark with exactly the given environment, up (answering a status request as itself)
 * before it is handed out, and stopped with SIGTERM at the end.
 */
final class BenchDaemon implements AutoCloseable {
    private final Process process;
    private final int timeoutSeconds;

    private BenchDaemon(Process process, int timeoutSeconds) {
        this.process = process;
        this.timeoutSeconds = timeoutSeconds;
    }

    /** Starts {@code launcher daemon --socket SOCKET}; its output appended to {@code log}. */
    static BenchDaemon start(Path launcher, Path socket, Path log, Map<String, String> env, int timeoutSeconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "daemon", "--socket", socket.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().clear();
        pb.environment().putAll(env);
        BenchDaemon d = new BenchDaemon(pb.start(), timeoutSeconds);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (System.nanoTime() < end) {
            if (!d.process.isAlive()) {
                throw new IOException("the benchmark's cgbpf daemon exited with " + d.process.exitValue() + ": "
                        + Files.readString(log).strip().replace('\n', ' '));
            }
            DaemonProbe.Result r = DaemonProbe.status(socket, Duration.ofSeconds(5));
            if (r.answers() && r.pid() == d.process.pid()) {
                return d;
            }
            Thread.sleep(20);
        }
        d.close();
        throw new IOException("the benchmark's cgbpf daemon did not answer on " + socket + " within " + timeoutSeconds
                + " s");
    }

    /** SIGTERM, and SIGKILL when it does not stop in time. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        }
    }
}
