package dev.cgbpf.engine.hooks;

/**
 * What the routing tables of a loopback-only host say about an address (the kernel's
 * inet_addr_type and ipv6_addr_type): the engine's host has lo with 127.0.0.1/8 and ::1/128 and
 * nothing else, so 127.0.0.0/8 and ::1 are local and every other unicast address is not. (A real
 * host with further interfaces would also call their addresses local; scenarios only use
 * loopback, so rewriting to such an address is where engine and kernel may part.)
 */
final class InetAddrType {
    private InetAddrType() {
    }

    static boolean v4Loopback(byte[] a) {
        return a[0] == 127;
    }

    static boolean v4Multicast(byte[] a) {
        return (a[0] & 0xf0) == 0xe0;
    }

    /** ipv4_is_lbcast: 255.255.255.255. */
    static boolean v4Lbcast(byte[] a) {
        return (a[0] & a[1] & a[2] & a[3]) == (byte) 0xff;
    }

    /** ipv4_is_zeronet: 0.0.0.0/8. */
    static boolean v4Zeronet(byte[] a) {
        return a[0] == 0;
    }

    static boolean v4Any(byte[] a) {
        return a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0;
    }

    /**
     * inet_addr_valid_or_nonlocal without nonlocal binding: INADDR_ANY, or an address of type
     * RTN_LOCAL (127/8), RTN_MULTICAST or RTN_BROADCAST (the zero network and 255.255.255.255,
     * which __inet_dev_addr_type calls broadcast). Observed on 6.18: binding 224.0.0.1 and
     * 255.255.255.255 works, 10.1.1.1 is EADDRNOTAVAIL.
     */
    static boolean v4BindAllowed(byte[] a) {
        return v4Any(a) || v4Loopback(a) || v4Multicast(a) || v4Lbcast(a) || v4Zeronet(a);
    }

    /**
     * RTCF_BROADCAST of the output route: the limited broadcast and lo's own broadcast address
     * (lo is 127.0.0.1/8, so its local table has a broadcast route to 127.255.255.255).
     */
    static boolean v4Broadcast(byte[] a) {
        return v4Lbcast(a) || ((a[0] == 127) && (a[1] & a[2] & a[3]) == (byte) 0xff);
    }

    /**
     * Whether an interface with this index exists on the engine's host, which has only lo (1);
     * 0 is "no device".
     */
    static boolean deviceExists(int ifindex) {
        return ifindex == 0 || ifindex == LOOPBACK_IFINDEX;
    }

    static final int LOOPBACK_IFINDEX = 1;

    /** __ip_dev_find with the local-table fallback: an address a datagram may be sent from. */
    static boolean v4Local(byte[] a) {
        return v4Loopback(a);
    }

    static boolean v6Loopback(byte[] a) {
        for (int i = 0; i < 15; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[15] == 1;
    }

    static boolean v6Multicast(byte[] a) {
        return a[0] == (byte) 0xff;
    }

    /**
     * __ipv6_addr_needs_scope_id: link-local unicast (fe80::/10) and interface- or link-local
     * multicast (ff01::/16, ff02::/16) mean nothing without an interface.
     */
    static boolean v6NeedsScopeId(byte[] a) {
        if (a[0] == (byte) 0xfe && (a[1] & 0xc0) == 0x80) {
            return true;
        }
        return v6Multicast(a) && ((a[1] & 0x0f) == 1 || (a[1] & 0x0f) == 2);
    }
}
