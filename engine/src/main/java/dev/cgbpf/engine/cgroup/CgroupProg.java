package dev.cgbpf.engine.cgroup;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;

/**
 * A loaded program as the cgroup layer sees it: an opaque handle. The engine backend's loaded
 * programs implement this. Identity is object identity, as the kernel compares {@code struct
 * bpf_prog} pointers: the backend must hand out one object per loaded program, so that "the same
 * program attached twice" is detected.
 */
public interface CgroupProg {
    /** The name the program was loaded under (scenario name). */
    String name();

    /** The program type it was loaded as. */
    ProgType type();

    /**
     * The expected attach type given at load, or null when none was given. For
     * {@code cgroup_sock} a missing one means {@code cgroup_inet_sock_create}, as the kernel's
     * load-time fixup does.
     */
    AttachType expectedAttach();

    /**
     * Whether attaching must match {@link #expectedAttach()} exactly for {@code cgroup_skb}. The
     * kernel's verifier sets this for a program loaded for egress when, at an exit, R0 is known to
     * lie in 2..3 (the congestion-notification bit), which ingress cannot honour. Observed: an
     * egress "r0 = 3" program is refused on ingress with EINVAL, an egress "r0 = 1" one attaches.
     */
    default boolean enforcesExpectedAttach() {
        return false;
    }

    /**
     * bpf_prog_inc: the cgroup layer takes a reference for each attachment it keeps (a plain
     * attachment, a link's program). Programs whose lifetime nobody tracks ignore it.
     */
    default void hold() {
    }

    /** bpf_prog_put: an attachment taken with {@link #hold()} is gone. */
    default void put() {
    }
}
