package dev.cgbpf.engine.backend;

import java.net.InetAddress;
import java.util.Locale;

/**
 * The probes of the scenario format: what a task in a given cgroup experiences when it uses a device
 * or a socket. Each record is a request or an answer of one {@link Backend} probe.
 */
public final class Probe {
    private Probe() {
    }

    public enum Family {
        INET, INET6;

        public String scenarioName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum SockType {
        STREAM, DGRAM, RAW;

        public String scenarioName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Proto {
        TCP, UDP;

        public String scenarioName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * A device access: type 'c' or 'b', major, minor, and a non-empty subset of "rwm". The kernel asks
     * for 'm' with a mknod and for r/w with one open; both must pass.
     */
    public record DeviceAccess(char type, int major, int minor, String access) {
    }

    /** What socket(2) made: the fields a sock_create program may set. */
    public record SocketInfo(int boundDevIf, int mark, int priority) {
    }

    /** Where bind(2) left the socket; port 0 when the request asked for any port. */
    public record Bound(InetAddress addr, int port) {
    }

    /** Where a connect(2) really went, and the local address it used. */
    public record Connected(InetAddress peerAddr, int peerPort, InetAddress localAddr) {
    }

    /** Where an unconnected UDP datagram arrived, and its source as the receiver saw it. */
    public record Delivered(InetAddress peerAddr, int peerPort, InetAddress srcAddr) {
    }
}
