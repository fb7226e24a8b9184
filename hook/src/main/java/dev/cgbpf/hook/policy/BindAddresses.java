package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Printable;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The container's bind addresses: comma-separated IPv4 and IPv6 literals (never host names: no
 * DNS lookup happens in a hook), each a unicast address of this machine.
 *
 * @param v4 the IPv4 addresses in the order given; the first is the rewrite target
 * @param v6 the IPv6 addresses in the order given; the first is the rewrite target
 */
public record BindAddresses(List<Inet4Address> v4, List<Inet6Address> v6) {
    /** At most this many addresses per family: each costs instructions in every program. */
    public static final int MAX_PER_FAMILY = 16;
    private static final Pattern V4 = Pattern.compile("(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}");
    private static final Pattern V6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    public static final BindAddresses NONE = new BindAddresses(List.of(), List.of());

    public BindAddresses {
        v4 = List.copyOf(v4);
        v6 = List.copyOf(v6);
    }

    public boolean isEmpty() {
        return v4.isEmpty() && v6.isEmpty();
    }

    /** Every address, IPv4 first. */
    public List<InetAddress> all() {
        List<InetAddress> out = new ArrayList<>(v4);
        out.addAll(v6);
        return out;
    }

    /** One address, as the hook picks it for {@code auto}. */
    public static BindAddresses of(InetAddress a) {
        return a instanceof Inet4Address a4 ? new BindAddresses(List.of(a4), List.of())
                : new BindAddresses(List.of(), List.of((Inet6Address) a));
    }

    public static BindAddresses parse(String text, String where, LocalAddresses local) throws PolicyException {
        List<Inet4Address> v4 = new ArrayList<>();
        List<Inet6Address> v6 = new ArrayList<>();
        if (text.length() > 4096) {
            throw new PolicyException(where + ": " + text.length() + " characters, too long for a list of addresses");
        }
        for (String part : text.split(",", -1)) {
            String s = part.strip();
            if (s.isEmpty()) {
                throw new PolicyException(where + ": empty address in " + Printable.quote(text));
            }
            InetAddress a = literal(s, where);
            if (a.isAnyLocalAddress() || a.isMulticastAddress()
                    || (a instanceof Inet4Address && (s.equals("255.255.255.255") || s.equals("127.255.255.255")))) {
                throw new PolicyException(where + ": " + s + " is not a unicast address a container can own");
            }
            if (!local.isLocal(a)) {
                throw new PolicyException(where + ": " + s + " is not an address of this machine (loopback or on an interface)");
            }
            if (a instanceof Inet4Address a4) {
                if (!v4.contains(a4)) {
                    v4.add(a4);
                }
            } else if (!v6.contains((Inet6Address) a)) {
                v6.add((Inet6Address) a);
            }
            if (v4.size() > MAX_PER_FAMILY || v6.size() > MAX_PER_FAMILY) {
                throw new PolicyException(where + ": more than " + MAX_PER_FAMILY + " addresses of one family");
            }
        }
        return new BindAddresses(v4, v6);
    }

    /** An address literal without any name lookup. */
    static InetAddress literal(String s, String where) throws PolicyException {
        boolean isV4 = V4.matcher(s).matches();
        boolean isV6 = !isV4 && s.indexOf(':') >= 0 && V6.matcher(s).matches();
        if (isV4) {
            for (String octet : s.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    throw new PolicyException(where + ": " + Printable.quote(s) + " is not an IPv4 address");
                }
            }
        } else if (!isV6) {
            throw new PolicyException(where + ": " + Printable.quote(s) + " is not an IPv4 or IPv6 address literal");
        }
        try {
            // a literal of only digits, dots, hex and colons never reaches the resolver
            InetAddress a = InetAddress.getByName(s);
            if (isV6 && a instanceof Inet4Address) {
                throw new PolicyException(where + ": " + s + " is an IPv4-mapped address; give the IPv4 form "
                        + a.getHostAddress() + " (IPv6 sockets get the mapped form automatically)");
            }
            return a;
        } catch (UnknownHostException e) {
            throw new PolicyException(where + ": " + Printable.quote(s) + " is not a valid IPv6 address");
        }
    }

    @Override
    public String toString() {
        List<String> all = new ArrayList<>();
        v4.forEach(a -> all.add(a.getHostAddress()));
        v6.forEach(a -> all.add(a.getHostAddress()));
        return String.join(",", all);
    }
}
