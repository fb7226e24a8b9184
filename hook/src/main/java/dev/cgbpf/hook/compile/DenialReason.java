package dev.cgbpf.hook.compile;

/**
 * Why a program refused something: the key (u32) of the slot it counts in the container's
 * denial counter map. The numbers are part of the pinned map's format; never renumber.
 */
public enum DenialReason {
    /** a device access the device program refused */
    DEVICE(0),
    /** a bind to an address that is not the container's, in deny mode, or a family without an address */
    BIND_ADDRESS(1),
    /** a bind to a port outside the allowed ranges */
    BIND_PORT(2),
    /** a socket(2) the socket rules refused */
    SOCKET(3);

    private final int key;

    DenialReason(int key) {
        this.key = key;
    }

    public int key() {
        return key;
    }
}
