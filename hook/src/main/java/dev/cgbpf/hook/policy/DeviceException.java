package dev.cgbpf.hook.policy;

/**
 * One exception of a device allowlist after the rules are merged: a block or char device
 * pattern ({@link DeviceRule#ANY} for a wildcard major or minor) and the accesses it covers. In
 * an allow-by-default list the exceptions deny, in a deny-by-default list they allow.
 */
public record DeviceException(DeviceType type, long major, long minor, int access) {
    public DeviceException {
        if (type == DeviceType.ALL) {
            throw new IllegalArgumentException("an exception has a concrete type (b or c)");
        }
    }

    public boolean matches(DeviceType t, long maj, long min) {
        return type == t && (major == DeviceRule.ANY || major == maj) && (minor == DeviceRule.ANY || minor == min);
    }

    /** Whether some device matches both this exception and {@code r} (type {@code a} matches every type). */
    boolean overlaps(DeviceRule r) {
        return (r.type() == DeviceType.ALL || r.type() == type)
                && (r.major() == DeviceRule.ANY || major == DeviceRule.ANY || r.major() == major)
                && (r.minor() == DeviceRule.ANY || minor == DeviceRule.ANY || r.minor() == minor);
    }

    /** Whether every device of {@code r}'s pattern matches this exception. */
    boolean covers(DeviceRule r) {
        return r.type() == type && (major == DeviceRule.ANY || (r.major() != DeviceRule.ANY && r.major() == major))
                && (minor == DeviceRule.ANY || (r.minor() != DeviceRule.ANY && r.minor() == minor));
    }

    public String text() {
        return type.letter() + " " + DeviceRule.num(major) + ":" + DeviceRule.num(minor) + " " + Access.format(access);
    }
}
