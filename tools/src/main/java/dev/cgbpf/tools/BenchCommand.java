package dev.cgbpf.tools;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.cli.Args;
import dev.cgbpf.hook.cli.CliException;
import dev.cgbpf.hook.cli.Command;
import dev.cgbpf.hook.cli.Console;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.tools.bench.BenchProgram;
import dev.cgbpf.tools.bench.BenchPrograms;
import dev.cgbpf.tools.bench.HookBench;
import dev.cgbpf.tools.bench.RuntimesBench;
import dev.cgbpf.tools.bench.InterpBench;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code cgbpf-tools bench interp}: the engine interpreter's speed next to the kernel's;
 * {@code cgbpf-tools bench hook}: what the OCI hook costs a container start. (Until the tools
 * moved out of the product jar, {@code cgbpf bench}.)
 */
final class BenchCommand implements Command {

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String synopsis() {
        return "interp [--quick] | hook [--runs N] [--quick] | runtimes [--runs N] [--shim FILE]";
    }

    @Override
    public String summary() {
        return "interp: engine interpreter vs kernel, ns per run; hook: hook stages and runc run, ms;"
                + " runtimes: container starts per engine with and without cgbpf, ms";
    }

    @Override
    public String help() {
        return """
                Runs the same socket_filter programs (10 to 1000 instructions: ALU chains,
                branches, stack loads/stores, a loop of map lookups) on the engine and on the
                kernel through BPF_PROG_TEST_RUN with a large repeat, and prints ns per run and
                the ratio. The kernel column needs root; without it only the engine is measured.
                Takes about a minute.

                  --quick   short warm-up and few samples (a smoke test; figures are rough)

                cgbpf-tools bench hook [--runs N] [--quick]
                Median wall time of each stage of the OCI hook (createRuntime attach, prestart,
                poststop), run as a separate process the way a runtime runs it, through the
                installed launcher with its class-data-sharing archive and through plain
                java -jar (not installed: cgbpf's main class from this tools jar); and the
                median `runc run` time of a busybox container running 'true', without and
                with the hook. Runs are interleaved. Needs root, bpf(2), runc and a static
                busybox (/bin/busybox). Takes about two minutes.

                  --runs N  runs per figure (default 15)
                  --quick   3 runs per figure (a smoke test)

                cgbpf-tools bench runtimes [--runs N] [--shim FILE]
                Median wall time of a busybox container running 'true' under each engine
                installed (podman+runc, ctr, docker; containerd and dockerd started privately
                here), without cgbpf, through the shim without settings, and with a device
                setting. The hook and the shim use the CGBPF_* settings of this environment.
                Needs root and bpf(2).
                  --runs N     starts per row (default 10)
                  --shim FILE  the runtime shim (default /usr/local/bin/cgbpf-runtime; its
                               directory's cgbpf-hook is podman's hook)
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        InterpBench.Settings settings = InterpBench.Settings.FULL;
        Integer runs = null;
        boolean quick = false;
        String shim = "/usr/local/bin/cgbpf-runtime";
        for (String o; (o = args.nextOption()) != null; ) {
            if (o.equals("--shim")) {
                shim = args.value(o);
            } else if (o.equals("--quick")) {
                args.noValue(o);
                settings = InterpBench.Settings.QUICK;
                quick = true;
            } else if (o.equals("--runs")) {
                runs = Args.intValue(args.value(o), o);
            } else {
                throw args.unknownOption(o);
            }
        }
        List<String> operands = args.operands(1);
        if (!operands.isEmpty() && operands.get(0).equals("runtimes")) {
            return runtimes(runs != null ? runs : quick ? 3 : 10, Path.of(shim).toAbsolutePath(), console);
        }
        if (!operands.isEmpty() && operands.get(0).equals("hook")) {
            return hook(runs != null ? runs : quick ? HookBench.Settings.QUICK.runs() : HookBench.Settings.FULL.runs(),
                    console);
        }
        if (operands.isEmpty() || !operands.get(0).equals("interp")) {
            throw CliException.usage("bench: which benchmark? cgbpf-tools bench interp, hook or runtimes");
        }
        if (runs != null) {
            throw CliException.usage("bench interp: --runs is an option of bench hook");
        }
        PrintStream out = console.out();
        BpfAvailability availability = KernelBackend.availability();
        Optional<String> kernelMissing = availability.usable() ? Optional.empty() : Optional.of(availability.reason());
        printMethod(out, settings, kernelMissing);
        InterpBench bench = new InterpBench(settings);
        out.printf("%-11s %-30s %5s %12s %12s %12s %9s%n", "program", "mix", "insns",
                "engine ns", "kernel ns", "kernel wall", "eng/kern");
        try (Backend engine = new EngineBackend();
             Backend kernel = kernelMissing.isEmpty() ? new KernelBackend() : null) {
            for (BenchProgram p : BenchPrograms.suite()) {
                int insns = p.build().apply(0).size();
                InterpBench.Measurement e = bench.measure(engine, p);
                if (kernel == null) {
                    out.printf("%-11s %-30s %5d %12.1f %12s %12s %9s%n", p.name(), p.mix(), insns, e.wallNs(), "-", "-", "-");
                    continue;
                }
                InterpBench.Measurement k = bench.measure(kernel, p);
                if (k.retval() != e.retval()) {
                    throw CliException.badInput("bench: " + p.name() + " returned " + e.retval() + " on the engine but "
                            + k.retval() + " on the kernel: the figures would compare different work");
                }
                out.printf("%-11s %-30s %5d %12.1f %12.0f %12.1f %8.1fx%n", p.name(), p.mix(), insns,
                        e.wallNs(), k.reportedNs(), k.wallNs(), e.wallNs() / Math.max(k.reportedNs(), 1));
            }
        } catch (BpfException e) {
            throw CliException.badInput("bench: " + e.getMessage());
        }
        return 0;
    }

    private static int runtimes(int runs, Path shim, Console console) throws CliException {
        if (runs < 1 || runs > 1000) {
            throw CliException.usage("bench runtimes: --runs must be between 1 and 1000, got " + runs);
        }
        if (!Files.isExecutable(shim)) {
            throw CliException.badInput("bench runtimes: " + shim + " is not an executable (--shim FILE)");
        }
        try {
            RuntimesBench.run(new RuntimesBench.Settings(runs, shim), console.out());
            return 0;
        } catch (IOException e) {
            throw CliException.badInput("bench runtimes: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.badInput("bench runtimes: interrupted");
        }
    }

    private static int hook(int runs, Console console) throws CliException {
        if (runs < 1 || runs > 1000) {
            throw CliException.usage("bench hook: --runs must be between 1 and 1000, got " + runs);
        }
        try {
            HookBench.run(new HookBench.Settings(runs), console.out());
            return 0;
        } catch (IOException e) {
            throw CliException.badInput("bench hook: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.badInput("bench hook: interrupted");
        }
    }

    private static void printMethod(PrintStream out, InterpBench.Settings s, Optional<String> kernelMissing) {
        out.println("cgbpf-tools bench interp: ns per program run (median of " + s.samples() + " calls of BPF_PROG_TEST_RUN,"
                + " each with a repeat calibrated to ~" + s.batchNanos() / 1_000_000 + " ms, after "
                + s.warmupNanos() / 1_000_000 + " ms of warm-up calls per program)");
        out.println("  engine ns   = wall time of the engine's test run / repeat (JVM: "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ")");
        out.println("  kernel ns   = the kernel's own duration per run (whole ns); kernel wall = wall time / repeat,"
                + " incl. syscall");
        out.println("  eng/kern    = engine ns / kernel ns");
        out.println("  host: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cpus, Linux "
                + System.getProperty("os.version") + ", bpf_jit_enable=" + sysctl("/proc/sys/net/core/bpf_jit_enable"));
        kernelMissing.ifPresent(why -> out.println("  kernel: unavailable (" + why + "): engine only"));
        out.println();
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.toLowerCase(Locale.ROOT).startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip())
                    .findFirst().orElse("unknown cpu");
        } catch (IOException e) {
            return "unknown cpu";
        }
    }

    private static String sysctl(String path) {
        try {
            return Files.readString(Path.of(path)).strip();
        } catch (IOException e) {
            return "?";
        }
    }
}
