package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;

/**
 * check_return_code's allowed R0 range per program type and expected attach type. Program types
 * without a range (socket_filter) may return anything, even a pointer.
 *
 * @param enforceAttachMin 2 for cgroup_skb egress, whose values 2 and 3 tie the program to egress
 *        (prog->enforce_expected_attach_type); -1 otherwise
 */
record ReturnRange(int min, int max, int enforceAttachMin) {

    static ReturnRange of(ProgType type, AttachType attach) {
        return switch (type) {
            case SOCKET_FILTER, LIRC_MODE2 -> null;
            case CGROUP_SKB -> attach == AttachType.CGROUP_INET_EGRESS ? new ReturnRange(0, 3, 2) : new ReturnRange(0, 1, -1);
            case CGROUP_SOCK_ADDR -> attach == AttachType.CGROUP_INET4_BIND || attach == AttachType.CGROUP_INET6_BIND
                    ? new ReturnRange(0, 3, -1) : new ReturnRange(0, 1, -1);
            case CGROUP_SOCK, SOCK_OPS, CGROUP_DEVICE -> new ReturnRange(0, 1, -1);
        };
    }
}
