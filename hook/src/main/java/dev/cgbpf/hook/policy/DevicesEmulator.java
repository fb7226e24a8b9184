package dev.cgbpf.hook.policy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges ordered OCI device rules into a {@link DeviceAllowlist} the way runc does before it
 * generates its cgroup v2 program (runc's devices emulator, a model of the v1 devices
 * controller). Our own code, after reading runc's for the rules:
 * <ul>
 * <li>a rule of type {@code a} resets everything: allow makes the list allow-by-default, deny
 *     deny-by-default, with no exceptions, whatever its major, minor and access say;</li>
 * <li>otherwise a rule that agrees with the default removes access bits from the exception with
 *     exactly its type:major:minor (dropping it when no bit is left), and a rule that disagrees
 *     adds its bits to that exception (merging with what is there);</li>
 * <li>removing bits that a partially overlapping wildcard exception still grants (e.g. deny
 *     c 1:5 w while c *:* rwm is allowed) is an error, as in runc: the v1 controller ignores
 *     such a request silently, which would give a false sense of security.</li>
 * </ul>
 * Later rules thereby override earlier ones, and the result does not depend on the order of its
 * exceptions, so the compiled program may test them in any order.
 *
 * <p>Beside the decisions, and never read by them, the emulator keeps where each exception came
 * from ({@link DeviceOrigins}): per access bit the rule that last added it (a bit taken back
 * forgets its rule; a type {@code a} rule forgets everything and becomes the default's origin).
 * A denial event names the deciding exception by these rules.
 */
public final class DevicesEmulator {
    private record Key(DeviceType type, long major, long minor) {
        // written out: a record's generated equals/hashCode bootstrap method handles on first
        // use (~30 ms of a cold JVM hook stage, which a CDS archive does not save)
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.type == type && k.major == major && k.minor == minor;
        }

        @Override
        public int hashCode() {
            return (type.ordinal() * 31 + Long.hashCode(major)) * 31 + Long.hashCode(minor);
        }
    }

    private boolean defaultAllow;
    private final Map<Key, Integer> exceptions = new HashMap<>();
    /**
     * Provenance, beside the decision state and never read by it: per exception the rule that
     * last added each access bit (slots m, r, w), and the type {@code a} rule behind the default.
     */
    private final Map<Key, DeviceRule[]> grantedBy = new HashMap<>();
    private DeviceRule defaultRule;

    /** Starts deny-by-default, as a cgroup v2 device program with no rules does. */
    public DevicesEmulator() {
        this(false);
    }

    /** Starts with the given default: the host policy's ceiling starts from allow-all. */
    public DevicesEmulator(boolean defaultAllow) {
        this.defaultAllow = defaultAllow;
    }

    public void apply(DeviceRule rule) throws PolicyException {
        if (rule.type() == DeviceType.ALL) {
            defaultAllow = rule.allow();
            exceptions.clear();
            grantedBy.clear();
            defaultRule = rule;
            return;
        }
        Key key = new Key(rule.type(), rule.major(), rule.minor());
        if (rule.allow() != defaultAllow) {
            exceptions.merge(key, rule.access(), (a, b) -> a | b);
            DeviceRule[] by = grantedBy.computeIfAbsent(key, k -> new DeviceRule[BITS.length]);
            for (int i = 0; i < BITS.length; i++) {
                if ((rule.access() & BITS[i]) != 0) {
                    by[i] = rule;
                }
            }
            return;
        }
        for (Key partial : List.of(new Key(rule.type(), DeviceRule.ANY, rule.minor()),
                new Key(rule.type(), rule.major(), DeviceRule.ANY),
                new Key(rule.type(), DeviceRule.ANY, DeviceRule.ANY))) {
            if (partial.equals(key)) {
                continue;
            }
            Integer held = exceptions.get(partial);
            if (held != null && (held & rule.access()) != 0) {
                throw new PolicyException("device rule '" + rule.text() + "'" + origin(rule)
                        + " cannot punch a hole in the wildcard rule '" + (defaultAllow ? "deny " : "allow ")
                        + new DeviceException(partial.type(), partial.major(), partial.minor(), held).text()
                        + "' (runc refuses this too); state it the other way round");
            }
        }
        Integer held = exceptions.get(key);
        if (held != null) {
            int left = held & ~rule.access();
            if (left == 0) {
                exceptions.remove(key);
                grantedBy.remove(key);
            } else {
                exceptions.put(key, left);
                DeviceRule[] by = grantedBy.get(key);
                for (int i = 0; i < BITS.length; i++) {
                    if ((left & BITS[i]) == 0) {
                        by[i] = null;
                    }
                }
            }
        }
    }

    /** The access bits in the order of {@link #grantedBy}'s slots. */
    private static final int[] BITS = {Access.MKNOD, Access.READ, Access.WRITE};

    private static String origin(DeviceRule r) {
        return r.origin() == null || r.origin().isEmpty() ? "" : " (" + r.origin() + ")";
    }

    public int size() {
        return exceptions.size();
    }

    /** The list so far, exceptions sorted by major, minor, type (runc's order; wildcards first). */
    public DeviceAllowlist result() {
        List<Map.Entry<DeviceException, Key>> sorted = new ArrayList<>(exceptions.size());
        exceptions.forEach((k, v) -> sorted.add(Map.entry(new DeviceException(k.type(), k.major(), k.minor(), v), k)));
        sorted.sort(Comparator.comparing((Map.Entry<DeviceException, Key> e) -> e.getKey(),
                Comparator.comparingLong(DeviceException::major).thenComparingLong(DeviceException::minor)
                        .thenComparing(DeviceException::type)));
        List<DeviceException> out = new ArrayList<>(sorted.size());
        List<List<DeviceRule>> from = new ArrayList<>(sorted.size());
        for (Map.Entry<DeviceException, Key> e : sorted) {
            out.add(e.getKey());
            List<DeviceRule> rules = new ArrayList<>(BITS.length);
            for (DeviceRule r : grantedBy.get(e.getValue())) {
                if (r != null && !rules.contains(r)) {
                    rules.add(r);
                }
            }
            from.add(rules);
        }
        return new DeviceAllowlist(defaultAllow, out, new DeviceOrigins(from, defaultRule));
    }

    /** Applies {@code rules} in order to a fresh emulator. */
    public static DeviceAllowlist merge(List<DeviceRule> rules) throws PolicyException {
        DevicesEmulator e = new DevicesEmulator();
        for (DeviceRule r : rules) {
            e.apply(r);
        }
        return e.result();
    }
}
