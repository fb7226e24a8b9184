package dev.cgbpf.engine.backend;

import java.util.Locale;
import java.util.Optional;

/** Program types this project loads, with their enum bpf_prog_type values. */
public enum ProgType {
    SOCKET_FILTER(1),
    CGROUP_SKB(8),
    CGROUP_SOCK(9),
    SOCK_OPS(13),
    CGROUP_DEVICE(15),
    CGROUP_SOCK_ADDR(18),
    LIRC_MODE2(20);

    private final int value;

    ProgType(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    /** The scenario-format name: the kernel's enum name in lower case without BPF_PROG_TYPE_. */
    public String scenarioName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The constant with this enum bpf_prog_type value, if this project knows it. */
    public static Optional<ProgType> ofValue(int value) {
        for (ProgType t : values()) {
            if (t.value == value) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    public static ProgType fromScenarioName(String name) {
        for (ProgType t : values()) {
            if (t.scenarioName().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown program type '" + name + "'");
    }
}
