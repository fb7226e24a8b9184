package dev.cgbpf.engine.backend;

import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * BPF_F_ALLOW_OVERRIDE, BPF_F_ALLOW_MULTI and BPF_F_REPLACE of include/uapi/linux/bpf.h: the
 * attach_flags of BPF_PROG_ATTACH, the flags BPF_PROG_QUERY reports, and (REPLACE) BPF_LINK_UPDATE's
 * flag. The one set of attach flags of the project: the engine's cgroup tree, both backends and
 * the raw syscall wrappers all take and report a {@code Set<AttachFlag>}.
 *
 * <p>The kernel also accepts BPF_F_BEFORE/AFTER/ID/PREORDER (mprog ordering); cgbpf does not use
 * them and the engine does not model them, so they cannot be expressed here.
 */
public enum AttachFlag {
    ALLOW_OVERRIDE(1), ALLOW_MULTI(2), REPLACE(4);

    private static final int KNOWN = 7;

    private final int bit;

    AttachFlag(int bit) {
        this.bit = bit;
    }

    /** The flag's bit in attach_flags. */
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

    /** The attach_flags word of a set. */
    public static int bits(Collection<AttachFlag> flags) {
        int bits = 0;
        for (AttachFlag f : flags) {
            bits |= f.bit;
        }
        return bits;
    }

    /** The flags of a bit mask the kernel reported; bits this enum does not name are dropped. */
    public static Set<AttachFlag> of(int bits) {
        Set<AttachFlag> set = EnumSet.noneOf(AttachFlag.class);
        for (AttachFlag f : values()) {
            if ((bits & f.bit) != 0) {
                set.add(f);
            }
        }
        return set;
    }

    /** The flags of a bit mask; IllegalArgumentException for any bit this enum does not name. */
    public static Set<AttachFlag> exactly(int bits) {
        if ((bits & ~KNOWN) != 0) {
            throw new IllegalArgumentException("unsupported attach flag bits 0x" + Integer.toHexString(bits));
        }
        return of(bits);
    }

    /** Scenario names in bit order joined by '|', or {@code none}; for messages. */
    public static String describe(Collection<AttachFlag> flags) {
        List<String> names = new ArrayList<>();
        for (AttachFlag f : values()) {
            if (flags.contains(f)) {
                names.add(f.scenarioName());
            }
        }
        return names.isEmpty() ? "none" : String.join("|", names);
    }
}
