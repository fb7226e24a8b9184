package dev.cgbpf.hook.policy;

/**
 * One device cgroup rule in the OCI sense: allow or deny {@code access} to devices of {@code type}
 * with {@code major}:{@code minor}, where {@link #ANY} is the wildcard {@code *}.
 *
 * @param origin where the rule came from, for messages and {@code policy explain}
 *               (e.g. {@code config.json linux.resources.devices[2]})
 */
public record DeviceRule(boolean allow, DeviceType type, long major, long minor, int access, String origin) {
    /** The wildcard major or minor (runc's -1). */
    public static final long ANY = -1;

    public DeviceRule {
        if (type == null) {
            throw new IllegalArgumentException("device rule without a type");
        }
        checkNumber(major, "major");
        checkNumber(minor, "minor");
        if (access <= 0 || (access & ~Access.ALL) != 0) {
            throw new IllegalArgumentException("device rule access " + access + " is not a non-empty subset of rwm");
        }
    }

    private static void checkNumber(long n, String what) {
        if (n != ANY && (n < 0 || n > 0xffffffffL)) {
            throw new IllegalArgumentException("device rule " + what + " " + n + " is out of range");
        }
    }

    public static DeviceRule of(boolean allow, DeviceType type, long major, long minor, String access) {
        int bits = Access.parse(access);
        if (bits < 0) {
            throw new IllegalArgumentException("bad access '" + access + "'");
        }
        return new DeviceRule(allow, type, major, minor, bits, "");
    }

    /** The rule in annotation syntax: {@code allow c 1:5 rw}. */
    public String text() {
        return (allow ? "allow " : "deny ") + type.letter() + " " + num(major) + ":" + num(minor) + " " + Access.format(access);
    }

    static String num(long n) {
        return n == ANY ? "*" : Long.toString(n);
    }

    @Override
    public String toString() {
        return text() + (origin == null || origin.isEmpty() ? "" : "  (" + origin + ")");
    }
}
