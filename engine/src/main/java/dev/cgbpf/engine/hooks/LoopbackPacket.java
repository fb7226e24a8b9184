package dev.cgbpf.engine.hooks;

/**
 * The IP packets of the engine's loopback traffic, byte for byte as a cgroup_skb program of the
 * running kernel (6.18) sees them (dumped with bpf_skb_load_bytes from egress and ingress
 * programs): the network header first, then TCP or UDP.
 *
 * <ul>
 * <li>IPv4: version 4, ihl 5, tos 0, DF, ttl 64, a valid header checksum; the id is per socket
 *     (random at connect, +1 per segment), 0 for a SYN-ACK or a RST.</li>
 * <li>IPv6: traffic class 0, an automatic flow label (the kernel hashes the flow; the engine takes
 *     a pseudo-random non-zero one), hop limit 64.</li>
 * <li>Loopback hands packets on with CHECKSUM_PARTIAL: the TCP/UDP checksum field holds the folded,
 *     not complemented, pseudo-header sum (127.0.0.1 to 127.0.0.1 over 40 TCP bytes: 0xfe30). A RST,
 *     built by the kernel's control socket, carries a full checksum.</li>
 * </ul>
 */
final class LoopbackPacket {
    static final int IPV4_HLEN = 20;
    static final int IPV6_HLEN = 40;
    static final int TCP_HLEN = 20;
    static final int UDP_HLEN = 8;
    static final int TTL = 64;

    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int ACK = 0x10;

    private LoopbackPacket() {
    }

    /** The IP header of a packet from {@code src} to {@code dst} (both v4 or both v6) around {@code l4}. */
    static byte[] ip(SockAddr src, SockAddr dst, int protocol, int ipId, int flowLabel, byte[] l4) {
        if (src.isV6() != dst.isV6()) {
            throw new IllegalArgumentException("a packet from " + src + " to " + dst + " mixes families");
        }
        byte[] p;
        if (!src.isV6()) {
            p = new byte[IPV4_HLEN + l4.length];
            p[0] = 0x45;
            putShort(p, 2, p.length);
            putShort(p, 4, ipId);
            p[6] = 0x40; // DF: path MTU discovery is on for TCP and UDP
            p[8] = (byte) TTL;
            p[9] = (byte) protocol;
            System.arraycopy(src.ip(), 0, p, 12, 4);
            System.arraycopy(dst.ip(), 0, p, 16, 4);
            putShort(p, 10, ~fold(sum(p, 0, IPV4_HLEN, 0)) & 0xffff);
            System.arraycopy(l4, 0, p, IPV4_HLEN, l4.length);
        } else {
            p = new byte[IPV6_HLEN + l4.length];
            p[0] = 0x60;
            p[1] = (byte) ((flowLabel >>> 16) & 0x0f);
            putShort(p, 2, flowLabel);
            putShort(p, 4, l4.length);
            p[6] = (byte) protocol;
            p[7] = (byte) TTL;
            System.arraycopy(src.ip(), 0, p, 8, 16);
            System.arraycopy(dst.ip(), 0, p, 24, 16);
            System.arraycopy(l4, 0, p, IPV6_HLEN, l4.length);
        }
        return p;
    }

    /** A TCP segment with its options; {@code fullChecksum} for the control socket's RST, else the partial sum. */
    static byte[] tcp(SockAddr src, SockAddr dst, int sport, int dport, int seq, int ack, int flags, int window,
                      byte[] options, boolean fullChecksum) {
        if (options.length % 4 != 0) {
            throw new IllegalArgumentException("TCP options are padded to 4 bytes, got " + options.length);
        }
        byte[] t = new byte[TCP_HLEN + options.length];
        putShort(t, 0, sport);
        putShort(t, 2, dport);
        putInt(t, 4, seq);
        putInt(t, 8, ack);
        t[12] = (byte) ((t.length / 4) << 4);
        t[13] = (byte) flags;
        putShort(t, 14, window);
        System.arraycopy(options, 0, t, TCP_HLEN, options.length);
        putShort(t, 16, checksum(src, dst, InetSock.IPPROTO_TCP, t, fullChecksum));
        return t;
    }

    /** A UDP datagram (the partial checksum of a loopback send). */
    static byte[] udp(SockAddr src, SockAddr dst, int sport, int dport, byte[] payload) {
        byte[] u = new byte[UDP_HLEN + payload.length];
        putShort(u, 0, sport);
        putShort(u, 2, dport);
        putShort(u, 4, u.length);
        System.arraycopy(payload, 0, u, UDP_HLEN, payload.length);
        putShort(u, 6, checksum(src, dst, InetSock.IPPROTO_UDP, u, false));
        return u;
    }

    /** The TCP/UDP checksum field: the pseudo-header sum alone (partial) or the complemented sum over everything. */
    private static int checksum(SockAddr src, SockAddr dst, int protocol, byte[] l4, boolean full) {
        long s = sum(src.ip(), 0, src.ip().length, 0);
        s = sum(dst.ip(), 0, dst.ip().length, s);
        s += protocol + l4.length;
        if (!full) {
            return fold(s);
        }
        int c = ~fold(sum(l4, 0, l4.length, s)) & 0xffff;
        return c == 0 && protocol == InetSock.IPPROTO_UDP ? 0xffff : c;
    }

    /** The ones' complement sum of 16-bit big-endian words, unfolded. */
    private static long sum(byte[] b, int from, int to, long acc) {
        for (int i = from; i < to; i += 2) {
            int hi = b[i] & 0xff;
            int lo = i + 1 < to ? b[i + 1] & 0xff : 0;
            acc += (hi << 8) | lo;
        }
        return acc;
    }

    private static int fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) s;
    }

    static void putShort(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static void putInt(byte[] b, int off, int v) {
        putShort(b, off, v >>> 16);
        putShort(b, off + 2, v);
    }

    /** The offset of the transport header in an IPv4 or IPv6 packet. */
    static int transportOffset(byte[] ipPacket) {
        return (ipPacket[0] & 0xf0) == 0x60 ? IPV6_HLEN : (ipPacket[0] & 0x0f) * 4;
    }
}
