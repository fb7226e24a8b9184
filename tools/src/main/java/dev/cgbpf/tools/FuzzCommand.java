package dev.cgbpf.tools;

import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.hook.cli.Args;
import dev.cgbpf.hook.cli.CliException;
import dev.cgbpf.hook.cli.Command;
import dev.cgbpf.hook.cli.Console;
import dev.cgbpf.tools.fuzz.Fuzz;
import dev.cgbpf.tools.fuzz.RunFuzz;
import dev.cgbpf.tools.fuzz.SocketFuzz;

/** {@code cgbpf-tools fuzz}: {@link Fuzz} through the tools' command line. */
final class FuzzCommand implements Command {

    @Override
    public String name() {
        return "fuzz";
    }

    @Override
    public String synopsis() {
        return "[--count N] [--seed S] [--engine-only] [--run | --sockets [--save DIR]]";
    }

    @Override
    public String summary() {
        return "random programs through both verifiers, or random socket operations through both backends";
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

                With --sockets: N random socket operations (socket, bind, connect, sendmsg on
                loopback) in scenarios of 50, each with random cgroup_sock_addr and sock_create
                programs attached, run on both backends through the scenario runner and compared
                line by line; prints each differing line (the first 20) and a summary. Exit status
                1 when a line differs or the engine failed with anything but an errno.

                  --count N      programs, or socket operations (default 1000)
                  --seed S       the generator's seed (default 1)
                  --engine-only  the engine alone: crashes only, no agreement measured
                  --run          instead: run every program the verifiers accept (socket_filter,
                                 BPF_PROG_TEST_RUN) on the kernel, the engine's interpreter and its
                                 compiler, and compare return value or error, packet and maps;
                                 exit status 1 when interpreter and compiler differ
                  --sockets      instead: fuzz the socket hooks (above)
                  --save DIR     (--sockets) write each scenario with a finding to DIR
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        long count = 1000;
        long seed = 1;
        boolean engineOnly = false;
        boolean run = false;
        boolean sockets = false;
        java.nio.file.Path save = null;
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
                case "--sockets" -> {
                    args.noValue(o);
                    sockets = true;
                }
                case "--save" -> save = java.nio.file.Path.of(args.value(o));
                default -> throw args.unknownOption(o);
            }
        }
        args.operands(0);
        if (count <= 0) {
            throw CliException.usage("fuzz: --count must be positive");
        }
        if (save != null && !sockets) {
            throw CliException.usage("fuzz: --save goes with --sockets");
        }
        if (run && sockets) {
            throw CliException.usage("fuzz: --run and --sockets are two different fuzzers; choose one");
        }
        if (sockets) {
            return sockets(count, seed, engineOnly, save, console);
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

    private static int sockets(long count, long seed, boolean engineOnly, java.nio.file.Path save, Console console)
            throws CliException {
        if (!engineOnly) {
            try {
                Fuzz.kernelBackend().close();
            } catch (IllegalStateException e) {
                throw CliException.usage("fuzz: " + e.getMessage() + " (--engine-only runs without it)");
            } catch (Exception e) {
                throw CliException.usage("fuzz: " + e.getMessage());
            }
        }
        try {
            SocketFuzz.Report r = SocketFuzz.run(count, seed, !engineOnly, save, console.out());
            console.out().println("socket fuzz seed " + seed + ": " + r.summary());
            return r.ok() ? 0 : 1;
        } catch (java.io.IOException e) {
            throw CliException.usage("fuzz: --save " + save + ": " + e.getMessage());
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
