package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Printable;

import java.util.ArrayList;
import java.util.List;

/** An inclusive range of TCP/UDP ports, 1..65535. */
public record PortRange(int first, int last) {
    /** More ranges than this are refused: each one costs two instructions in every bind program. */
    public static final int MAX_RANGES = 256;

    public PortRange {
        if (first < 1 || last > 65535 || first > last) {
            throw new IllegalArgumentException("port range " + first + "-" + last);
        }
    }

    public boolean contains(int port) {
        return port >= first && port <= last;
    }

    /**
     * The ports both lists allow, where an empty list allows any port: the other list when one
     * is empty, else the overlaps, sorted and joined. Empty also when two non-empty lists are disjoint.
     */
    public static List<PortRange> intersect(List<PortRange> a, List<PortRange> b) {
        if (a.isEmpty()) {
            return b;
        }
        if (b.isEmpty()) {
            return a;
        }
        List<PortRange> out = new ArrayList<>();
        for (PortRange x : merged(a)) {
            for (PortRange y : merged(b)) {
                int lo = Math.max(x.first, y.first);
                int hi = Math.min(x.last, y.last);
                if (lo <= hi) {
                    out.add(new PortRange(lo, hi));
                }
            }
        }
        return merged(out);
    }

    /** Whether every port {@code inner} allows, {@code outer} allows too (an empty list is any port). */
    public static boolean within(List<PortRange> inner, List<PortRange> outer) {
        if (outer.isEmpty()) {
            return true;
        }
        return !inner.isEmpty() && merged(intersect(inner, outer)).equals(merged(inner));
    }

    /** The ranges sorted, overlapping and adjacent ones joined. */
    static List<PortRange> merged(List<PortRange> in) {
        List<PortRange> sorted = new ArrayList<>(in);
        sorted.sort((x, y) -> Integer.compare(x.first, y.first));
        List<PortRange> out = new ArrayList<>();
        for (PortRange r : sorted) {
            PortRange last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && r.first <= last.last + 1) {
                out.set(out.size() - 1, new PortRange(last.first, Math.max(last.last, r.last)));
            } else {
                out.add(r);
            }
        }
        return out;
    }

    /** Comma-separated {@code PORT} or {@code FIRST-LAST}; an empty string is no range. */
    public static List<PortRange> parseList(String text, String where) throws PolicyException {
        List<PortRange> out = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            String p = part.strip();
            if (p.isEmpty()) {
                if (text.isBlank()) {
                    break;
                }
                throw new PolicyException(where + ": empty port range in " + Printable.quote(text));
            }
            int dash = p.indexOf('-');
            int a = port(dash < 0 ? p : p.substring(0, dash), where);
            int b = dash < 0 ? a : port(p.substring(dash + 1), where);
            if (a > b) {
                throw new PolicyException(where + ": port range " + p + " runs backwards");
            }
            out.add(new PortRange(a, b));
            if (out.size() > MAX_RANGES) {
                throw new PolicyException(where + ": more than " + MAX_RANGES + " port ranges");
            }
        }
        return out;
    }

    private static int port(String s, String where) throws PolicyException {
        String t = s.strip();
        if (t.isEmpty() || t.length() > 5 || !t.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new PolicyException(where + ": " + Printable.quote(s) + " is not a port number");
        }
        int n = Integer.parseInt(t);
        if (n < 1 || n > 65535) {
            throw new PolicyException(where + ": port " + n + " is out of range 1..65535");
        }
        return n;
    }

    @Override
    public String toString() {
        return first == last ? Integer.toString(first) : first + "-" + last;
    }
}
