package dev.cgbpf.engine.interp;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * bstr_printf (lib/vsprintf.c) over a format {@link Bprintf} accepted and the arguments it
 * staged: the text goes into a buffer of {@code size} bytes, cut to size - 1 and ended with a NUL
 * when size is not 0; the answer is the length of the whole text, as vsnprintf's.
 *
 * <p>Kept from the kernel because it shows in the answers: a pre-formatted argument (an address,
 * {@code %pks}, {@code %pus}, {@code %pB}) is copied only while the buffer still has room; once
 * it is full, its text is neither counted nor stepped over in the staged arguments, so the
 * conversions after it read the staged bytes from where it began (snprintf of
 * {@code "abc %pI4 %d"} into 4 bytes answers 15, the %d reading the digits "127." as an int).
 * After any {@code %p} conversion the letters and digits that follow are skipped.
 *
 * <p>Where the engine's text differs: {@code %p %pK %px} print the engine's address in 16 hex
 * digits (the kernel: a hashed, zeroed or raw kernel address), {@code %ps %pS %pB} print
 * {@code 0x} and the address (the kernel: a symbol when there is one).
 */
final class BstrPrintf {
    private static final int LEFT = 1;
    private static final int PLUS = 2;
    private static final int SPACE = 4;
    private static final int ZEROPAD = 8;

    private BstrPrintf() {
    }

    /** The bytes written (the cut text and its NUL; nothing for size 0) and the whole length. */
    record Printed(byte[] written, long length) {
    }

    static Printed print(byte[] fmt, byte[] bin, int size) {
        Out out = new Out(size);
        int a = 0;
        int i = 0;
        while (i < fmt.length) {
            int c = fmt[i] & 0xff;
            if (c != '%') {
                out.put(c);
                i++;
                continue;
            }
            if (at(fmt, i + 1) == '%') {
                out.put('%');
                i += 2;
                continue;
            }
            i++;
            int flags = 0;
            for (;; i++) {
                int f = at(fmt, i);
                if (f == '0') {
                    flags |= ZEROPAD;
                } else if (f == '+') {
                    flags |= PLUS;
                } else if (f == '-') {
                    flags |= LEFT;
                } else if (f == ' ') {
                    flags |= SPACE;
                } else {
                    break;
                }
            }
            int width = -1;
            if (at(fmt, i) >= '1' && at(fmt, i) <= '9') {
                width = 0;
                while (at(fmt, i) >= '0' && at(fmt, i) <= '9') {
                    width = Math.min(width * 10 + at(fmt, i) - '0', FIELD_WIDTH_MAX);
                    i++;
                }
            }
            int bytes = 4;
            if (at(fmt, i) == 'l') {
                bytes = 8;
                i++;
                if (at(fmt, i) == 'l') {
                    i++;
                }
            }
            int conv = at(fmt, i++);
            switch (conv) {
                case 'c' -> {
                    int ch = a < bin.length ? bin[a] & 0xff : 0;
                    a++;
                    pad(out, (flags & LEFT) == 0 ? width - 1 : 0);
                    out.put(ch);
                    pad(out, (flags & LEFT) != 0 ? width - 1 : 0);
                }
                case 's' -> {
                    int len = strlen(bin, a);
                    byte[] s = Arrays.copyOfRange(bin, Math.min(a, bin.length), Math.min(a + len, bin.length));
                    a += len + 1;
                    pad(out, (flags & LEFT) == 0 ? width - s.length : 0);
                    out.put(s);
                    pad(out, (flags & LEFT) != 0 ? width - s.length : 0);
                }
                case 'p' -> {
                    int kind = at(fmt, i);
                    if (kind == 'S' || kind == 's' || kind == 'x' || kind == 'K' || !isAlnum(kind)) {
                        a = align4(a);
                        long ptr = arg(bin, a, 8);
                        a += 8;
                        if (kind == 'S' || kind == 's') {
                            out.put(TracePrintk.symbol(ptr));
                        } else if (width < 0) {
                            out.put(String.format("%016x", ptr).getBytes(StandardCharsets.US_ASCII));
                        } else {
                            number(out, ptr, 8, 'x', flags, width);
                        }
                    } else if (out.count < out.size) {
                        // pre-formatted by bpf_bprintf_prepare: copied without the width
                        int len = strlen(bin, a);
                        out.put(Arrays.copyOfRange(bin, a, Math.min(a + len, bin.length)));
                        a += len + 1;
                    }
                    while (isAlnum(at(fmt, i))) {
                        i++;
                    }
                }
                default -> {
                    a = align4(a);
                    long v = arg(bin, a, bytes);
                    a += bytes;
                    number(out, v, bytes, conv, flags, width);
                }
            }
        }
        return new Printed(out.written(), out.count);
    }

