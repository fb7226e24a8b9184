package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Printable;

import java.util.EnumSet;
import java.util.Set;

/**
 * Kinds of sockets a container may be refused at socket(2), enforced by a
 * cgroup_inet_sock_create program. That hook runs for AF_INET and AF_INET6 sockets only (inet_create,
 * inet6_create), so other families (AF_PACKET, AF_NETLINK, AF_UNIX) cannot be named here.
 */
public enum SocketRule {
    /** SOCK_RAW sockets of either inet family. */
    RAW("raw"),
    /** every AF_INET socket. */
    INET("inet"),
    /** every AF_INET6 socket. */
    INET6("inet6"),
    /**
     * TCP sockets of either family: protocol IPPROTO_TCP (6, also socket(.., SOCK_STREAM, 0)) and
     * Multipath TCP, IPPROTO_MPTCP (262), whose subflows are TCP.
     */
    TCP("tcp"),
    /**
     * UDP sockets of either family: protocol IPPROTO_UDP (17, also socket(.., SOCK_DGRAM, 0)) and
     * UDP-Lite, IPPROTO_UDPLITE (136).
     */
    UDP("udp");

    private final String word;

    SocketRule(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }

    /**
     * An unmodifiable copy in declaration order: the socket program tests the rules in this
     * order, so the same policy gives the same program bytes (and tag) in every JVM, which a
     * {@code Set.copyOf}, ordered by a per-JVM salt, did not.
     */
    public static Set<SocketRule> sorted(Set<SocketRule> rules) {
        return rules.isEmpty() ? Set.of() : java.util.Collections.unmodifiableSet(EnumSet.copyOf(rules));
    }

    /** Comma-separated words; empty means none. */
    public static Set<SocketRule> parseList(String text, String where) throws PolicyException {
        Set<SocketRule> out = EnumSet.noneOf(SocketRule.class);
        if (text.isBlank()) {
            return out;
        }
        for (String part : text.split(",", -1)) {
            out.add(parse(part.strip(), where));
        }
        return out;
    }

    public static SocketRule parse(String w, String where) throws PolicyException {
        for (SocketRule r : values()) {
            if (r.word.equals(w)) {
                return r;
            }
        }
        throw new PolicyException(where + ": " + Printable.quote(w) + " is not a socket kind (raw, inet, inet6, tcp, udp)");
    }
}
