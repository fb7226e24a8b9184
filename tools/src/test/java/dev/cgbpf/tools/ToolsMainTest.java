package dev.cgbpf.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.hook.cli.Console;
import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.tools.bench.BenchProgram;
import dev.cgbpf.tools.bench.BenchPrograms;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** cgbpf-tools: dispatch, one-line errors, and the bench and fuzz commands as they ran under cgbpf. */
class ToolsMainTest {
    record Run(int status, String out, String err) {
        static Run of(String... args) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Console c = new Console(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = ToolsMain.run(args, c);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }
    }

    static void assertOneLineError(Run r, int status, String reason) {
        assertEquals(status, r.status(), r.toString());
        assertEquals("cgbpf-tools: " + reason + "\n", r.err(), r.toString());
    }

    @Test
    void dispatcher() {
        Run none = Run.of();
        assertEquals(2, none.status());
        assertTrue(none.out().contains("usage: cgbpf-tools <command>"), none.out());
        Run help = Run.of("help");
        assertEquals(0, help.status());
        for (String c : List.of("bench", "fuzz", "help")) {
            assertTrue(help.out().contains("\n  " + c + " "), c + " missing from help: " + help.out());
        }
        assertTrue(Run.of("help", "bench").out().startsWith("usage: cgbpf-tools bench interp [--quick] | hook [--runs N] [--quick]"
                + " | daemon [--runs N] [--running K] [--quick] | devices [--quick] [--sizes N,...] | runtimes [--runs N] [--shim FILE]\n"));
        assertTrue(Run.of("fuzz", "--help").out().startsWith(
                "usage: cgbpf-tools fuzz [--count N] [--seed S] [--engine-only] [--run | --sockets [--save DIR]]\n"));
        assertTrue(Run.of("--version").out().matches("cgbpf-tools \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\n"));
        assertOneLineError(Run.of("hook", "createRuntime"), 2, "unknown command 'hook' (try 'cgbpf-tools help')");
    }

    @Test
    void benchMistakesAreOneLine() {
        assertOneLineError(Run.of("bench", "cpu"), 2,
                "bench: which benchmark? cgbpf-tools bench interp, hook, daemon, devices or runtimes");
        assertOneLineError(Run.of("bench", "hook", "--running", "3"), 2, "bench: --running is an option of bench daemon");
        assertOneLineError(Run.of("bench", "daemon", "--running", "1001"), 2,
                "bench daemon: runs must be 1..1000, warm-up 0..10000, running 0..1000");
        assertOneLineError(Run.of("bench", "interp", "--runs", "3"), 2, "bench interp: --runs is an option of bench hook");
        assertOneLineError(Run.of("bench", "devices", "--runs", "3"), 2, "bench devices: --runs is an option of bench hook");
        assertOneLineError(Run.of("bench", "devices", "--sizes", "10,3"), 2,
                "bench devices: --sizes takes rule counts from 4 to 200000");
        assertOneLineError(Run.of("bench", "hook", "--runs=0"), 2, "bench hook: --runs must be between 1 and 1000, got 0");
        assertOneLineError(Run.of("bench", "hook", "--runs", "x"), 2, "--runs: 'x' is not a number");
        assertOneLineError(Run.of("bench", "runtimes", "--runs", "0"), 2,
                "bench runtimes: --runs must be between 1 and 1000, got 0");
        assertOneLineError(Run.of("bench", "runtimes", "--shim", "/nonexistent/cgbpf-runtime"), 1,
                "bench runtimes: /nonexistent/cgbpf-runtime is not an executable (--shim FILE)");
        assertOneLineError(Run.of("bench", "--fast"), 2, "bench: unknown option --fast (see 'cgbpf-tools help bench')");
    }

    @Test
    void fuzzMistakesAreOneLine() {
        assertOneLineError(Run.of("fuzz", "--count", "0"), 2, "fuzz: --count must be positive");
        assertOneLineError(Run.of("fuzz", "--seed", "x"), 2, "--seed: 'x' is not a number");
        assertOneLineError(Run.of("fuzz", "--engine-only=yes"), 2, "fuzz: option --engine-only takes no value");
        assertOneLineError(Run.of("fuzz", "extra"), 2, "fuzz: unexpected argument 'extra'");
    }

    @Test
    void fuzzEngineOnly() {
        Run r = Run.of("fuzz", "--engine-only", "--count", "200", "--seed", "5");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().endsWith("(no kernel: agreement not measured)\n"), r.out());
        assertTrue(r.out().contains("fuzz seed 5: 200 programs, "), r.out());
    }

    /** The quick run end to end: every program gets a row; with bpf(2) usable, a kernel column too. */
    @Test
    void benchInterpQuick() {
        Run r = Run.of("bench", "interp", "--quick");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().startsWith("cgbpf-tools bench interp: ns per program run"), r.out());
        // the compiled tier in the same run (the command fails when a program was not compiled)
        assertTrue(r.out().contains(" jit ns ") && r.out().contains("compile cost: 6 programs"), r.out());
        for (BenchProgram p : BenchPrograms.suite()) {
            assertTrue(r.out().contains("\n" + p.name() + " "), p.name() + " missing: " + r.out());
        }
        if (KernelBackend.availability().usable()) {
            assertFalse(r.out().contains("kernel: unavailable"), r.out());
            // engine/kernel and jit/kernel ratios on a row
            assertTrue(java.util.regex.Pattern.compile("\\d\\.\\dx +\\d+\\.\\d\\dx ").matcher(r.out()).find(),
                    "no eng/kern and jit/kern ratios: " + r.out());
        }
    }
}
