package dev.cgbpf.engine.interp;

/**
 * bpf_strtol (105) and bpf_strtoul (106) of kernel/bpf/helpers.c: parse an integer from the
 * first {@code buf_len} bytes of program memory, as the kernel's __bpf_strtoull does:
 * <ul>
 * <li>flags carry the base in the low 5 bits (0, 8, 10 or 16; 0 guesses from a "0x"/"0" prefix)
 *     and nothing else, else -EINVAL; a zero length is -EINVAL;</li>
 * <li>leading white space (the kernel's isspace: \t \n \v \f \r, space and 0xa0) and one '-' are
 *     skipped; at most 63 further bytes are looked at;</li>
 * <li>no digit is -EINVAL, a value beyond 64 bits -ERANGE; strtol's result must fit a signed
 *     long (-ERANGE), strtoul refuses a '-' (-EINVAL);</li>
 * <li>the answer is the number of bytes consumed (white space and sign included), the value
 *     goes to {@code *res}, which is zeroed on every error (6.12 and later).</li>
 * </ul>
 */
final class BpfStrtol {
    static final long EINVAL = 22;
    static final long ERANGE = 34;
    /** BPF_STRTOX_BASE_MASK. */
    private static final long BASE_MASK = 0x1f;
    /** The kernel copies the digits into a char[64] with its terminating NUL. */
    private static final int MAX_DIGITS = 63;

    private BpfStrtol() {
    }

    /** What __bpf_strtoull found: bytes consumed (or -errno), the magnitude, the sign. */
    record Parsed(long consumed, long value, boolean negative) {
    }

    static long strtol(Machine m, long buf, long bufLen, long flags, long res, long r5) {
        Parsed p = strtoull(m, buf, bufLen, flags);
        long v = p.value;
        if (p.consumed >= 0) {
            if (p.negative) {
                // (long long)-_res > 0: the magnitude exceeds 2^63
                if (-v > 0) {
                    return fail(m, res, -ERANGE);
                }
                v = -v;
            } else if (v < 0) {
                return fail(m, res, -ERANGE);
            }
            m.store(res, 8, v);
            return p.consumed;
        }
        return fail(m, res, p.consumed);
    }

    static long strtoul(Machine m, long buf, long bufLen, long flags, long res, long r5) {
        Parsed p = strtoull(m, buf, bufLen, flags);
        if (p.consumed < 0) {
            return fail(m, res, p.consumed);
        }
        if (p.negative) {
            return fail(m, res, -EINVAL);
        }
        m.store(res, 8, p.value);
        return p.consumed;
    }

    private static long fail(Machine m, long res, long err) {
        m.store(res, 8, 0);
        return err;
    }

    static Parsed strtoull(Machine m, long buf, long bufLen, long flags) {
        long base = flags & BASE_MASK;
        if (bufLen == 0) {
            return new Parsed(-EINVAL, 0, false);
        }
        if (base != 0 && base != 8 && base != 10 && base != 16 || (flags & ~BASE_MASK) != 0) {
            return new Parsed(-EINVAL, 0, false);
        }
        byte[] s = m.readBytes(buf, (int) bufLen);
        return parse(s, (int) base);
    }

    /** The parse itself, over the bytes the program passed. */
    static Parsed parse(byte[] s, int base) {
        int i = 0;
        while (i < s.length && isSpace(s[i] & 0xff)) {
            i++;
        }
        boolean negative = i < s.length && s[i] == '-';
        if (negative) {
            i++;
        }
        int consumed = i;
        int len = Math.min(s.length - consumed, MAX_DIGITS);
        if (len == 0) {
            return new Parsed(-EINVAL, 0, negative);
        }
        // the kernel's NUL-terminated copy: reading past it sees 0
        byte[] str = new byte[len + 3];
        System.arraycopy(s, consumed, str, 0, len);
        int at = 0;
        if (base == 0) {
            if (str[0] == '0') {
                base = lower(str[1]) == 'x' && isHexDigit(str[2]) ? 16 : 8;
            } else {
                base = 10;
            }
        }
        if (base == 16 && str[0] == '0' && lower(str[1]) == 'x') {
            at = 2;
        }
        long value = 0;
        int digits = 0;
        boolean overflow = false;
        for (int k = at; k < len; k++) {
            int c = str[k] & 0xff;
            int lc = lower(str[k]);
            int val;
            if (c >= '0' && c <= '9') {
                val = c - '0';
            } else if (lc >= 'a' && lc <= 'f') {
                val = lc - 'a' + 10;
            } else {
                break;
            }
            if (val >= base) {
                break;
            }
            // _parse_integer_limit checks only once the top 4 bits are in play
            if ((value & (~0L << 60)) != 0
                    && Long.compareUnsigned(value, Long.divideUnsigned(-1L - val, base)) > 0) {
                overflow = true;
            }
            value = value * base + val;
            digits++;
        }
        if (overflow) {
            return new Parsed(-ERANGE, 0, negative);
        }
        if (digits == 0) {
            return new Parsed(-EINVAL, 0, negative);
        }
        return new Parsed(consumed + at + digits, value, negative);
    }

    /** The kernel's isspace (lib/ctype.c): the C white space and Latin-1's no-break space. */
    private static boolean isSpace(int c) {
        return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
    }

    private static boolean isHexDigit(byte b) {
        int c = lower(b);
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    }

    /** _tolower: ASCII letters only. */
    private static int lower(byte b) {
        int c = b & 0xff;
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    }
}
