package dev.cgbpf.engine.cgroup;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;

/**
 * Which program may go on which attach type: the kernel's attach_type_to_prog_type and
 * bpf_prog_attach_check_attach_type, for the attach types this project knows.
 */
final class AttachTypeCheck {
    private AttachTypeCheck() {
    }

    /**
     * attach_type_to_prog_type.
     *
     * <p>kernel: attach_type_to_prog_type
     */
    static ProgType progTypeOf(AttachType type) {
        return switch (type) {
            case CGROUP_INET_INGRESS, CGROUP_INET_EGRESS -> ProgType.CGROUP_SKB;
            case CGROUP_INET_SOCK_CREATE, CGROUP_INET4_POST_BIND, CGROUP_INET6_POST_BIND -> ProgType.CGROUP_SOCK;
            case CGROUP_INET4_BIND, CGROUP_INET6_BIND, CGROUP_INET4_CONNECT, CGROUP_INET6_CONNECT,
                 CGROUP_UDP4_SENDMSG, CGROUP_UDP6_SENDMSG -> ProgType.CGROUP_SOCK_ADDR;
            case CGROUP_SOCK_OPS -> ProgType.SOCK_OPS;
            case CGROUP_DEVICE -> ProgType.CGROUP_DEVICE;
            case LIRC_MODE2 -> ProgType.LIRC_MODE2;
        };
    }

    /** LIRC_MODE2 attaches to a remote-control device, not a cgroup: on a cgroup fd it is EINVAL. */
    static boolean isCgroupAttachType(AttachType type) {
        return type != AttachType.LIRC_MODE2;
    }

    /** The program's expected attach type after the kernel's load-time fixup. */
    static AttachType effectiveExpected(CgroupProg prog) {
        if (prog.expectedAttach() == null && prog.type() == ProgType.CGROUP_SOCK) {
            return AttachType.CGROUP_INET_SOCK_CREATE;
        }
        return prog.expectedAttach();
    }

    /**
     * bpf_prog_attach_check_attach_type, given that the program type already matches: sock and
     * sock_addr programs attach only where they were loaded for; skb programs only when the
     * verifier enforced it; device and sock_ops programs anywhere of their type.
     *
     * <p>kernel: bpf_prog_attach_check_attach_type
     */
    static boolean attachTypeAllowed(CgroupProg prog, AttachType type) {
        return switch (prog.type()) {
            case CGROUP_SOCK, CGROUP_SOCK_ADDR -> effectiveExpected(prog) == type;
            case CGROUP_SKB -> !prog.enforcesExpectedAttach() || effectiveExpected(prog) == type;
            default -> true;
        };
    }
}
