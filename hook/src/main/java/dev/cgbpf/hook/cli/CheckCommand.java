package dev.cgbpf.hook.cli;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.hook.compile.DenialRules;
import dev.cgbpf.hook.events.ContainerIndex;
import dev.cgbpf.hook.events.DenialEvent;
import dev.cgbpf.hook.events.LoggedEvent;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.PolicyCheck;
import dev.cgbpf.hook.policy.Policy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code cgbpf check --bundle DIR c 1:3 rw} and {@code cgbpf check --bundle DIR bind 0.0.0.0:80}:
 * what the container's programs would decide, answered by the engine, without root.
 */
final class CheckCommand implements Command {
    private static final Pattern DEV = Pattern.compile("(\\d{1,10}):(\\d{1,10})");
    private static final Pattern V4 = Pattern.compile("(\\d{1,3}(?:\\.\\d{1,3}){3}):(\\d{1,5})");
    private static final Pattern V6 = Pattern.compile("\\[([0-9A-Fa-f:.]{2,45})]:(\\d{1,5})");

    @Override
    public String name() {
        return "check";
    }

    @Override
    public String synopsis() {
        return "--bundle DIR [options] (c|b MAJOR:MINOR ACCESS | bind ADDR:PORT [tcp|udp])";
    }

    @Override
    public String summary() {
        return "would the container's programs allow a device access or where would a bind go (engine, no root)";
    }

    @Override
    public String help() {
        return """
                Loads the container's programs into the in-JVM engine and asks them, as a task
                in the container's cgroup would: no root, nothing touches the kernel.

                  c|b MAJOR:MINOR ACCESS   a device access (ACCESS a subset of rwm); prints
                                           allowed or denied, exit status 0 or 1
                  bind ADDR:PORT [tcp|udp] a bind (IPv6 as [ADDR]:PORT); prints where it ends
                                           up, or the errno the container would get (exit 1)

                A refusal that reports a denial event prints it next, as `cgbpf events` would
                show it (the container named by the bundle's directory, the task this one):

                  2026-12-07T11:52:40.1+00:00  web-1  pid 4242 (java)  bind 10.0.0.9:80  denied by ...

                Only cgbpf's programs answer: the runtime's own device rules are mirrored in
                the policy (config/README.md), the host's firewall is not asked.

                %s""".formatted(PolicyOptions.HELP);
    }

    @Override
    public int run(Args args, Console console) throws CliException {
        PolicyOptions po = new PolicyOptions();
        for (String o; (o = args.nextOption()) != null; ) {
            if (!po.accept(o, args)) {
                throw args.unknownOption(o);
            }
        }
        List<String> ops = args.operands(3);
        if (ops.size() < 2) {
            throw CliException.usage("check: give a device access (c 1:3 rw) or a bind (bind 0.0.0.0:80)");
        }
        Policy policy = po.load("check");
        if (!policy.applies()) {
            console.out().println("the host policy does not apply to this container (no dev.cgbpf.* annotation):"
                    + " cgbpf attaches nothing, everything the runtime allows is allowed");
            return 0;
        }
        if (policy.bindRequest().auto() && policy.network().bind().isEmpty()) {
            // the hook picks the first free address at start; answer for the first of the pool
            java.util.Optional<java.net.InetAddress> first = policy.bindRequest().pool()
                    .firstFree(java.util.Set.of(), dev.cgbpf.hook.policy.LocalAddresses.snapshot()::isLocal);
            if (first.isPresent()) {
                console.out().println("bind-ip auto: answering for " + first.get().getHostAddress()
                        + ", the pool's first address (the hook picks the first free one at start)");
                policy = policy.withBind(dev.cgbpf.hook.policy.BindAddresses.of(first.get()));
            }
        }
        try (PolicyCheck check = new PolicyCheck(policy)) {
            int status = switch (ops.get(0)) {
                case "c", "b" -> device(check, ops, console);
                case "bind" -> bind(check, ops, console);
                default -> throw CliException.usage("check: '" + ops.get(0) + "' is not c, b or bind"
                        + (ops.get(0).equals("a") ? " (a real access is to a char or block device)" : ""));
            };
            printEvents(check, DenialRules.of(policy), Path.of(po.bundle).toAbsolutePath().normalize(), console);
            return status;
        } catch (HookException e) {
            throw CliException.badInput("check: " + e.getMessage());
        }
    }

