package dev.cgbpf.kernel;

/**
 * How the host mounts cgroups. cgroup-bpf exists only on the unified (v2) hierarchy, so cgbpf
 * works in both modes that mount it, and not at all on a v1-only host.
 */
public enum CgroupMode {
    /** Only the unified hierarchy (typically at /sys/fs/cgroup). */
    PURE_V2("pure-v2"),
    /** v1 controller hierarchies plus the unified one (typically at /sys/fs/cgroup/unified). */
    HYBRID("hybrid"),
    /** No cgroup2 mount at all: no cgroup-bpf. */
    LEGACY_V1("legacy-v1");

    private final String label;

    CgroupMode(String label) {
        this.label = label;
    }

    /** The name {@code cgbpf doctor} prints. */
    public String label() {
        return label;
    }
}
