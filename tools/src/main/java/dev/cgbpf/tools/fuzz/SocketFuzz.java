package dev.cgbpf.tools.fuzz;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.script.ScenarioRunner;
import dev.cgbpf.kernel.KernelBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Socket fuzzing: random scenarios of socket operations (socket, bind, connect, sendmsg) against
 * random cgroup_sock_addr and sock_create programs ({@link SocketScenarioGenerator}), run on the
 * engine and on the kernel through the scenario runner and compared line by line.
 *
 * <pre>
 *   cgbpf-tools fuzz --sockets --count 10000 --seed 1 [--save DIR]
 * </pre>
 *
 * Findings: a line the two backends print differently, and any line where the engine failed with
 * something other than an errno (an exception escaping a probe, printed as {@code "error":"engine: ..."}).
 * With --save, each scenario with a finding is written to DIR as a .jsonl a developer can replay
 * with {@code cgbpf script}.
 */
public final class SocketFuzz {
    /** Operations per generated scenario (beside its listeners and programs). */
    static final int OPS_PER_SCENARIO = 50;

    /** What one run found. */
    public record Report(long scenarios, long ops, long lines, long differing, long engineErrors, boolean kernel) {
        public boolean ok() {
            return differing == 0 && engineErrors == 0;
        }

        public String summary() {
            return String.format("%d socket operations in %d scenarios, %d lines compared%s: %d differ, %d engine"
                    + " errors (escaped exceptions)", ops, scenarios, lines, kernel ? " with the kernel" : " (engine only)",
                    differing, engineErrors);
        }
    }

    private SocketFuzz() {
    }

    /**
     * Runs {@code ops} operations (rounded up to whole scenarios) from {@code seed}; {@code kernel}
     * false runs the engine alone (escaped exceptions only). Differences go to {@code out}.
     */
    public static Report run(long ops, long seed, boolean kernel, Path save, PrintStream out) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        SocketScenarioGenerator gen = new SocketScenarioGenerator(rnd);
        long scenarios = (ops + OPS_PER_SCENARIO - 1) / OPS_PER_SCENARIO;
        long lines = 0;
        long differing = 0;
        long engineErrors = 0;
        int shown = 0;
        for (int i = 0; i < scenarios; i++) {
            int n = (int) Math.min(OPS_PER_SCENARIO, ops - (long) i * OPS_PER_SCENARIO);
            List<String> scenario = gen.scenario(i, seed, n);
            List<String> engineOut = runOn(new EngineBackend(), scenario);
            List<String> kernelOut = kernel ? runOn(openKernel(), scenario) : null;
            boolean finding = false;
            for (int l = 0; l < scenario.size(); l++) {
                String e = l < engineOut.size() ? engineOut.get(l) : "(nothing)";
                lines++;
                if (e.contains("\"error\":\"engine: ")) {
                    engineErrors++;
                    finding = true;
                    if (shown++ < 20) {
                        out.println("scenario " + i + " line " + (l + 1) + ": " + scenario.get(l) + "\n  engine: " + e);
                    }
                }
                if (kernelOut != null) {
                    String k = l < kernelOut.size() ? kernelOut.get(l) : "(nothing)";
                    if (!k.equals(e)) {
                        differing++;
                        finding = true;
                        if (shown++ < 20) {
                            out.println("scenario " + i + " line " + (l + 1) + ": " + scenario.get(l) + "\n  kernel: " + k
                                    + "\n  engine: " + e);
                        }
                    }
                }
            }
            if (finding && save != null) {
                Files.createDirectories(save);
                Files.write(save.resolve("socket-fuzz-" + seed + "-" + i + ".jsonl"), scenario);
            }
        }
        return new Report(scenarios, ops, lines, differing, engineErrors, kernel);
    }

    private static Backend openKernel() {
        try {
            return KernelBackend.openScenario();
        } catch (BpfException | RuntimeException | LinkageError e) {
            throw new IllegalStateException("the kernel backend cannot be opened: " + e.getMessage());
        }
    }

    /** The runner's output lines for {@code scenario} on {@code b}, which it closes. */
    private static List<String> runOn(Backend b, List<String> scenario) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (b) {
            new ScenarioRunner(b).run(scenario, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(b.name() + " backend: " + e.getMessage(), e);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        return text.isEmpty() ? List.of() : new ArrayList<>(List.of(text.split("\n")));
    }
}
