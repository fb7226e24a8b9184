package dev.cgbpf.hook.events;

/** A socket's family, type and protocol in words ({@code inet6 dgram udp}); numbers when unknown. */
final class SocketWords {
    private SocketWords() {
    }

    static String family(int f) {
        return switch (f) {
            case 2 -> "inet";
            case 10 -> "inet6";
            default -> "family" + f;
        };
    }

    static String type(int t) {
        return switch (t) {
            case 1 -> "stream";
            case 2 -> "dgram";
            case 3 -> "raw";
            case 5 -> "seqpacket";
            default -> "type" + t;
        };
    }

    static String protocol(int p) {
        return switch (p) {
            case 0 -> "ip";
            case 1 -> "icmp";
            case 6 -> "tcp";
            case 17 -> "udp";
            case 58 -> "icmpv6";
            case 136 -> "udplite";
            case 255 -> "raw";
            case 262 -> "mptcp";
            default -> "proto" + p;
        };
    }
}
