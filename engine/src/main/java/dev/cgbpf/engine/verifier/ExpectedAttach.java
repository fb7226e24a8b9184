package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.ProgType;

/**
 * bpf_prog_load_fixup_attach_type and bpf_prog_load_check_attach: which expected attach types a
 * program type accepts at load. A refusal is EINVAL with an empty log (the verifier never runs).
 * Attach type value 0 (cgroup_inet_ingress) is also "none" to the kernel.
 */
final class ExpectedAttach {
    private ExpectedAttach() {
    }

    /** Returns the effective expected attach type (null for none) or throws EINVAL. */
    static AttachType check(ProgType type, AttachType expected) throws BpfException {
        AttachType a = expected == AttachType.CGROUP_INET_INGRESS ? null : expected;
        switch (type) {
            case CGROUP_SOCK -> {
                if (a == null) {
                    return AttachType.CGROUP_INET_SOCK_CREATE; // the kernel's fixup for old loaders
                }
                if (a != AttachType.CGROUP_INET_SOCK_CREATE && a != AttachType.CGROUP_INET4_POST_BIND
                        && a != AttachType.CGROUP_INET6_POST_BIND) {
                    throw refuse(type, expected);
                }
                return a;
            }
            case CGROUP_SOCK_ADDR -> {
                if (a == null || !(a == AttachType.CGROUP_INET4_BIND || a == AttachType.CGROUP_INET6_BIND
                        || a == AttachType.CGROUP_INET4_CONNECT || a == AttachType.CGROUP_INET6_CONNECT
                        || a == AttachType.CGROUP_UDP4_SENDMSG || a == AttachType.CGROUP_UDP6_SENDMSG)) {
                    throw refuse(type, expected);
                }
                return a;
            }
            case CGROUP_SKB -> {
                if (a != null && a != AttachType.CGROUP_INET_EGRESS) {
                    throw refuse(type, expected);
                }
                return a;
            }
            case LIRC_MODE2 -> throw new BpfException(Errno.EINVAL,
                    "program type lirc_mode2 is not available in the kernel this engine follows (CONFIG_BPF_LIRC_MODE2 off)", "");
            default -> {
                return a;
            }
        }
    }

    private static BpfException refuse(ProgType type, AttachType expected) {
        return new BpfException(Errno.EINVAL, "program type " + type.scenarioName() + " cannot have expected attach type "
                + (expected == null ? "none" : expected.scenarioName()), "");
    }
}
