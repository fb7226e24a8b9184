package dev.cgbpf.hook.policy;

import java.util.List;

/**
 * The merged device policy, in the shape of the cgroup v1 devices controller that runc's rules
 * emulate: a default (allow all or deny all) and exceptions to it.
 *
 * <p>Decisions, as security/device_cgroup.c takes them: in a deny-by-default list an access is
 * allowed when one exception matches the device and covers every requested access bit
 * (match_exception); in an allow-by-default list an access is denied when one exception matches
 * the device and shares any requested bit (match_exception_partial). The second is stricter
 * than runc's own eBPF program, which asks for the full subset there as well and so lets an
 * O_RDWR open through a "deny w" exception; cgbpf keeps the kernel's v1 meaning.
 *
 * @param origins the rules each exception and the default came from (a merged list); null when unknown
 */
public record DeviceAllowlist(boolean defaultAllow, List<DeviceException> exceptions, DeviceOrigins origins) {
    public DeviceAllowlist {
        exceptions = List.copyOf(exceptions);
        if (origins != null && origins.exceptions().size() != exceptions.size()) {
            throw new IllegalArgumentException("one origin list per exception");
        }
    }

    /** A list whose rules are not known (built by hand, not merged): events name its exceptions alone. */
    public DeviceAllowlist(boolean defaultAllow, List<DeviceException> exceptions) {
        this(defaultAllow, exceptions, null);
    }

    /** Whether {@code access} (BPF_DEVCG_ACC_* bits) on the device is allowed. */
    public boolean allows(DeviceType type, long major, long minor, int access) {
        for (DeviceException e : exceptions) {
            if (!e.matches(type, major, minor)) {
                continue;
            }
            if (!defaultAllow && (access & ~e.access()) == 0) {
                return true;
            }
            if (defaultAllow && (access & e.access()) != 0) {
                return false;
            }
        }
        return defaultAllow;
    }

    /**
     * Whether every access of {@code rule}'s pattern (all its devices, all its bits) is allowed.
     * Conservative: in a deny-by-default list one exception must cover the whole pattern, so a
     * pattern that several exceptions cover together answers false.
     */
    public boolean coversAll(DeviceRule rule) {
        if (defaultAllow) {
            for (DeviceException e : exceptions) {
                if (e.overlaps(rule) && (e.access() & rule.access()) != 0) {
                    return false;
                }
            }
            return true;
        }
        for (DeviceException e : exceptions) {
            if (e.covers(rule) && (rule.access() & ~e.access()) == 0) {
                return true;
            }
        }
        return false;
    }

    public String describe() {
        StringBuilder b = new StringBuilder(defaultAllow ? "allow all devices except:\n" : "deny all devices except:\n");
        for (DeviceException e : exceptions) {
            b.append("  ").append(e.text()).append('\n');
        }
        if (exceptions.isEmpty()) {
            b.append("  (none)\n");
        }
        return b.toString();
    }
}
