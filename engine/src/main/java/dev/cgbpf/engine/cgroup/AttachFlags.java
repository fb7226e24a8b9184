package dev.cgbpf.engine.cgroup;

import java.util.ArrayList;
import java.util.List;

/**
 * BPF_PROG_ATTACH flags: BPF_F_ALLOW_OVERRIDE (1), BPF_F_ALLOW_MULTI (2), BPF_F_REPLACE (4). The
 * mode a cgroup keeps per attach type is the override/multi part; 0 is "none".
 *
 * <p>The kernel also accepts BPF_F_BEFORE/AFTER/ID/PREORDER (mprog ordering); this model does not
 * implement them, so they cannot be expressed here.
 */
public record AttachFlags(int bits) {
    public static final int ALLOW_OVERRIDE = 1;
    public static final int ALLOW_MULTI = 2;
    public static final int REPLACE = 4;
    private static final int KNOWN = ALLOW_OVERRIDE | ALLOW_MULTI | REPLACE;
    private static final String[] NAMES = {"allow_override", "allow_multi", "replace"};

    public static final AttachFlags NONE = new AttachFlags(0);

    public AttachFlags {
        if ((bits & ~KNOWN) != 0) {
            throw new IllegalArgumentException("unsupported attach flag bits 0x" + Integer.toHexString(bits));
        }
    }

    public boolean allowOverride() {
        return (bits & ALLOW_OVERRIDE) != 0;
    }

    public boolean allowMulti() {
        return (bits & ALLOW_MULTI) != 0;
    }

    public boolean replace() {
        return (bits & REPLACE) != 0;
    }

    /** The part a cgroup remembers as its attach mode (the kernel's saved_flags). */
    public AttachFlags mode() {
        return new AttachFlags(bits & (ALLOW_OVERRIDE | ALLOW_MULTI));
    }

    /** Scenario names in bit order, e.g. {@code ["allow_multi"]}; empty for none. */
    public List<String> names() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < NAMES.length; i++) {
            if ((bits & (1 << i)) != 0) {
                out.add(NAMES[i]);
            }
        }
        return out;
    }

    /** Parses scenario names; an unknown name is an {@link IllegalArgumentException}. */
    public static AttachFlags fromNames(List<String> names) {
        int bits = 0;
        for (String n : names) {
            int i = List.of(NAMES).indexOf(n);
            if (i < 0) {
                throw new IllegalArgumentException("unknown attach flag '" + n + "'");
            }
            bits |= 1 << i;
        }
        return new AttachFlags(bits);
    }

    @Override
    public String toString() {
        return bits == 0 ? "none" : String.join("|", names());
    }
}