    /**
     * The denial events the probe's refusal wrote, each on a line as {@code cgbpf events} prints
     * it: the container is named by its bundle's directory (the id is the runtime's, unknown
     * here), the task is this process's probing thread.
     */
    private static void printEvents(PolicyCheck check, List<DenialRules.Rule> rules, Path bundle, Console console) {
        String container = bundle.getFileName() == null ? bundle.toString() : bundle.getFileName().toString();
        for (byte[] rec : check.takeEvents()) {
            DenialEvent.decode(rec).ifPresent(e -> console.out().println(LoggedEvent.of(
                    OffsetDateTime.now().toString(), container, ContainerIndex.ruleText(rules, e), e).human()));
        }
    }

    private static int device(PolicyCheck check, List<String> ops, Console console) throws CliException, HookException {
        if (ops.size() != 3) {
            throw CliException.usage("check: a device access is TYPE MAJOR:MINOR ACCESS, e.g. c 1:3 rw");
        }
        Matcher m = DEV.matcher(ops.get(1));
        if (!m.matches()) {
            throw CliException.usage("check: '" + ops.get(1) + "' is not MAJOR:MINOR");
        }
        long major = Long.parseLong(m.group(1));
        long minor = Long.parseLong(m.group(2));
        if (major > 0xffffffffL || minor > 0xffffffffL) {
            throw CliException.usage("check: device numbers are at most 4294967295");
        }
        String access = ops.get(2);
        if (!access.matches("[rwm]{1,3}") || access.chars().distinct().count() != access.length()) {
            throw CliException.usage("check: access '" + access + "' is not a combination of r, w and m");
        }
        boolean ok = check.device(ops.get(0).charAt(0), (int) major, (int) minor, access);
        console.out().println(ops.get(0) + " " + major + ":" + minor + " " + access + ": " + (ok ? "allowed" : "denied"));
        return ok ? 0 : 1;
    }

    private static int bind(PolicyCheck check, List<String> ops, Console console) throws CliException {
        Probe.Proto proto = Probe.Proto.TCP;
        if (ops.size() == 3) {
            proto = switch (ops.get(2)) {
                case "tcp" -> Probe.Proto.TCP;
                case "udp" -> Probe.Proto.UDP;
                default -> throw CliException.usage("check: '" + ops.get(2) + "' is not tcp or udp");
            };
        }
        String text = ops.get(1);
        Matcher m4 = V4.matcher(text);
        Matcher m6 = V6.matcher(text);
        Matcher m = m4.matches() ? m4 : m6.matches() ? m6 : null;
        if (m == null) {
            throw CliException.usage("check: '" + text + "' is not ADDR:PORT (IPv6: [ADDR]:PORT)");
        }
        InetAddress addr;
        try {
            addr = InetAddress.getByName(m.group(1));
        } catch (UnknownHostException e) {
            throw CliException.usage("check: '" + m.group(1) + "' is not an address");
        }
        int port = Integer.parseInt(m.group(2));
        if (port > 65535 || (m == m4 && !(addr instanceof Inet4Address))) {
            throw CliException.usage("check: '" + text + "' is not a valid address and port");
        }
        Probe.Family family = m == m4 ? Probe.Family.INET : Probe.Family.INET6;
        String what = "bind " + text + "/" + proto.scenarioName();
        try {
            Probe.Bound b = check.bind(family, proto, addr, port);
            String where = b.addr() instanceof Inet4Address ? b.addr().getHostAddress()
                    : "[" + b.addr().getHostAddress() + "]";
            console.out().println(what + ": ends up on " + where + ":" + (b.port() == 0 ? "(any)" : b.port()));
            return 0;
        } catch (BpfException e) {
            console.out().println(what + ": refused with " + e.errno() + " (" + e.getMessage() + ")");
            return 1;
        }
    }
}
