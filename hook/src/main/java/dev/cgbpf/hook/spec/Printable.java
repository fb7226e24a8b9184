package dev.cgbpf.hook.spec;

/** Quoting of untrusted strings for one-line messages: control characters escaped, long values cut. */
public final class Printable {
    static final int MAX_SHOWN = 80;

    private Printable() {
    }

    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("'");
        int n = Math.min(s.length(), MAX_SHOWN);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else if (c == '\'') {
                b.append("\\'");
            } else {
                b.append(c);
            }
        }
        b.append('\'');
        if (s.length() > MAX_SHOWN) {
            b.append("... (").append(s.length()).append(" chars)");
        }
        return b.toString();
    }
}
