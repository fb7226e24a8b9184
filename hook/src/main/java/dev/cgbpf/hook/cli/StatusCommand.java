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
        return "[--json] [ID]";
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
                ID may be the start of an id that no other container's id starts with (podman
                and Docker print the first 12 characters). Two containers may share an id (two
                runtimes): each is shown. The origin line says which engine started it, as its
                bundle path tells (Docker, Kubernetes, containerd and its namespace, podman or
                CRI-O). Without ID, every container the hook has a record of. Needs root for
                the kernel queries.

                  --json   the same as a JSON object
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        boolean json = OutputFormat.fromOptions(args) == OutputFormat.JSON;
        List<String> ops = args.operands(1);
        try {
            String id = ops.isEmpty() ? null : ContainerId.validate(ops.get(0), "status");
            HookSettings settings = HookSettings.fromEnvironment(System.getenv());
            List<ContainerStatus> found = id == null ? ContainerStatus.find(settings, null)
                    : ContainerStatus.findByIdOrPrefix(settings, id);
            if (found.isEmpty() && id != null) {
                throw new HookException("no cgbpf record for a container whose id is or starts with " + id + " in "
                        + settings.runDir()
                        + " (not started with the hook, no policy applied, or already stopped)");
            }
            if (json) {
                console.out().print(id != null && found.size() == 1 ? found.get(0).json()
                        : "[" + String.join(",", found.stream().map(ContainerStatus::json).toList()) + "]\n");
            } else {
                for (ContainerStatus s : found) {
                    console.out().print(s.text());
                }
            }
            return 0;
        } catch (SpecException e) {
            throw CliException.usage(e.getMessage());
        } catch (HookException e) {
            throw CliException.badInput("status: " + e.getMessage());
        }
    }
}
