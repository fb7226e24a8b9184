package dev.cgbpf.tools;

import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.hook.cli.Args;
import dev.cgbpf.hook.cli.CliException;
import dev.cgbpf.hook.cli.Command;
import dev.cgbpf.hook.cli.Console;
import dev.cgbpf.tools.fuzz.Fuzz;
import dev.cgbpf.tools.fuzz.RunFuzz;

/** {@code cgbpf-tools fuzz}: {@link Fuzz} through the tools' command line. */
final class FuzzCommand implements Command {

    @Override
    public String name() {
        return "fuzz";
    }

    @Override
    public String synopsis() {
        return "[--count N] [--seed S] [--engine-only] [--run]";
    }

    @Override
    public String summary() {
        return "random and mutated programs through the engine verifier and the kernel's";
    }

    @Override
    public String help() {
        return """
                Generates N programs from seed S (plausible ones, half of them mutated), runs each
                through the engine verifier and the host kernel's, and prints the findings: a
                verifier crash (an exception other than its own verdict), an unsound accept (the
                engine accepts, the kernel rejects), and samples of the other disagreements; then
                a summary line with the verdict and errno+reason agreement. Needs root and bpf(2)
                unless --engine-only. Exit status 1 when a crash or an unsound accept was found.
                The same as java -cp cgbpf-tools.jar dev.cgbpf.tools.fuzz.Fuzz; docs/fidelity.md.

                  --count N      programs (default 1000)
                  --seed S       the generator's seed (default 1)
                  --engine-only  the engine alone: crashes only, no agreement measured
                  --run          instead: run every program the verifiers accept (socket_filter,
                                 BPF_PROG_TEST_RUN) on the kernel, the engine's interpreter and its
                                 compiler, and compare return value or error, packet and maps;
                                 exit status 1 when interpreter and compiler differ
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        long count = 1000;
        long seed = 1;
        boolean engineOnly = false;
        boolean run = false;
        for (String o; (o = args.nextOption()) != null; ) {
            switch (o) {
                case "--run" -> {
                    args.noValue(o);
                    run = true;
                }
                case "--count" -> count = longValue(args.value(o), o);
                case "--seed" -> seed = longValue(args.value(o), o);
                case "--engine-only" -> {
                    args.noValue(o);
                    engineOnly = true;
                }
                default -> throw args.unknownOption(o);
            }
        }
        args.operands(0);
        if (count <= 0) {
            throw CliException.usage("fuzz: --count must be positive");
        }
        Backend kernel = null;
        if (!engineOnly) {
            try {
                kernel = Fuzz.kernelBackend();
            } catch (IllegalStateException e) {
                // no silent engine-only run: the comparison with the kernel is the point
                throw CliException.usage("fuzz: " + e.getMessage() + " (--engine-only runs without it)");
            }
        }
        try {
            if (run) {
                RunFuzz.Report r = RunFuzz.run(count, seed, kernel, console.out());
                console.out().println("run fuzz seed " + seed + ": " + r.summary());
                return r.ok() ? 0 : 1;
            }
            Fuzz.Report r = Fuzz.run(count, seed, kernel, console.out());
            console.out().println("fuzz seed " + seed + ": " + r.summary());
            return r.ok() ? 0 : 1;
        } finally {
            if (kernel != null) {
                kernel.close();
            }
        }
    }

    private static long longValue(String v, String option) throws CliException {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw CliException.usage(option + ": '" + v + "' is not a number");
        }
    }
}
