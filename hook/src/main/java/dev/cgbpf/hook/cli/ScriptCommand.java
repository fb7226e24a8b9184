package dev.cgbpf.hook.cli;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.jit.JitMode;
import dev.cgbpf.hook.script.ScenarioRunner;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/** {@code cgbpf script}: runs a scenario file on the engine or the kernel. */
final class ScriptCommand implements Command {
    private final Function<BackendChoice, Optional<String>> availability;

    ScriptCommand() {
        this(BackendChoice::unavailableReason);
    }

    ScriptCommand(Function<BackendChoice, Optional<String>> availability) {
        this.availability = availability;
    }

    @Override
    public String name() {
        return "script";
    }

    @Override
    public String synopsis() {
        return "--backend engine|kernel [--engine-jit off|on|auto] FILE|-";
    }

    @Override
    public String summary() {
        return "run a scenario (JSON Lines) and print one result per op";
    }

    @Override
    public String help() {
        return """
                Runs the scenario's ops in order and prints one JSON object per op on stdout
                (format: docs/SCENARIOS.md). The same file gives the same output on both backends.

                  --backend engine   the in-JVM eBPF engine (no privileges needed)
                  --backend kernel   the host kernel through bpf(2) (root: CAP_BPF + CAP_SYS_ADMIN)
                  --engine-jit MODE  how the engine runs programs: off (interpreter only), on
                                     (compiled to JVM bytecode at load), auto (interpreted first,
                                     compiled once a program has run 2000 times; the default)

                The kernel backend works in a fresh cgroup under the cgroup v2 mount and removes
                it, with everything it attached, when the scenario ends; probes run in a helper
                process moved into the scenario's cgroups. Networking is loopback only.

                Exit status: 0 every line ran (an errno is a result, not a failure); 1 some line
                was malformed (that line prints {"line":N,"error":"..."}); 2 nothing ran: bad
                arguments, unreadable file, or the backend is unavailable (reason on stderr,
                nothing on stdout).
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        String backendName = null;
        JitMode jit = null;
        for (String o; (o = args.nextOption()) != null; ) {
            if (o.equals("--backend")) {
                backendName = args.value(o);
            } else if (o.equals("--engine-jit")) {
                String v = args.value(o);
                try {
                    jit = JitMode.parse(v);
                } catch (IllegalArgumentException e) {
                    throw CliException.usage("script: " + e.getMessage());
                }
            } else {
                throw args.unknownOption(o);
            }
        }
        List<String> operands = args.operands(1);
        if (backendName == null) {
            throw CliException.usage("script: --backend engine|kernel is required");
        }
        if (operands.isEmpty()) {
            throw CliException.usage("script: which scenario file? (give FILE, or - for stdin)");
        }
        BackendChoice choice = BackendChoice.parse(backendName);
        if (jit != null && choice != BackendChoice.ENGINE) {
            throw CliException.usage("script: --engine-jit is an option of --backend engine");
        }
        List<String> lines = InputFile.of(operands.get(0)).readText(console).lines().toList();
        try (Backend backend = choice.open(availability)) {
            if (jit != null && backend instanceof EngineBackend engine) {
                engine.host().setJitMode(jit);
            }
            return new ScenarioRunner(backend).run(lines, console.out());
        }
    }
}
