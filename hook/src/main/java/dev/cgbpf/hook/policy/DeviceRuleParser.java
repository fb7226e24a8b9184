package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Printable;

import java.util.ArrayList;
import java.util.List;

/**
 * The device rule syntax of the {@code dev.cgbpf.devices} annotation: {@code ;}-separated rules,
 * each {@code allow|deny TYPE MAJOR:MINOR ACCESS} (TYPE a, b or c; MAJOR and MINOR a number or
 * {@code *}; ACCESS a non-empty combination of r, w, m) or {@code allow|deny PATH ACCESS} with
 * PATH a host device path or glob below /dev, which stands for one rule per device node it names.
 * Whitespace around and between the words is free; empty entries (a trailing {@code ;}) are
 * skipped.
 */
public final class DeviceRuleParser {
    private final HostDevices hostDevices;

    public DeviceRuleParser(HostDevices hostDevices) {
        this.hostDevices = hostDevices;
    }

    /**
     * Parses every rule of {@code text}; {@code source} names it in errors and origins.
     *
     * @param limit the most rules accepted (after path expansion)
     */
    public List<DeviceRule> parse(String text, String source, int limit) throws PolicyException {
        List<DeviceRule> out = new ArrayList<>();
        int index = 0;
        int start = 0;
        while (start <= text.length()) {
            int end = text.indexOf(';', start);
            if (end < 0) {
                end = text.length();
            }
            String entry = text.substring(start, end).strip();
            start = end + 1;
            if (entry.isEmpty()) {
                continue;
            }
            parseOne(entry, source + " rule " + (++index), out);
            if (out.size() > limit) {
                throw new PolicyException("too many device rules: " + source + " has more than " + limit);
            }
        }
        return out;
    }

    private void parseOne(String entry, String where, List<DeviceRule> out) throws PolicyException {
        String[] w = entry.split("\\s+");
        if (w.length != 3 && w.length != 4) {
            throw new PolicyException(where + ": " + Printable.quote(entry)
                    + " is not 'allow|deny TYPE MAJOR:MINOR ACCESS' or 'allow|deny PATH ACCESS'");
        }
        boolean allow = verb(w[0], where);
        int access = Access.parse(w[w.length - 1]);
        if (access < 0) {
            throw new PolicyException(where + ": access " + Printable.quote(w[w.length - 1])
                    + " is not a non-empty combination of r, w and m");
        }
        if (w.length == 3) {
            pathRules(allow, w[1], access, where, out);
            return;
        }
        DeviceType type = DeviceType.of(w[1]);
        if (type == null) {
            throw new PolicyException(where + ": device type " + Printable.quote(w[1]) + " is not a, b or c");
        }
        int colon = w[2].indexOf(':');
        if (colon < 0) {
            throw new PolicyException(where + ": " + Printable.quote(w[2]) + " is not MAJOR:MINOR");
        }
        long major = number(w[2].substring(0, colon), "major", where);
        long minor = number(w[2].substring(colon + 1), "minor", where);
        out.add(new DeviceRule(allow, type, major, minor, access, where));
    }

    /** Expands a path rule into one rule per device node; shared with the host policy file. */
    void pathRules(boolean allow, String path, int access, String where, List<DeviceRule> out) throws PolicyException {
        if (!path.startsWith("/")) {
            throw new PolicyException(where + ": " + Printable.quote(path) + " is neither a device type nor an absolute path");
        }
        try {
            for (DeviceNode n : hostDevices.resolve(path)) {
                out.add(new DeviceRule(allow, n.type(), n.major(), n.minor(), access, where + " " + n.path()));
            }
        } catch (PolicyException e) {
            throw new PolicyException(where + ": " + e.getMessage());
        }
    }

    static boolean verb(String w, String where) throws PolicyException {
        return switch (w) {
            case "allow" -> true;
            case "deny" -> false;
            default -> throw new PolicyException(where + ": " + Printable.quote(w) + " is not allow or deny");
        };
    }

    /** A device number 0..2^32-1 or {@code *}. */
    static long number(String s, String what, String where) throws PolicyException {
        if (s.equals("*")) {
            return DeviceRule.ANY;
        }
        if (s.isEmpty() || s.length() > 10 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new PolicyException(where + ": " + what + " " + Printable.quote(s) + " is not a number or *");
        }
        long n = Long.parseLong(s);
        if (n > 0xffffffffL) {
            throw new PolicyException(where + ": " + what + " " + s + " is beyond 4294967295");
        }
        return n;
    }
}
