package dev.cgbpf.engine.backend;

import java.util.Locale;
import java.util.Optional;

/** Attach types this project uses, with their enum bpf_attach_type values. */
public enum AttachType {
    CGROUP_INET_INGRESS(0),
    CGROUP_INET_EGRESS(1),
    CGROUP_INET_SOCK_CREATE(2),
    CGROUP_SOCK_OPS(3),
    CGROUP_DEVICE(6),
    CGROUP_INET4_BIND(8),
    CGROUP_INET6_BIND(9),
    CGROUP_INET4_CONNECT(10),
    CGROUP_INET6_CONNECT(11),
    CGROUP_INET4_POST_BIND(12),
    CGROUP_INET6_POST_BIND(13),
    CGROUP_UDP4_SENDMSG(14),
    CGROUP_UDP6_SENDMSG(15),
    LIRC_MODE2(16);

    private final int value;

    AttachType(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    public String scenarioName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The constant with this enum bpf_attach_type value, if this project knows it. */
    public static Optional<AttachType> ofValue(int value) {
        for (AttachType t : values()) {
            if (t.value == value) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    public static AttachType fromScenarioName(String name) {
        for (AttachType t : values()) {
            if (t.scenarioName().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown attach type '" + name + "'");
    }
}
