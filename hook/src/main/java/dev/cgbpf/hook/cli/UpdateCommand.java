package dev.cgbpf.hook.cli;

import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookLog;
import dev.cgbpf.hook.oci.HookSettings;
import dev.cgbpf.hook.oci.UpdateDevices;
import dev.cgbpf.hook.spec.ContainerId;
import dev.cgbpf.hook.spec.SpecException;

import dev.cgbpf.hook.daemon.Daemon;
import dev.cgbpf.hook.daemon.DaemonCall;
import dev.cgbpf.hook.daemon.Protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code cgbpf update ID --devices RULES}: a running container's device rules, changed in place. */
final class UpdateCommand implements Command {
    /** The daemon's deadline for a request, and then some. */
    private static final Duration ANSWER_WITHIN = Duration.ofSeconds(70);

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
                shows it. Needs root. When a cgbpf daemon answers on its socket
                ($CGBPF_SOCKET, else /run/cgbpf/cgbpf.sock) the daemon does the update;
                otherwise this process does.
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
            UpdateDevices.checkRules(rules);
            Map<String, String> env = System.getenv();
            String sock = env.get(DaemonCommand.SOCKET_ENV);
            Optional<List<String>> answer = DaemonCall.ask(sock == null || sock.isEmpty() ? Daemon.DEFAULT_SOCKET
                    : Path.of(sock), Protocol.UPDATE, env, (id + "\n" + rules).getBytes(StandardCharsets.UTF_8),
                    ANSWER_WITHIN);
            // a daemon that did not take the request (not 'accepted': an older daemon that does not
            // know it, or one too busy) ran nothing: this process does the work, as without one
            if (answer.isPresent() && answer.get().contains(Protocol.ACCEPTED)) {
                return printAnswer(answer.get(), console);
            }
            HookSettings settings = HookSettings.fromEnvironment(env);
            UpdateDevices.Outcome out = UpdateDevices.run(settings, id, rules, new HookLog(settings.logFile()));
            console.out().println(out.summary());
            for (String w : out.warnings()) {
                console.err().println("cgbpf: warning: " + w);
            }
            return 0;
        } catch (SpecException e) {
            throw CliException.usage(e.getMessage());
        } catch (HookException e) {
            throw CliException.badInput("update: " + e.getMessage());
        } catch (IOException e) {
            throw CliException.badInput("update: the cgbpf daemon: " + e.getMessage());
        }
    }

    /** The daemon's answer as this command's output: info on stdout, the rest on stderr, its exit status. */
    private static int printAnswer(List<String> lines, Console console) throws CliException {
        for (String l : lines) {
            if (l.startsWith(Protocol.INFO + " ")) {
                console.out().println(l.substring(Protocol.INFO.length() + 1));
            } else if (l.startsWith(Protocol.WARNING + " ")) {
                console.err().println(l.substring(Protocol.WARNING.length() + 1));
            } else if (l.startsWith(Protocol.ERROR + " ")) {
                String e = l.substring(Protocol.ERROR.length() + 1);
                throw CliException.badInput(e.startsWith("cgbpf: ") ? e.substring(7) : e);
            } else if (l.startsWith(Protocol.EXIT + " ")) {
                return Integer.parseInt(l.substring(Protocol.EXIT.length() + 1).strip());
            } else if (!l.equals(Protocol.ACCEPTED)) {
                throw CliException.badInput("update: the cgbpf daemon answered something this cgbpf does not"
                        + " understand (see its log)");
            }
        }
        throw CliException.badInput("update: the cgbpf daemon closed without an exit status (see its log); the"
                + " record tells what is in force: cgbpf status");
    }
}
