package dev.cgbpf.engine.interp;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * long bpf_trace_printk(fmt, u32 fmt_size, arg1, arg2, arg3) (kernel/trace/bpf_trace.c): the
 * format is checked as bpf_bprintf_prepare checks it, the line is formatted as bstr_printf
 * formats it and goes to the engine's log (slf4j, logger {@code dev.cgbpf.engine.trace_printk},
 * level debug) where the kernel writes the trace pipe. The answer is the kernel's: the length of
 * the formatted line, or a negative errno.
 *
 * <p>What the format may hold: printable ASCII and white space; {@code %%}; at most three
 * conversions, each with optional flags {@code 0 + - space} and a width, of {@code d i u x X}
 * (with {@code l} or {@code ll}), {@code c}, {@code s} (followed by the end, white space or
 * punctuation), {@code pks pus}, {@code pI4 pi4 pI6 pi6} and the pointer forms {@code p pK px ps
 * pS pB}. Anything else is -EINVAL, as is a format without its NUL within {@code fmt_size}.
 * Strings and addresses are read from the engine's memory; one that cannot be read prints as
 * empty (zeros for an address), as the kernel's nofault copies do.
 *
 * <p>Where the engine's line differs: pointers print as the engine's addresses ({@code %p} and
 * {@code %pK}, hashed by the kernel, still print 16 hex digits, so the length agrees; {@code %ps},
 * {@code %pS} and {@code %pB} name no kernel symbol and print {@code 0x} and the address).
 */
final class TracePrintk {
    private static final Logger LOG = LoggerFactory.getLogger("dev.cgbpf.engine.trace_printk");

    static final long EINVAL = 22;
    static final long ENOSPC = 28;
    /** MAX_TRACE_PRINTK_VARARGS. */
    static final int MAX_ARGS = 3;
    /** MAX_BPRINTF_BIN_ARGS: the buffer the arguments (strings included) are staged in. */
    static final int BIN_ARGS_SIZE = 512;
    /** MAX_BPRINTF_BUF: the formatted line, NUL included. */
    static final int BUF_SIZE = 1024;

    private static final int LEFT = 1;
    private static final int PLUS = 2;
    private static final int SPACE = 4;
    private static final int ZEROPAD = 8;

    private TracePrintk() {
    }

    static long call(Machine m, long fmt, long fmtSize, long a1, long a2, long a3) {
        int size = (int) fmtSize;
        if (size <= 0) {
            throw new Fault("bpf_trace_printk: fmt_size " + fmtSize + " is not a positive size");
        }
        byte[] raw = m.readBytes(fmt, size);
        int end = 0;
        while (end < raw.length && raw[end] != 0) {
            end++;
        }
        if (end == raw.length) {
            return -EINVAL;
        }
        Formatter f = new Formatter(m, raw, end, new long[] {a1, a2, a3});
        long err = f.run();
        if (err < 0) {
            return err;
        }
        byte[] line = f.out.toByteArray();
        if (LOG.isDebugEnabled()) {
            int shown = Math.min(line.length, BUF_SIZE - 1);
            LOG.debug("{}", new String(line, 0, shown, StandardCharsets.ISO_8859_1));
        }
        return line.length;
    }

    /** One pass over the format: checks it, stages the arguments' budget, and formats. */
    private static final class Formatter {
        final Machine m;
        final byte[] fmt;
        final int end;
        final long[] args;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        int used;
        int spec;

        Formatter(Machine m, byte[] fmt, int end, long[] args) {
            this.m = m;
            this.fmt = fmt;
            this.end = end;
            this.args = args;
        }

        /** fmt[i], with the terminating NUL (and anything after it) read as 0. */
        int at(int i) {
            return i < end ? fmt[i] & 0xff : 0;
        }

