package dev.cgbpf.hook.runtimes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A command run to its end with a time limit: what the runtime tests do with podman, ctr and docker. */
record Proc(int exit, String stdout, String stderr) {

    /** {@code cmd} with {@code env} added to this JVM's environment, stdin from {@code stdin} (null: nothing). */
    static Proc run(List<String> cmd, Map<String, String> env, Path stdin, int seconds)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("cgbpf-proc", ".out");
        Path err = Files.createTempFile("cgbpf-proc", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.redirectInput(stdin == null ? ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())
                    : ProcessBuilder.Redirect.from(stdin.toFile()));
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new IOException(String.join(" ", cmd) + ": not done within " + seconds + " s; stderr: "
                        + Files.readString(err, StandardCharsets.UTF_8).strip());
            }
            return new Proc(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** As {@link #run}, failing with the command's stderr unless it exits 0. */
    static Proc ok(List<String> cmd, Map<String, String> env, Path stdin, int seconds)
            throws IOException, InterruptedException {
        Proc r = run(cmd, env, stdin, seconds);
        if (r.exit() != 0) {
            throw new IOException(String.join(" ", cmd) + ": exit " + r.exit() + ": " + r.stderr().strip());
        }
        return r;
    }

    /** Whether {@code name} is an executable on PATH (or the absolute path of one). */
    static boolean installed(String name) {
        if (name.startsWith("/")) {
            return Files.isExecutable(Path.of(name));
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/usr/sbin").split(":")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }
}
