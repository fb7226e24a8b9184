package dev.cgbpf.hook.script;

import java.net.InetAddress;

/**
 * Addresses as text the way inet_ntop(3) prints them, so that a scenario's output reads like the
 * kernel's own tools: IPv4 dotted; IPv6 in lower-case hex with the first longest run of two or more
 * zero groups shortened to {@code ::}, and the IPv4-mapped ({@code ::ffff:a.b.c.d}) and
 * IPv4-compatible forms ending in dotted IPv4 ({@code ::ffff:127.0.0.2}, {@code ::1}, {@code ::}).
 */
final class InetNtop {
    private InetNtop() {
    }

    /** An address of the given family; an IPv4 address of an inet6 socket is its v4-mapped form. */
    static String format(InetAddress address, boolean inet6) {
        byte[] b = address.getAddress();
        return format(inet6 ? LoopbackAddress.v4Mapped(b) : b);
    }

    /** 4 bytes as IPv4, 16 bytes as IPv6. */
    static String format(byte[] b) {
        if (b.length == 4) {
            return dotted(b, 0);
        }
        if (b.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + b.length);
        }
        int[] words = new int[8];
        for (int i = 0; i < 8; i++) {
            words[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        // the first longest run of zero groups, if it is at least two long
        int base = -1;
        int len = 0;
        for (int i = 0; i < 8; ) {
            if (words[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && words[j] == 0) {
                j++;
            }
            if (j - i > len) {
                base = i;
                len = j - i;
            }
            i = j;
        }
        if (len < 2) {
            base = -1;
        }
        StringBuilder s = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (base >= 0 && i >= base && i < base + len) {
                if (i == base) {
                    s.append(':');
                }
                continue;
            }
            if (i != 0) {
                s.append(':');
            }
            // inet_ntop's tail rule: ::a.b.c.d and ::ffff:a.b.c.d end in dotted IPv4
            if (i == 6 && base == 0 && (len == 6 || (len == 5 && words[5] == 0xffff))) {
                s.append(dotted(b, 12));
                return s.toString();
            }
            s.append(Integer.toHexString(words[i]));
        }
        if (base >= 0 && base + len == 8) {
            s.append(':');
        }
        return s.toString();
    }

    private static String dotted(byte[] b, int at) {
        return (b[at] & 0xff) + "." + (b[at + 1] & 0xff) + "." + (b[at + 2] & 0xff) + "." + (b[at + 3] & 0xff);
    }
}