    /** FIELD_WIDTH_MAX: wider fields are clamped (with a warning) by the kernel. */
    private static final int FIELD_WIDTH_MAX = (1 << 23) - 1;

    private static int at(byte[] fmt, int i) {
        return i < fmt.length ? fmt[i] & 0xff : 0;
    }

    private static int align4(int a) {
        return (a + 3) & ~3;
    }

    private static boolean isAlnum(int c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static int strlen(byte[] bin, int from) {
        int k = from;
        while (k < bin.length && bin[k] != 0) {
            k++;
        }
        return Math.max(0, k - from);
    }

    /** get_arg: little-endian, zero past the staging buffer. */
    private static long arg(byte[] bin, int a, int bytes) {
        long v = 0;
        for (int k = 0; k < bytes; k++) {
            if (a + k < bin.length) {
                v |= (bin[a + k] & 0xffL) << (8 * k);
            }
        }
        return v;
    }

    private static void pad(Out out, int n) {
        for (int k = 0; k < n; k++) {
            out.put(' ');
        }
    }

    /** lib/vsprintf.c number() for the flags the format allows (no '#', no precision). */
    private static void number(Out out, long arg, int bytes, int conv, int flags, int width) {
        boolean signed = conv == 'd' || conv == 'i';
        long v = bytes == 4 ? (signed ? (int) arg : arg & 0xffffffffL) : arg;
        if ((flags & LEFT) != 0) {
            flags &= ~ZEROPAD;
        }
        char sign = 0;
        if (signed) {
            if (v < 0) {
                sign = '-';
                v = -v;
            } else if ((flags & PLUS) != 0) {
                sign = '+';
            } else if ((flags & SPACE) != 0) {
                sign = ' ';
            }
        }
        String digits = conv == 'x' ? Long.toHexString(v)
                : conv == 'X' ? Long.toHexString(v).toUpperCase(Locale.ROOT)
                : Long.toUnsignedString(v);
        int padding = Math.max(0, width - digits.length() - (sign != 0 ? 1 : 0));
        if ((flags & (ZEROPAD | LEFT)) == 0) {
            pad(out, padding);
        }
        if (sign != 0) {
            out.put(sign);
        }
        if ((flags & ZEROPAD) != 0) {
            for (int k = 0; k < padding; k++) {
                out.put('0');
            }
        }
        out.put(digits.getBytes(StandardCharsets.US_ASCII));
        if ((flags & LEFT) != 0) {
            pad(out, padding);
        }
    }

    /** The output buffer: bytes land while there is room, every byte counts. */
    private static final class Out {
        final int size;
        final byte[] buf;
        long count;

        Out(int size) {
            this.size = size;
            this.buf = new byte[size];
        }

        void put(int c) {
            if (count < size) {
                buf[(int) count] = (byte) c;
            }
            count++;
        }

        void put(byte[] s) {
            for (byte b : s) {
                put(b);
            }
        }

        /** The text cut to size - 1 and its NUL (end[-1] = '\0' when the text filled the buffer). */
        byte[] written() {
            if (size == 0) {
                return new byte[0];
            }
            int n = (int) Math.min(count, size - 1);
            byte[] w = Arrays.copyOf(buf, n + 1);
            w[n] = 0;
            return w;
        }
    }
}
