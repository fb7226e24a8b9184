package dev.cgbpf.hook.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cgbpf.hook.daemon.Daemon;
import dev.cgbpf.hook.daemon.DaemonProbe;
import dev.cgbpf.hook.runtimes.Registrations;
import dev.cgbpf.kernel.HostReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code cgbpf doctor}: what this host offers cgbpf (kernel, bpf(2), cgroup layout, bpffs, JIT,
 * and which attach types take a program), as text or JSON. The report is printed in full whatever
 * it finds; the exit status says whether the kernel backend can work here.
 */
final class DoctorCommand implements Command {
    private final Supplier<HostReport> report;
    private final Function<Path, DaemonProbe.Result> daemon;
    private final Registrations registrations;

    DoctorCommand() {
        this(HostReport::collect, socket -> DaemonProbe.status(socket, Duration.ofSeconds(5)));
    }

    /** With the engines' configuration from elsewhere (tests). */
    DoctorCommand(Supplier<HostReport> report, Function<Path, DaemonProbe.Result> daemon,
                  Registrations registrations) {
        this.report = report;
        this.daemon = daemon;
        this.registrations = registrations;
    }

    /** With the report from elsewhere (tests show what a host without bpf(2) prints). */
    DoctorCommand(Supplier<HostReport> report) {
        this(report, socket -> DaemonProbe.status(socket, Duration.ofSeconds(5)));
    }

    DoctorCommand(Supplier<HostReport> report, Function<Path, DaemonProbe.Result> daemon) {
        this(report, daemon, Registrations.host());
    }

    @Override
    public String name() {
        return "doctor";
    }

    @Override
    public String synopsis() {
        return "[--json] [--socket PATH]";
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
                loads and attaches to a scratch cgroup (made and removed again; needs root);
                and whether a cgbpf daemon answers on its socket (`cgbpf daemon`; the daemon
                is optional: without it the hook runs as one JVM per stage); and for each
                container engine (podman, CRI-O, Docker, containerd) whether cgbpf is
                registered with it: an engine without cgbpf runs containers that carry
                dev.cgbpf.* settings unprotected, without a word (docs/runtimes.md).

                  --json          one JSON object instead of text
                  --socket PATH   the daemon's socket (default $CGBPF_SOCKET, else
                                  /run/cgbpf/cgbpf.sock)

                Exit status: 0 the kernel backend can work here (bpf(2) usable and a cgroup v2
                mount); 1 it cannot (the report says why); 2 bad arguments.
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        boolean json = false;
        String env = System.getenv(DaemonCommand.SOCKET_ENV);
        Path socket = env == null || env.isEmpty() ? Daemon.DEFAULT_SOCKET : Path.of(env);
        for (String o; (o = args.nextOption()) != null; ) {
            if (o.equals("--json")) {
                args.noValue(o);
                json = true;
            } else if (o.equals("--socket")) {
                socket = Path.of(args.value(o));
            } else {
                throw args.unknownOption(o);
            }
        }
        args.operands(0);
        HostReport r = report.get();
        DaemonProbe.Result d = daemon.apply(socket);
        List<Registrations.Engine> engines = registrations.check();
        if (json) {
            String host = r.renderJson();
            console.out().println(host.substring(0, host.length() - 1) + ",\"daemon\":" + daemonJson(socket, d)
                    + ",\"runtimes\":" + toJson(engines) + "}");
        } else {
            console.out().print(r.renderText());
            console.out().printf("%-13s %s%n", "daemon", daemonText(d));
            for (Registrations.Engine e : engines) {
                console.out().printf("%-13s %s: %s%n", "runtime", e.name(), e.registered() && e.installed()
                        ? "registered: " + e.detail() : e.detail());
            }
        }
        return r.bpf().usable() && r.cgroup2Mount() != null ? 0 : 1;
    }

    static String daemonText(DaemonProbe.Result d) {
        return switch (d.state()) {
            case ANSWERS -> "runs: " + d.detail();
            case NO_SOCKET -> "not running (" + d.detail() + "; the hook runs as a JVM per stage)";
            default -> "not answering: " + d.detail();
        };
    }

    private static String toJson(Object o) {
        try {
            return JsonMapper.builder().build().writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String daemonJson(Path socket, DaemonProbe.Result d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("socket", socket.toString());
        m.put("answers", d.answers());
        m.put("state", d.state().name().toLowerCase(java.util.Locale.ROOT));
        m.put("pid", d.pid() > 0 ? d.pid() : null);
        m.put("detail", d.detail());
        try {
            return JsonMapper.builder().build().writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
