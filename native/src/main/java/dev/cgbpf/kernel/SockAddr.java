package dev.cgbpf.kernel;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * struct sockaddr_in / sockaddr_in6 as bytes: family in host order (little-endian on the
 * architectures this module supports), port in network order.
 *
 * <p>Java folds IPv4-mapped IPv6 addresses ({@code ::ffff:a.b.c.d}) into {@link Inet4Address}, so
 * an IPv4 address given for an AF_INET6 socket is encoded as the mapped address, which is what a
 * dual-stack socket means by it. Decoding an AF_INET6 address keeps it an {@link Inet6Address},
 * mapped or not, so that callers can tell {@code ::ffff:127.0.0.1} from {@code 127.0.0.1}.
 */
record SockAddr(InetAddress addr, int port) {
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SIZE_IN = 16;
    static final int SIZE_IN6 = 28;
    /** sizeof(struct sockaddr_storage): room for any address a call returns. */
    static final int SIZE_STORAGE = 128;

    SockAddr {
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("port " + port + " is not in 0..65535");
        }
    }

    /** The bytes for a socket of {@code family} (AF_INET or AF_INET6). */
    byte[] encode(int family) {
        if (family == AF_INET) {
            byte[] a = addr.getAddress();
            if (a.length != 4) {
                // an IPv6 address for an IPv4 socket: pass it as sockaddr_in6 and let the kernel say no
                return encode6(a);
            }
            byte[] out = new byte[SIZE_IN];
            putFamilyPort(out, AF_INET);
            System.arraycopy(a, 0, out, 4, 4);
            return out;
        }
        byte[] a = addr.getAddress();
        if (a.length == 4) {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(a, 0, mapped, 12, 4);
            a = mapped;
        }
        return encode6(a);
    }

    private byte[] encode6(byte[] a16) {
        byte[] out = new byte[SIZE_IN6];
        putFamilyPort(out, AF_INET6);
        System.arraycopy(a16, 0, out, 8, 16);
        return out;
    }

    private void putFamilyPort(byte[] out, int family) {
        out[0] = (byte) family;
        out[1] = (byte) (family >> 8);
        out[2] = (byte) (port >> 8);
        out[3] = (byte) port;
    }

    /** Decodes what getsockname/getpeername/recvfrom wrote. */
    static SockAddr decode(byte[] raw, int len) {
        int family = (raw[0] & 0xff) | (raw[1] & 0xff) << 8;
        int port = (raw[2] & 0xff) << 8 | (raw[3] & 0xff);
        try {
            if (family == AF_INET && len >= SIZE_IN) {
                byte[] a = new byte[4];
                System.arraycopy(raw, 4, a, 0, 4);
                return new SockAddr(InetAddress.getByAddress(a), port);
            }
            if (family == AF_INET6 && len >= 24) {
                byte[] a = new byte[16];
                System.arraycopy(raw, 8, a, 0, 16);
                return new SockAddr(Inet6Address.getByAddress(null, a, -1), port);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen: the lengths are right
        }
        throw new IllegalStateException("address family " + family + " (" + len + " bytes) from the kernel");
    }

    /** Raw address bytes as hex, for the worker's line protocol. */
    static String hex(InetAddress a) {
        StringBuilder b = new StringBuilder();
        for (byte x : a.getAddress()) {
            b.append(String.format("%02x", x & 0xff));
        }
        return b.toString();
    }

    /**
     * The address of {@link #hex}; 16 bytes stay an {@link Inet6Address} even when mapped, 4 bytes
     * are an {@link Inet4Address}.
     */
    static InetAddress unhex(String hex) {
        byte[] a = new byte[hex.length() / 2];
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        try {
            return a.length == 16 ? Inet6Address.getByAddress(null, a, -1) : InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("address of " + a.length + " bytes");
        }
    }
}
