package dev.cgbpf.tools;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.jit.JitMode;
import dev.cgbpf.engine.jit.JitStats;
import dev.cgbpf.hook.cli.Args;
import dev.cgbpf.hook.cli.CliException;
import dev.cgbpf.hook.cli.Command;
import dev.cgbpf.hook.cli.Console;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.tools.bench.BenchProgram;
import dev.cgbpf.tools.bench.BenchPrograms;
import dev.cgbpf.tools.bench.DaemonPathBench;
import dev.cgbpf.tools.bench.DeviceBench;
import dev.cgbpf.tools.bench.HookBench;
import dev.cgbpf.tools.bench.RuntimesBench;
import dev.cgbpf.tools.bench.InterpBench;
import dev.cgbpf.tools.bench.JitCost;
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
        return "interp [--quick] | hook [--runs N] [--quick] | daemon [--runs N] [--running K] [--quick] | devices [--quick] [--sizes N,...]"
                + " | runtimes [--runs N] [--shim FILE]";
    }

    @Override
    public String summary() {
        return "interp: engine interpreter and JIT vs kernel, ns per run; hook: hook stages and runc run, ms;"
                + " devices: device policies of 10 to 40,000 rules, linear vs maps;"
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

                cgbpf-tools bench daemon [--runs N] [--running K] [--quick]
                The daemon path alone, with many runs: median `runc run` of a busybox 'true'
                container without the hook and through the installed cgbpf-hook and a cgbpf
                daemon of its own (a device rule: 1 program; + a bind address: 9), variants
                interleaved, after 200 hooked runs of warm-up; then again with K hooked
                containers running. Needs root, bpf(2), runc, a static busybox and an
                installed cgbpf (install.sh). Takes about five minutes.

                  --runs N     runs per variant and pass (default 100)
                  --running K  containers up during the second pass (default 100; 0: none)
                  --quick      10 runs, 20 warm-up, 5 running (a smoke test)

                cgbpf-tools bench runtimes [--runs N] [--shim FILE]
                Median wall time of a busybox container running 'true' under each engine
                installed (podman+runc, ctr, docker; containerd and dockerd started privately
                here), without cgbpf, through the shim without settings, and with a device
                setting. The hook and the shim use the CGBPF_* settings of this environment.
                Needs root and bpf(2).
                  --runs N     starts per row (default 10)
                  --shim FILE  the runtime shim (default /usr/local/bin/cgbpf-runtime; its
                               directory's cgbpf-hook is podman's hook)

                cgbpf-tools bench devices [--quick]
                A host policy of 10, 30, 100, 1,000, 10,000 and 40,000 device rules in the
                linear and the maps shape: the createRuntime stage's time (in this JVM, as the
                daemon runs it), the program's xlated and jited bytes and its map's, and ns per
                open(2) of an allowed and a denied device from a static C probe (built with
                gcc) in the container's cgroup. Needs root, bpf(2), gcc and bpftool. Takes
                a few minutes.

                  --quick   10 and 1,000 rules, short rounds (a smoke test)
                  --sizes N,N,...  the rule counts to measure (4..200000)
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        InterpBench.Settings settings = InterpBench.Settings.FULL;
        Integer runs = null;
        boolean quick = false;
        String shim = "/usr/local/bin/cgbpf-runtime";
        List<Integer> sizes = null;
        Integer running = null;
        for (String o; (o = args.nextOption()) != null; ) {
            if (o.equals("--shim")) {
                shim = args.value(o);
            } else if (o.equals("--quick")) {
                args.noValue(o);
                settings = InterpBench.Settings.QUICK;
                quick = true;
            } else if (o.equals("--sizes")) {
                sizes = new java.util.ArrayList<>();
                for (String n : args.value(o).split(",")) {
                    sizes.add(Args.intValue(n.strip(), o));
                }
            } else if (o.equals("--runs")) {
                runs = Args.intValue(args.value(o), o);
            } else if (o.equals("--running")) {
                running = Args.intValue(args.value(o), o);
            } else {
                throw args.unknownOption(o);
            }
        }
        List<String> operands = args.operands(1);
        if (!operands.isEmpty() && operands.get(0).equals("runtimes")) {
            return runtimes(runs != null ? runs : quick ? 3 : 10, Path.of(shim).toAbsolutePath(), console);
        }
        if (!operands.isEmpty() && operands.get(0).equals("devices")) {
            if (runs != null) {
                throw CliException.usage("bench devices: --runs is an option of bench hook");
            }
            DeviceBench.Settings s = quick ? DeviceBench.Settings.QUICK : DeviceBench.Settings.FULL;
            if (sizes != null) {
                if (sizes.isEmpty() || sizes.stream().anyMatch(n -> n < 4 || n > 200_000)) {
                    throw CliException.usage("bench devices: --sizes takes rule counts from 4 to 200000");
                }
                s = new DeviceBench.Settings(sizes, s.hookRuns(), s.rounds(), s.roundMs());
            }
            return devices(s, console);
        }
        if (running != null && (operands.isEmpty() || !operands.get(0).equals("daemon"))) {
            throw CliException.usage("bench: --running is an option of bench daemon");
        }
        if (!operands.isEmpty() && operands.get(0).equals("daemon")) {
            return daemon(quick ? DaemonPathBench.Settings.QUICK : DaemonPathBench.Settings.FULL, runs, running, console);
        }
        if (!operands.isEmpty() && operands.get(0).equals("hook")) {
            return hook(runs != null ? runs : quick ? HookBench.Settings.QUICK.runs() : HookBench.Settings.FULL.runs(),
                    console);
        }
        if (operands.isEmpty() || !operands.get(0).equals("interp")) {
            throw CliException.usage("bench: which benchmark? cgbpf-tools bench interp, hook, daemon, devices or runtimes");
        }
        if (runs != null) {
            throw CliException.usage("bench interp: --runs is an option of bench hook");
        }
        PrintStream out = console.out();
        BpfAvailability availability = KernelBackend.availability();
        Optional<String> kernelMissing = availability.usable() ? Optional.empty() : Optional.of(availability.reason());
        printMethod(out, settings, kernelMissing);
        InterpBench bench = new InterpBench(settings);
        out.printf("%-11s %-30s %5s %12s %10s %12s %12s %9s %9s %11s %10s %9s %8s %8s%n", "program", "mix", "insns",
                "engine ns", "jit ns", "kernel ns", "kernel wall", "eng/kern", "jit/kern", "compile µs", "break-even",
                "meta KiB", "jit cpu", "cpu/kern");
        // the engine twice: interpreter only, and every program compiled at load
        try (EngineBackend engine = new EngineBackend();
             EngineBackend jit = new EngineBackend();
             Backend kernel = kernelMissing.isEmpty() ? new KernelBackend() : null) {
            engine.host().setJitMode(JitMode.OFF);
            jit.host().setJitMode(JitMode.ON);
            for (BenchProgram p : BenchPrograms.suite()) {
                int insns = p.build().apply(0).size();
                InterpBench.Measurement e = bench.measure(engine, p);
                long compiledBefore = jit.host().jitStats().compiled();
                InterpBench.Measurement j = bench.measure(jit, p);
                if (jit.host().jitStats().compiled() == compiledBefore) {
                    throw CliException.badInput("bench: " + p.name() + " was not compiled (the jit column would be"
                            + " the interpreter's); run with -Dorg.slf4j.simpleLogger.log.dev.cgbpf.engine.jit=debug for why");
                }
                sameWork(p, "the interpreter", e, "compiled", j);
                JitCost.Cost cost = JitCost.measure(p, settings == InterpBench.Settings.QUICK);
                String breakEven = e.wallNs() > j.wallNs()
                        ? String.format("%.0f", cost.compileMicros() * 1000 / (e.wallNs() - j.wallNs())) : "never";
                String costs = String.format(" %11.0f %10s %9.1f %8.1f", cost.compileMicros(), breakEven,
                        cost.metaspaceBytes() / 1024, j.cpuNs());
                if (kernel == null) {
                    out.printf("%-11s %-30s %5d %12.1f %10.1f %12s %12s %9s %9s%s%n", p.name(), p.mix(), insns,
                            e.wallNs(), j.wallNs(), "-", "-", "-", "-", costs);
                    continue;
                }
                InterpBench.Measurement k = bench.measure(kernel, p);
                sameWork(p, "the engine", e, "the kernel", k);
                double kns = Math.max(k.reportedNs(), 1);
                out.printf("%-11s %-30s %5d %12.1f %10.1f %12.0f %12.1f %8.1fx %8.2fx%s %7.2fx%n", p.name(), p.mix(),
                        insns, e.wallNs(), j.wallNs(), k.reportedNs(), k.wallNs(), e.wallNs() / kns, j.wallNs() / kns, costs,
                        j.cpuNs() / kns);
            }
            out.println("load average at the end: " + loadAverage());
            JitStats.Snapshot s = jit.host().jitStats();
            out.printf("%ncompile cost: %d programs, %d instructions, %d bytes of bytecode in %.1f ms:"
                    + " %.2f µs per instruction (cold: the first compiles in this JVM)%n", s.compiled(), s.insns(),
                    s.bytecodeBytes(), s.compileNanos() / 1e6, s.compileNanos() / 1e3 / Math.max(1, s.insns()));
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

    private static int devices(DeviceBench.Settings settings, Console console) throws CliException {
        try {
            DeviceBench.run(settings, console.out());
            return 0;
        } catch (IOException e) {
            throw CliException.badInput("bench devices: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.badInput("bench devices: interrupted");
        }
    }

    private static void sameWork(BenchProgram p, String a, InterpBench.Measurement ma, String b,
                                 InterpBench.Measurement mb) throws CliException {
        if (ma.retval() != mb.retval()) {
            throw CliException.badInput("bench: " + p.name() + " returned " + ma.retval() + " on " + a + " but "
                    + mb.retval() + " on " + b + ": the figures would compare different work");
        }
    }

    /** {@code defaults} with the --runs and --running given (null: not given). */
    private static int daemon(DaemonPathBench.Settings defaults, Integer runs, Integer running, Console console)
            throws CliException {
        DaemonPathBench.Settings s;
        try {
            s = new DaemonPathBench.Settings(runs != null ? runs : defaults.runs(), defaults.warmUp(),
                    running != null ? running : defaults.running());
        } catch (IllegalArgumentException e) {
            throw CliException.usage("bench daemon: " + e.getMessage());
        }
        try {
            DaemonPathBench.run(s, console.out());
            return 0;
        } catch (IOException e) {
            throw CliException.badInput("bench daemon: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliException.badInput("bench daemon: interrupted");
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

    /** The 1, 5 and 15 minute load averages (/proc/loadavg), or "?". */
    private static String loadAverage() {
        String[] f = sysctl("/proc/loadavg").split(" ");
        return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "?";
    }

    private static void printMethod(PrintStream out, InterpBench.Settings s, Optional<String> kernelMissing) {
        out.println("cgbpf-tools bench interp: ns per program run (median of " + s.samples() + " calls of BPF_PROG_TEST_RUN,"
                + " each with a repeat calibrated to ~" + s.batchNanos() / 1_000_000 + " ms, after "
                + s.warmupNanos() / 1_000_000 + " ms of warm-up calls per program)");
        out.println("  engine ns   = wall time of the engine's test run / repeat (JVM: "
                + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ")");
        out.println("  kernel ns   = the kernel's own duration per run (whole ns); kernel wall = wall time / repeat,"
                + " incl. syscall");
        out.println("  jit ns      = the same on an engine that compiles every program to JVM bytecode at load"
                + " (--engine-jit on)");
        out.println("  eng/kern    = engine ns / kernel ns; jit/kern = jit ns / kernel ns");
        out.println("  compile µs  = the compiler's time for the program, warm (mean of " + JitCost.TIMED + " after "
                + JitCost.WARM + "; --quick: 5 after 5)");
        out.println("  break-even  = compile µs / (engine ns - jit ns): the runs after which compiling paid off");
        out.println("  meta KiB    = metaspace held per compiled program (" + JitCost.LIVE + " loaded at once; --quick: 20)");
        out.println("  jit cpu     = the compiled engine's thread CPU time / repeat: without the time it waited for a"
                + " CPU, as the kernel's duration pauses while its loop gives the CPU away; cpu/kern = jit cpu / kernel ns");
        out.println("  load average at the start: " + loadAverage());
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
