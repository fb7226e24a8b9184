package dev.cgbpf.engine.backend;

import java.util.Collection;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** BPF_F_ALLOW_OVERRIDE, BPF_F_ALLOW_MULTI and BPF_F_REPLACE of BPF_PROG_ATTACH. */
public enum AttachFlag {
    ALLOW_OVERRIDE(1), ALLOW_MULTI(2), REPLACE(4);

    private final int bit;

    AttachFlag(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }

    public String scenarioName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static AttachFlag fromScenarioName(String name) {
        for (AttachFlag f : values()) {
            if (f.scenarioName().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown attach flag '" + name + "'");
    }

    public static int bits(Collection<AttachFlag> flags) {
        int bits = 0;
        for (AttachFlag f : flags) {
            bits |= f.bit;
        }
        return bits;
    }

    /** The flags of a bit mask, in the scenario format's order; unknown bits are ignored. */
    public static Set<AttachFlag> of(int bits) {
        Set<AttachFlag> set = EnumSet.noneOf(AttachFlag.class);
        for (AttachFlag f : values()) {
            if ((bits & f.bit) != 0) {
                set.add(f);
            }
        }
        return set;
    }
}
