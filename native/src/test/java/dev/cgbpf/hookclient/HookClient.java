package dev.cgbpf.hookclient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the C client {@code cgbpf-hook} as a runtime does: argv, exactly the given environment
 * (a runtime gives a hook only its "env" list), the state on stdin.
 */
public final class HookClient {
    /** The property the build sets to the client it built (native/target/cgbpf-hook). */
    public static final String PROPERTY = "cgbpf.hook.client";

    /** What one run did; {@code millis} is the wall time from spawn to exit, as the test JVM sees it. */
    public record Result(int exit, String stdout, String stderr, double millis) {
        public List<String> stderrLines() {
            return stderr.lines().toList();
        }
    }

    private HookClient() {
    }

    /** The client the build made; fails with one line if there is none. */
    public static Path binary() {
        String p = System.getProperty(PROPERTY);
        Path b = p != null ? Path.of(p) : Path.of("target", "cgbpf-hook");
        if (!Files.isExecutable(b)) {
            throw new IllegalStateException(b.toAbsolutePath() + " is missing: build the reactor first (mvn install)");
        }
        return b.toAbsolutePath().normalize();
    }

    public static Result run(List<String> args, Map<String, String> env, byte[] stdin, Path work)
            throws IOException, InterruptedException {
        return run(binary(), args, env, stdin, work, null);
    }

    /** Runs {@code binary} (either C program of this module) with {@code args}, in {@code cwd} (null: this one's). */
    public static Result run(Path binary, List<String> args, Map<String, String> env, byte[] stdin, Path work,
                             Path cwd) throws IOException, InterruptedException {
        Path in = Files.createTempFile(work, "stdin", "");
        Path out = Files.createTempFile(work, "stdout", "");
        Path err = Files.createTempFile(work, "stderr", "");
        try {
            Files.write(in, stdin);
            List<String> cmd = new java.util.ArrayList<>();
            cmd.add(binary.toString());
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            if (cwd != null) {
                pb.directory(cwd.toFile());
            }
            pb.environment().clear();
            pb.environment().putAll(env);
            long t0 = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(binary.getFileName() + " " + args + " did not finish in 120 s");
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), ms);
        } finally {
            Files.deleteIfExists(in);
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
