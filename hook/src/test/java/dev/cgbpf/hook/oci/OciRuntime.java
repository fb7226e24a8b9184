package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.kernel.KernelRequired;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real OCI runtime (runc or crun) driven by the end-to-end tests, each with its own state
 * root so that the tests never see the host's containers.
 */
public final class OciRuntime {
    final String name;
    final Path binary;
    final Path stateRoot;

    /** What one {@code RUNTIME run} did. */
    record Run(int exit, String stdout, String stderr) {
    }

    private OciRuntime(String name, Path binary, Path stateRoot) {
        this.name = name;
        this.binary = binary;
        this.stateRoot = stateRoot;
    }

    /** The runtime on PATH; missing: a failure under CGBPF_REQUIRE_KERNEL=1, else the test is skipped. */
    static OciRuntime find(String name, Path work) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/usr/sbin").split(":")) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return new OciRuntime(name, p, work.resolve(name + "-root"));
            }
        }
        missing(name + " is not installed (apt-get install " + name + ")");
        return null;
    }

    public static void missing(String why) {
        if (KernelRequired.required()) {
            fail(why);
        }
        Assumptions.abort(why);
    }

    /** The same runtime with state root {@code root}: a second set of containers that the first cannot see. */
    OciRuntime withStateRoot(Path root) {
        return new OciRuntime(name, binary, root);
    }

    /**
     * {@code RUNTIME --root R ARGS} started and left running, stdin empty, stderr merged into
     * stdout: for an exec'd command that the test talks to while it runs.
     */
    Process spawn(List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--root", stateRoot.toString()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).start();
    }

    /** {@code RUNTIME --root R run --bundle B ID} in the foreground, stdin empty. */
    Run run(Path bundle, String id) throws IOException, InterruptedException {
        return exec(List.of("run", "--bundle", bundle.toString(), id), 120);
    }

    Run exec(List<String> args, int timeoutSeconds) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--root", stateRoot.toString()));
        cmd.addAll(args);
        Path out = Files.createTempFile("cgbpf-e2e-out", ".txt");
        Path err = Files.createTempFile("cgbpf-e2e-err", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(name + " " + args + " did not finish in " + timeoutSeconds + " s");
            }
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Removes a container that a failed test may have left (no error if there is none). */
    void forceDelete(String id) {
        try {
            exec(List.of("delete", "--force", id), 30);
        } catch (IOException | InterruptedException e) {
            // best effort
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