        long run() {
            for (int i = 0; i < end; i++) {
                int c = at(i);
                if (!(isPrint(c) || isSpace(c))) {
                    return -EINVAL;
                }
                if (c != '%') {
                    out.write(c);
                    continue;
                }
                if (at(i + 1) == '%') {
                    out.write('%');
                    i++;
                    continue;
                }
                if (spec >= MAX_ARGS) {
                    return -EINVAL;
                }
                i++;
                int flags = 0;
                for (;; i++) {
                    int f = at(i);
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
                if (at(i) >= '1' && at(i) <= '9') {
                    width = 0;
                    while (at(i) >= '0' && at(i) <= '9') {
                        width = width * 10 + at(i) - '0';
                        i++;
                    }
                }
                long arg = args[spec];
                long r;
                if (at(i) == 'p') {
                    r = pointer(i, flags, width, arg);
                    if (r < 0) {
                        return r;
                    }
                    i = (int) r;
                } else if (at(i) == 's') {
                    if (!endOfConversion(at(i + 1))) {
                        return -EINVAL;
                    }
                    if (used == BIN_ARGS_SIZE) {
                        return -ENOSPC;
                    }
                    widen(kernelString(arg), flags, width);
                } else if (at(i) == 'c') {
                    if (used == BIN_ARGS_SIZE) {
                        return -ENOSPC;
                    }
                    used++;
                    widen(new byte[] {(byte) arg}, flags & LEFT, width);
                } else {
                    int bytes = 4;
                    if (at(i) == 'l') {
                        bytes = 8;
                        i++;
                    }
                    if (at(i) == 'l') {
                        i++;
                    }
                    int conv = at(i);
                    if (conv != 'i' && conv != 'd' && conv != 'u' && conv != 'x' && conv != 'X') {
                        return -EINVAL;
                    }
                    if (stage(bytes) < 0) {
                        return -ENOSPC;
                    }
                    number(arg, bytes, conv, flags, width);
                }
                spec++;
            }
            return 0;
        }

        /**
         * The %p forms starting at fmt[i] == 'p': returns the index of the conversion's last
         * character, or a negative errno.
         */
        long pointer(int i, int flags, int width, long arg) {
            int next = at(i + 1);
            if (endOfConversion(next)) {
                // plain %p: the kernel hashes the pointer and prints 16 hex digits
                return stage(8) < 0 ? -ENOSPC : printed(i, arg, flags, width);
            }
            if ((next == 'k' || next == 'u') && at(i + 2) == 's') {
                if (!endOfConversion(at(i + 3))) {
                    return -EINVAL;
                }
                if (used == BIN_ARGS_SIZE) {
                    return -ENOSPC;
                }
                // a pre-formatted string: bstr_printf copies it without the width; the engine
                // has no user memory, so %pus of any engine address reads nothing
                out.writeBytes(next == 'k' ? kernelString(arg) : stageEmpty());
                return i + 2;
            }
            if (next == 'K' || next == 'x') {
                return stage(8) < 0 ? -ENOSPC : printed(i + 1, arg, flags, width);
            }
            if (next == 's' || next == 'S') {
                if (stage(8) < 0) {
                    return -ENOSPC;
                }
                out.writeBytes(symbol(arg));
                return i + 1;
            }
            if (next == 'B') {
                byte[] s = symbol(arg);
                used += s.length + 1;
                out.writeBytes(s);
                return i + 1;
            }
            int v = at(i + 2);
            if ((next != 'i' && next != 'I') || (v != '4' && v != '6')) {
                return -EINVAL;
            }
            int n = v == '4' ? 4 : 16;
            if (BIN_ARGS_SIZE - used < n) {
                return -ENOSPC;
            }
            byte[] ip = new byte[n];
            try {
                ip = m.readBytes(arg, n);
            } catch (Fault e) {
                // copy_from_kernel_nofault failed: the kernel prints zeros
            }
            byte[] s = ipString(ip, next == 'I').getBytes(StandardCharsets.US_ASCII);
            used += s.length + 1;
            out.writeBytes(s);
            return i + 2;
        }

        /**
         * pointer_string: 16 zero-padded hex digits, or the hex number in the width the format
         * gives. Returns the index of the conversion's last character.
         */
        private long printed(int last, long pointer, int flags, int width) {
            if (width < 0) {
                out.writeBytes(hex16(pointer));
            } else {
                number(pointer, 8, 'x', flags, width);
            }
            return last;
        }

        private byte[] stageEmpty() {
            used++;
            return new byte[0];
        }

        /** Room for an integer argument, 4-byte aligned as the kernel stages it; -1 when full. */
        int stage(int bytes) {
            used = (used + 3) & ~3;
            if (BIN_ARGS_SIZE - used < bytes) {
                return -1;
            }
            used += bytes;
            return 0;
        }

        /**
         * strncpy_from_kernel_nofault into what is left of the argument buffer: at most that
         * much minus the NUL; a string that cannot be read whole prints as empty.
         */
        byte[] kernelString(long address) {
            int room = BIN_ARGS_SIZE - used;
            ByteArrayOutputStream s = new ByteArrayOutputStream();
            try {
                for (int k = 0; k < room - 1; k++) {
                    int b = (int) m.load(address + k, 1);
                    if (b == 0) {
                        break;
                    }
                    s.write(b);
                }
            } catch (Fault e) {
                used++;
                return new byte[0];
            }
            used += s.size() + 1;
            return s.toByteArray();
        }

        /** widen_string: pad to the width with spaces, on the left unless '-'. */
        void widen(byte[] s, int flags, int width) {
            int pad = Math.max(0, width - s.length);
            if ((flags & LEFT) == 0) {
                out.writeBytes(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII));
            }
            out.writeBytes(s);
            if ((flags & LEFT) != 0) {
                out.writeBytes(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII));
            }
        }

