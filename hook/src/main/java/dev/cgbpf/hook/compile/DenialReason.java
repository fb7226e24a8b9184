package dev.cgbpf.hook.compile;

/**
 * Why a program refused something: the key (u32) of the slot it counts in the container's
 * denial counter map. The numbers are part of the pinned map's format; never renumber.
 */
public enum DenialReason {
    /** a device access the device program refused */
    DEVICE(0),
    /**
     * a bind, or a sendmsg source (msg_src_ip4/6, IP_PKTINFO), of an address that is not the
     * container's, in deny mode; or a bind, connect or send of a family without an address
     */
    BIND_ADDRESS(1),
    /** a bind to a port outside the allowed ranges */
    BIND_PORT(2),
    /** a socket(2) the socket rules refused */
    SOCKET(3),
    /** a packet the address guards dropped: received on, or sent from, an address that is not the container's */
    ADDRESS_TRAFFIC(4);

    private final int key;

    DenialReason(int key) {
        this.key = key;
    }

    public int key() {
        return key;
    }
}
