package dev.cgbpf.hook.compile;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The word values a cgroup_sock_addr program compares addresses against and writes back. The
 * field offsets of {@code struct bpf_sock_addr} are the engine's
 * ({@link dev.cgbpf.engine.hooks.BpfSockAddrCtx}), the one source of truth. Addresses and the
 * port are in network byte order in the struct; a 4-byte load on this little-endian machine
 * yields the bytes read as a little-endian u32, which is what {@link #word} computes.
 */
final class SockAddr {
    /** sizeof(struct sockaddr_in) and sizeof(struct sockaddr_in6): bpf_bind's third argument. */
    static final int SOCKADDR_IN_SIZE = 16;
    static final int SOCKADDR_IN6_SIZE = 28;
    /** The first byte of an IPv4 address word (the low byte of the little-endian load). */
    static final int LOOPBACK_NET = 127;

    private SockAddr() {
    }

    /** The u32 a 4-byte load of network-order {@code bytes[off..off+3]} gives. */
    static int word(byte[] bytes, int off) {
        return ByteBuffer.wrap(bytes, off, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    static int word(Inet4Address a) {
        return word(a.getAddress(), 0);
    }

    /** The four words of an IPv6 address. */
    static int[] words(Inet6Address a) {
        return words(a.getAddress());
    }

    static int[] words(byte[] b16) {
        return new int[] {word(b16, 0), word(b16, 4), word(b16, 8), word(b16, 12)};
    }

    /** ::ffff:A.B.C.D, the form an IPv6 socket binds to reach the IPv4 address A.B.C.D. */
    static int[] v4Mapped(Inet4Address a) {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(a.getAddress(), 0, b, 12, 4);
        return words(b);
    }
}
