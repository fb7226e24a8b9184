package dev.cgbpf.hook.cli;

import dev.cgbpf.hook.oci.ContainerStatus;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookSettings;
import dev.cgbpf.hook.spec.ContainerId;
import dev.cgbpf.hook.spec.SpecException;

import java.util.List;

/** {@code cgbpf status ID}: the programs the hook attached to a container and its denial counters. */
final class StatusCommand implements Command {
    @Override
    public String name() {
        return "status";
    }

    @Override
    public String synopsis() {
        return "[--json] ID";
    }

    @Override
    public String summary() {
        return "a container's attached programs and denial counters";
    }

    @Override
    public String help() {
        return """
                Shows what the hook attached to container ID (from its record in /run/cgbpf,
                or CGBPF_RUN_DIR), whether each program is still attached to the container's
                cgroup, and the denial counters the programs keep: device accesses, binds to
                a foreign address, binds to a port outside the ranges, refused sockets.
                Needs root for the kernel queries.

                  --json   the same as a JSON object
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        boolean json = OutputFormat.fromOptions(args) == OutputFormat.JSON;
        List<String> ops = args.operands(1);
        if (ops.isEmpty()) {
            throw CliException.usage("status: which container? (cgbpf status ID)");
        }
        try {
            String id = ContainerId.validate(ops.get(0), "status");
            ContainerStatus s = ContainerStatus.of(HookSettings.fromEnvironment(System.getenv()), id);
            console.out().print(json ? s.json() : s.text());
            return 0;
        } catch (SpecException e) {
            throw CliException.usage(e.getMessage());
        } catch (HookException e) {
            throw CliException.badInput("status: " + e.getMessage());
        }
    }
}
