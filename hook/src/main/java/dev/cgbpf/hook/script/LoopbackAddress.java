package dev.cgbpf.hook.script;

import dev.cgbpf.engine.backend.Probe;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A literal address a scenario may use: loopback (127.0.0.0/8, ::1, and the IPv4-mapped
 * ::ffff:127.x.y.z of a dual-stack socket) and, where the op allows it (bind), the wildcards
 * 0.0.0.0 and ::. Host names are refused rather than resolved. The family is the written form's:
 * dotted is inet, any colon form (also the v4-mapped one) is inet6.
 *
 * @param bytes 4 bytes for inet, 16 for inet6
 */
public record LoopbackAddress(byte[] bytes) {

    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

    public LoopbackAddress {
        bytes = bytes.clone();
        if (bytes.length != 4 && bytes.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes");
        }
    }

    /** A loopback address (no wildcard). */
    public static LoopbackAddress parse(String text) throws MalformedLineException {
        LoopbackAddress a = parseAny(text);
        if (!a.isLoopback()) {
            throw new MalformedLineException("address " + text + " is not a loopback address"
                    + " (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)");
        }
        return a;
    }

    /** A loopback address or a wildcard (0.0.0.0, ::), as bind(2) takes. */
    public static LoopbackAddress parseBindable(String text) throws MalformedLineException {
        LoopbackAddress a = parseAny(text);
        if (!a.isLoopback() && !a.isWildcard()) {
            throw new MalformedLineException("address " + text + " is neither a loopback address"
                    + " (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) nor a wildcard (0.0.0.0, ::)");
        }
        return a;
    }

    private static LoopbackAddress parseAny(String text) throws MalformedLineException {
        byte[] b = literal(text);
        if (b == null) {
            throw new MalformedLineException("'" + text + "' is not an IPv4 or IPv6 address literal");
        }
        return new LoopbackAddress(b);
    }

    private static byte[] literal(String text) {
        Matcher m = IPV4.matcher(text);
        if (m.matches()) {
            byte[] b = new byte[4];
            for (int i = 0; i < 4; i++) {
                int v = Integer.parseInt(m.group(i + 1));
                if (v > 255) {
                    return null;
                }
                b[i] = (byte) v;
            }
            return b;
        }
        // only colon forms go to getByName, which parses literals without a DNS query
        if (text.indexOf(':') < 0 || !text.matches("[0-9A-Fa-f:.]+")) {
            return null;
        }
        try {
            InetAddress a = InetAddress.getByName(text);
            // Java turns an IPv4-mapped literal into an Inet4Address; the text said IPv6
            return a instanceof Inet4Address ? v4Mapped(a.getAddress()) : a.getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** The v4-mapped form (::ffff:a.b.c.d) of 4 bytes; 16 bytes stay as they are. */
    static byte[] v4Mapped(byte[] v4) {
        if (v4.length == 16) {
            return v4.clone();
        }
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(v4, 0, b, 12, 4);
        return b;
    }

    public Probe.Family family() {
        return bytes.length == 4 ? Probe.Family.INET : Probe.Family.INET6;
    }

    /** ::ffff:a.b.c.d */
    public boolean isV4Mapped() {
        if (bytes.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return (bytes[10] & 0xff) == 0xff && (bytes[11] & 0xff) == 0xff;
    }

    public boolean isLoopback() {
        if (bytes.length == 4) {
            return (bytes[0] & 0xff) == 127;
        }
        if (isV4Mapped()) {
            return (bytes[12] & 0xff) == 127;
        }
        for (int i = 0; i < 15; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[15] == 1;
    }

    public boolean isWildcard() {
        for (byte x : bytes) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * The address for a backend: an {@link Inet4Address} for inet, an {@link Inet6Address} for inet6
     * (also when v4-mapped, which {@link InetAddress#getByAddress(byte[])} would turn into IPv4).
     */
    public InetAddress inetAddress() {
        try {
            return bytes.length == 4 ? InetAddress.getByAddress(bytes) : Inet6Address.getByAddress(null, bytes, -1);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LoopbackAddress a && java.util.Arrays.equals(bytes, a.bytes);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return InetNtop.format(bytes);
    }
}
