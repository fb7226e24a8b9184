package dev.cgbpf.hook.spec;

import java.util.Map;

/**
 * The runtime-spec rules for annotation keys (config.md "Annotations": keys must be non-empty
 * strings), plus what cgbpf needs of hostile input: no NUL bytes anywhere (they would cut C
 * strings and paths), and a bound on the total size.
 */
public final class Annotations {
    /** Largest total of keys and values: room for a 100,000-rule device annotation. */
    public static final int MAX_TOTAL_CHARS = 8 << 20;

    private Annotations() {
    }

    public static void check(Map<String, String> annotations, String what) throws SpecException {
        long total = 0;
        for (Map.Entry<String, String> e : annotations.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            if (k.isEmpty()) {
                throw new SpecException(what + ": field 'annotations': an empty key");
            }
            if (v == null) {
                throw new SpecException(what + ": field 'annotations." + k + "': null, expected a string");
            }
            if (k.indexOf('\0') >= 0 || v.indexOf('\0') >= 0) {
                throw new SpecException(what + ": field 'annotations." + Printable.quote(k).replace("'", "")
                        + "': contains a NUL byte");
            }
            total += k.length() + v.length();
        }
        if (total > MAX_TOTAL_CHARS) {
            throw new SpecException(what + ": field 'annotations': " + total + " characters in all, more than "
                    + MAX_TOTAL_CHARS);
        }
    }
}