        /** lib/vsprintf.c number() for the flags the format allows (no '#', no precision). */
        void number(long arg, int bytes, int conv, int flags, int width) {
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
                    : conv == 'X' ? Long.toHexString(v).toUpperCase(java.util.Locale.ROOT)
                    : Long.toUnsignedString(v);
            int pad = Math.max(0, width - digits.length() - (sign != 0 ? 1 : 0));
            StringBuilder sb = new StringBuilder();
            if ((flags & (ZEROPAD | LEFT)) == 0) {
                sb.append(" ".repeat(pad));
            }
            if (sign != 0) {
                sb.append(sign);
            }
            if ((flags & LEFT) == 0 && (flags & ZEROPAD) != 0) {
                sb.append("0".repeat(pad));
            }
            sb.append(digits);
            if ((flags & LEFT) != 0) {
                sb.append(" ".repeat(pad));
            }
            out.writeBytes(sb.toString().getBytes(StandardCharsets.US_ASCII));
        }
    }

    static boolean endOfConversion(int c) {
        return c == 0 || isSpace(c) || isPunct(c);
    }

    static boolean isPrint(int c) {
        return c >= 0x20 && c <= 0x7e;
    }

    /** isspace within ASCII (the format must be ASCII). */
    static boolean isSpace(int c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    static boolean isPunct(int c) {
        return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60)
                || (c >= 0x7b && c <= 0x7e);
    }

    static byte[] hex16(long v) {
        return String.format("%016x", v).getBytes(StandardCharsets.US_ASCII);
    }

    /** What %pS prints for an address that is no kernel symbol. */
    static byte[] symbol(long v) {
        return ("0x" + Long.toHexString(v)).getBytes(StandardCharsets.US_ASCII);
    }

    /** %pI4 1.2.3.4, %pi4 001.002.003.004, %pI6 colon-separated groups of 4 hex digits, %pi6 32 hex digits. */
    static String ipString(byte[] ip, boolean dotted) {
        StringBuilder sb = new StringBuilder();
        if (ip.length == 4) {
            for (int k = 0; k < 4; k++) {
                if (k > 0) {
                    sb.append('.');
                }
                sb.append(dotted ? Integer.toString(ip[k] & 0xff) : String.format("%03d", ip[k] & 0xff));
            }
            return sb.toString();
        }
        for (int k = 0; k < 16; k += 2) {
            if (k > 0 && dotted) {
                sb.append(':');
            }
            sb.append(String.format("%02x%02x", ip[k] & 0xff, ip[k + 1] & 0xff));
        }
        return sb.toString();
    }
}
