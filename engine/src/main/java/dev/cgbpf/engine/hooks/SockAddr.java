package dev.cgbpf.engine.hooks;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * An IPv4 or IPv6 address as the socket layer keeps it: 4 or 16 bytes in network order. Unlike
 * {@link InetAddress}, a v4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) stays an IPv6 address,
 * which is what an AF_INET6 socket holds.
 */
record SockAddr(byte[] ip) {
    static final byte[] V4_ANY = new byte[4];
    static final byte[] V4_LOOPBACK = {127, 0, 0, 1};
    static final byte[] V6_ANY = new byte[16];
    static final byte[] V6_LOOPBACK = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    SockAddr {
        if (ip.length != 4 && ip.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + ip.length);
        }
        ip = ip.clone();
    }

    /** The address an AF_INET (v6 false) or AF_INET6 (v6 true) socket is given: v4 in a v6 socket becomes v4-mapped. */
    static SockAddr of(InetAddress a, boolean v6) {
        byte[] b = a.getAddress();
        if (!v6) {
            if (!(a instanceof Inet4Address)) {
                throw new IllegalArgumentException("an inet socket takes an IPv4 address, not " + a.getHostAddress());
            }
            return new SockAddr(b);
        }
        return new SockAddr(b.length == 16 ? b : mapped(b));
    }

    static byte[] mapped(byte[] v4) {
        byte[] out = new byte[16];
        out[10] = (byte) 0xff;
        out[11] = (byte) 0xff;
        System.arraycopy(v4, 0, out, 12, 4);
        return out;
    }

    boolean isV6() {
        return ip.length == 16;
    }

    /** ipv6_addr_v4mapped. */
    boolean isV4Mapped() {
        if (ip.length != 16) {
            return false;
        }
        for (int i = 0; i < 10; i++) {
            if (ip[i] != 0) {
                return false;
            }
        }
        return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
    }

    /** The IPv4 address of a v4 address or a v4-mapped one; null for other IPv6 addresses. */
    byte[] v4() {
        if (ip.length == 4) {
            return ip.clone();
        }
        return isV4Mapped() ? Arrays.copyOfRange(ip, 12, 16) : null;
    }

    boolean isAny() {
        for (byte b : ip) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** For answers: Java turns a v4-mapped IPv6 address into an Inet4Address, as the scenario format prints it. */
    InetAddress toInet() {
        try {
            return InetAddress.getByAddress(ip);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen for 4 or 16 bytes
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SockAddr s && Arrays.equals(ip, s.ip);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ip);
    }

    @Override
    public String toString() {
        return toInet().getHostAddress();
    }
}
