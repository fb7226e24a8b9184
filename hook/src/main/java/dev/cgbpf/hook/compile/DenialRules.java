package dev.cgbpf.hook.compile;

import dev.cgbpf.hook.policy.DeviceAllowlist;
import dev.cgbpf.hook.policy.DeviceOrigins;
import dev.cgbpf.hook.policy.DeviceRule;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.hook.policy.Policy;
import dev.cgbpf.hook.policy.SocketRule;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The rule index an event carries, per kind, and the policy words it stands for. The programs
 * store the index; the hook writes the words of each index its policy can produce into the
 * container's record ({@link #of}), where the daemon and {@code cgbpf events} find them, so that
 * an event names the rule without the policy at hand.
 */
public final class DenialRules {
    /** bind, connect, sendmsg: the address is not one of the container's (bind-mode deny). */
    public static final int NOT_OWN_ADDRESS = 0;
    /** bind, connect, sendmsg: the container has no address of the socket's (or destination's) family. */
    public static final int NO_ADDRESS_OF_FAMILY = 1;
    /** bind port: outside every allowed range. */
    public static final int PORT_RANGES = 0;
    /**
     * device: the list's default decided (deny-by-default, and no exception allowed the whole
     * access). Below it, a device rule index is the position of the deciding exception in the
     * merged list, which holds at most {@link Policy#MAX_DEVICE_PATTERNS} (2^24) exceptions.
     */
    public static final int DEVICE_DEFAULT = 1 << 24;
    /** device: set in the indices of the host policy's ceiling ({@code cgbpf_dev_host}), clear in the container's list's. */
    public static final int DEVICE_HOST = 1 << 30;
    /**
     * Most device exceptions named in a record per list: a host ceiling of 40,000 deny rules would
     * otherwise put 40,000 entries into every container's state.json, which the daemon re-reads.
     * An event of a higher index shows its number only (docs/events.md).
     */
    public static final int MAX_NAMED_DEVICE_RULES = 1000;

    /**
     * One rule: {@code kind} and {@code rule} as in the event, {@code text} what the policy says.
     */
    public record Rule(String kind, int rule, String text) {
    }

    private DenialRules() {
    }

    /** socket: the index of the denied kind that matched (its position in {@link SocketRule}). */
    public static int socketRule(SocketRule r) {
        return r.ordinal();
    }

    /** device: the index program {@code name} reports for {@code rule} (an exception's position or {@link #DEVICE_DEFAULT}). */
    public static int deviceRule(String name, int rule) {
        return DeviceCompiler.HOST_NAME.equals(name) ? rule | DEVICE_HOST : rule;
    }

    /** The words of every rule index the programs of {@code policy} can report. */
    public static List<Rule> of(Policy policy) {
        List<Rule> out = new ArrayList<>();
        devices(policy, out);
        NetworkPolicy n = policy.network();
        for (SocketRule r : n.denySockets()) {
            out.add(new Rule(EventKind.SOCKET.word(), socketRule(r), Policy.DENY_SOCKETS + " " + r.word()));
        }
        if (!n.bindPorts().isEmpty()) {
            out.add(new Rule(EventKind.BIND_PORT.word(), PORT_RANGES, Policy.BIND_PORTS + " "
                    + n.bindPorts().stream().map(Object::toString).collect(Collectors.joining(","))));
        }
        if (!n.bind().isEmpty()) {
            String own = n.bind().all().stream().map(a -> a.getHostAddress()).collect(Collectors.joining(","));
            for (EventKind k : List.of(EventKind.BIND_ADDRESS, EventKind.CONNECT, EventKind.SENDMSG)) {
                if (k != EventKind.CONNECT) {
                    out.add(new Rule(k.word(), NOT_OWN_ADDRESS, Policy.BIND_IP + " " + own + " with "
                            + Policy.BIND_MODE + " deny: not the container's address"));
                }
                out.add(new Rule(k.word(), NO_ADDRESS_OF_FAMILY, Policy.BIND_IP + " " + own
                        + ": no address of this family"));
            }
        }
        return out;
    }

    /**
     * {@code rules} (a record's list) with its device rules replaced by those of {@code policy}:
     * what {@code cgbpf update --devices} changes; the other kinds stay as the attach wrote them.
     */
    public static List<Rule> withDevices(List<Rule> rules, Policy policy) {
        List<Rule> out = new ArrayList<>();
        devices(policy, out);
        for (Rule r : rules) {
            if (!r.kind().equals(EventKind.DEVICE.word())) {
                out.add(r);
            }
        }
        return out;
    }

    private static void devices(Policy policy, List<Rule> out) {
        if (policy.hostDevices() != null) {
            devices(DeviceCompiler.HOST_NAME, policy.hostDevices(), out);
        }
        if (policy.devices() != null) {
            devices(DeviceCompiler.NAME, policy.devices(), out);
        }
    }

    /**
     * The indices a device list can deny with: each exception of an allow-by-default list (they
     * deny), the default of a deny-by-default one (its exceptions only allow).
     */
    private static void devices(String program, DeviceAllowlist list, List<Rule> out) {
        String kind = EventKind.DEVICE.word();
        DeviceOrigins o = list.origins();
        if (!list.defaultAllow()) {
            DeviceRule d = o == null ? null : o.defaultRule();
            String whose = program.equals(DeviceCompiler.HOST_NAME) ? "the host policy's" : "the container's";
            out.add(new Rule(kind, deviceRule(program, DEVICE_DEFAULT), (d == null ? whose + " device list"
                    : words(d)) + ": no " + (d == null ? "" : "later ") + "rule allows this access"));
            return;
        }
        int n = Math.min(list.exceptions().size(), MAX_NAMED_DEVICE_RULES);
        for (int i = 0; i < n; i++) {
            List<DeviceRule> from = o == null ? List.of() : o.exceptions().get(i);
            String text = from.isEmpty() ? "deny " + list.exceptions().get(i).text()
                    : from.stream().map(DenialRules::words).collect(Collectors.joining("; "));
            out.add(new Rule(kind, deviceRule(program, i), text));
        }
    }

    /** A device rule as the event names it: where it is written, then what it says. */
    private static String words(DeviceRule r) {
        return r.origin() == null || r.origin().isEmpty() ? r.text() : r.origin() + " (" + r.text() + ")";
    }
}
