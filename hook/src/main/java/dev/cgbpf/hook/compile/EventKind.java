package dev.cgbpf.hook.compile;

import java.util.Optional;

/**
 * What a denial event is about: the u32 {@code kind} of the record. The numbers are part of the
 * ring buffer's record format; never renumber.
 */
public enum EventKind {
    /** a device access the device program refused: object type, major, minor, access */
    DEVICE(0, "device"),
    /** a bind to an address that is not the container's (or of a family it has none of) */
    BIND_ADDRESS(1, "bind-address"),
    /** a bind to a port outside the allowed ranges */
    BIND_PORT(2, "bind-port"),
    /** a connect to a destination of a family the container has no address of */
    CONNECT(3, "connect"),
    /** a UDP send from a source that is not the container's (or of a family it has none of) */
    SENDMSG(4, "sendmsg"),
    /** a socket(2) the socket rules refused: object family, type, protocol */
    SOCKET(5, "socket");

    private final int code;
    private final String word;

    EventKind(int code, String word) {
        this.code = code;
        this.word = word;
    }

    public int code() {
        return code;
    }

    /** The name in the log, the metrics' {@code kind} label and {@code cgbpf events}. */
    public String word() {
        return word;
    }

    public static Optional<EventKind> of(int code) {
        for (EventKind k : values()) {
            if (k.code == code) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }
}
