package dev.cgbpf.hook.cli;

import dev.cgbpf.kernel.HostReport;
import java.util.function.Supplier;

/**
 * {@code cgbpf doctor}: what this host offers cgbpf (kernel, bpf(2), cgroup layout, bpffs, JIT,
 * and which attach types take a program), as text or JSON. The report is printed in full whatever
 * it finds; the exit status says whether the kernel backend can work here.
 */
final class DoctorCommand implements Command {
    private final Supplier<HostReport> report;

    DoctorCommand() {
        this(HostReport::collect);
    }

    /** With the report from elsewhere (tests show what a host without bpf(2) prints). */
    DoctorCommand(Supplier<HostReport> report) {
        this.report = report;
    }

    @Override
    public String name() {
        return "doctor";
    }

    @Override
    public String synopsis() {
        return "[--json]";
    }

    @Override
    public String summary() {
        return "what this host offers cgbpf: bpf(2), cgroup v2, bpffs, JIT, attach types";
    }

    @Override
    public String help() {
        return """
                Reports the kernel release, whether bpf(2) is usable (and if not, why), the cgroup
                layout (pure v2 or hybrid, and where the unified hierarchy is mounted), the bpf
                file systems, the JIT setting, and for each attach type whether a trivial program
                loads and attaches to a scratch cgroup (made and removed again; needs root).

                  --json   one JSON object instead of text

                Exit status: 0 the kernel backend can work here (bpf(2) usable and a cgroup v2
                mount); 1 it cannot (the report says why); 2 bad arguments.
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        boolean json = OutputFormat.fromOptions(args) == OutputFormat.JSON;
        args.operands(0);
        HostReport r = report.get();
        if (json) {
            console.out().println(r.renderJson());
        } else {
            console.out().print(r.renderText());
        }
        return r.bpf().usable() && r.cgroup2Mount() != null ? 0 : 1;
    }
}
