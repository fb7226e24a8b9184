package dev.cgbpf.engine.backend;

import java.util.Locale;
import java.util.Optional;

/** Map types of the scenario format, with their enum bpf_map_type values. */
public enum MapType {
    HASH(1),
    ARRAY(2),
    PROG_ARRAY(3),
    PERF_EVENT_ARRAY(4),
    PERCPU_HASH(5),
    PERCPU_ARRAY(6),
    CGROUP_ARRAY(8),
    LRU_HASH(9),
    LRU_PERCPU_HASH(10),
    LPM_TRIE(11),
    SOCKMAP(15),
    SOCKHASH(18),
    CGROUP_STORAGE(19),
    PERCPU_CGROUP_STORAGE(21),
    QUEUE(22),
    STACK(23),
    RINGBUF(27);

    private final int value;

    MapType(int value) {
        this.value = value;
    }

    public int value() {
        return value;
    }

    /**
     * Whether the map keeps one value per possible CPU, so that the syscall's lookup and update
     * carry round_up(value_size, 8) bytes for each of them.
     */
    public boolean percpu() {
        return this == PERCPU_HASH || this == PERCPU_ARRAY || this == PERCPU_CGROUP_STORAGE || this == LRU_PERCPU_HASH;
    }

    /** A sockmap or sockhash: its values are sockets, which a program's lookup gets as referenced pointers. */
    public boolean holdsSockets() {
        return this == SOCKMAP || this == SOCKHASH;
    }

    public String scenarioName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The constant with this enum bpf_map_type value, if this project knows it. */
    public static Optional<MapType> ofValue(int value) {
        for (MapType t : values()) {
            if (t.value == value) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    public static MapType fromScenarioName(String name) {
        for (MapType t : values()) {
            if (t.scenarioName().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown map type '" + name + "'");
    }
}
