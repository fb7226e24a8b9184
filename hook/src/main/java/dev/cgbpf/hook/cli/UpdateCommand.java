package dev.cgbpf.hook.cli;

import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookLog;
import dev.cgbpf.hook.oci.HookSettings;
import dev.cgbpf.hook.oci.UpdateDevices;
import dev.cgbpf.hook.spec.ContainerId;
import dev.cgbpf.hook.spec.SpecException;

import java.util.List;

/** {@code cgbpf update ID --devices RULES}: a running container's device rules, changed in place. */
final class UpdateCommand implements Command {
    @Override
    public String name() {
        return "update";
    }

    @Override
    public String synopsis() {
        return "ID --devices RULES";
    }

    @Override
    public String summary() {
        return "change a running container's device rules, atomically";
    }

    @Override
    public String help() {
        return """
                Changes the device rules of running container ID without restarting it.
                RULES has the syntax of the dev.cgbpf.devices annotation ('allow c 10:200 rwm;
                deny /dev/fuse rwm') and comes after the container's own rules (config.json,
                the runtime's defaults, the annotation), later rules overriding earlier ones;
                an update replaces the previous update's RULES. The host policy's device
                ceiling still holds. The kernel swaps the container's device program for the
                new one in one step: every device check sees the old rules or the new ones.
                The record (/run/cgbpf, or CGBPF_RUN_DIR) says what is in force; cgbpf status
                shows it. Needs root. Runs in this process, not through the daemon.
                """;
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        String rules = null;
        for (String o; (o = args.nextOption()) != null; ) {
            if (o.equals("--devices")) {
                rules = args.value(o);
            } else {
                throw args.unknownOption(o);
            }
        }
        List<String> ops = args.operands(1);
        if (ops.isEmpty()) {
            throw CliException.usage("update: which container? cgbpf update ID --devices RULES");
        }
        if (rules == null) {
            throw CliException.usage("update: nothing to change; give --devices RULES");
        }
        try {
            String id = ContainerId.validate(ops.get(0), "update");
            HookSettings settings = HookSettings.fromEnvironment(System.getenv());
            UpdateDevices.Outcome out = UpdateDevices.run(settings, id, rules, new HookLog(settings.logFile()));
            console.out().printf("container %s: devices updated (program %d -> %d, %d insns%s)%n", id, out.oldProgId(),
                    out.program().progId(), out.program().insns(),
                    out.program().mapEntries() == null ? "" : ", " + out.program().mapEntries() + " map entries");
            for (String w : out.warnings()) {
                console.err().println("cgbpf: warning: " + w);
            }
            return 0;
        } catch (SpecException e) {
            throw CliException.usage(e.getMessage());
        } catch (HookException e) {
            throw CliException.badInput("update: " + e.getMessage());
        }
    }
}
