package dev.cgbpf.hook.compile;

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

    /** The words of every rule index the programs of {@code policy} can report. */
    public static List<Rule> of(Policy policy) {
        List<Rule> out = new ArrayList<>();
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
}
