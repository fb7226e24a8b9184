package dev.cgbpf.engine.interp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * bpf_bprintf_prepare (kernel/bpf/helpers.c): the check of a format that bpf_trace_printk,
 * bpf_trace_vprintk and bpf_snprintf share, and the staging of their arguments into the binary
 * argument buffer bstr_printf ({@link BstrPrintf}) reads. The verifier makes the same check of
 * bpf_snprintf's constant format at load, without arguments ({@link #check}).
 *
 * <p>What the format may hold (6.18): any byte but the ASCII control characters (white space
 * aside) and DEL, so UTF-8 passes; {@code %%}; at most {@code num_args} conversions, each with
 * optional flags {@code 0 + - space} and a width, of {@code d i u x X} (with {@code l} or
 * {@code ll}), {@code c}, {@code s} (followed by the end, white space or punctuation),
 * {@code pks pus}, {@code pI4 pi4 pI6 pi6} and the pointer forms {@code p pK px ps pS pB}.
 * Anything else is -EINVAL.
 *
 * <p>Staging, as the kernel's: integers and pointers 4-byte aligned (4 or 8 bytes), a
 * {@code %c} as one byte, strings and addresses pre-formatted with their NUL, all within
 * MAX_BPRINTF_BIN_ARGS bytes, else -ENOSPC. A string that cannot be read is staged empty, an
 * address that cannot be read as zeros, as the kernel's nofault copies do. {@code %pus} reads
 * user memory: the engine has none, so it is always empty, as it is in the kernel for the
 * program's own (kernel) memory.
 */
public final class Bprintf {
    static final long EINVAL = 22;
    static final long ENOSPC = 28;
    /** MAX_BPRINTF_VARARGS: the most arguments bpf_snprintf and bpf_trace_vprintk take. */
    public static final int MAX_VARARGS = 12;
    /** MAX_BPRINTF_BIN_ARGS: the buffer the arguments (strings included) are staged in. */
    static final int BIN_ARGS_SIZE = 512;

    private Bprintf() {
    }

    /** What bpf_bprintf_prepare made of a format: 0 and the staged arguments, or a negative errno. */
    record Staged(long err, byte[] binArgs) {
    }

    /**
     * The verifier's check (check_bpf_snprintf_call): {@code fmt} is the string up to its NUL;
     * nothing is staged. Returns 0 or -EINVAL.
     */
    public static long check(byte[] fmt, int numArgs) {
        return new Scan(null, fmt, null, Math.max(0, numArgs), new ArrayList<>()).run();
    }

    /**
     * The first conversion of a valid format that prints a kernel address ({@code %p},
     * {@code %pK}, {@code %px}, {@code %ps}, {@code %pS}, {@code %pB}), or null. The kernel
     * prints a hashed or raw kernel address or a symbol there, none of which the engine has.
     */
    public static String addressConversion(byte[] fmt) {
        List<String> found = new ArrayList<>();
        new Scan(null, fmt, null, Integer.MAX_VALUE, found).run(); // any number of conversions
        return found.isEmpty() ? null : found.get(0);
    }

    /** The run-time call: {@code fmt} up to its NUL, the program's arguments, read through {@code m}. */
    static Staged prepare(Machine m, byte[] fmt, long[] args) {
        Scan s = new Scan(m, fmt, args, args.length, new ArrayList<>());
        long err = s.run();
        return new Staged(err, s.bin);
    }

    /** One pass of bpf_bprintf_prepare over a format. */
    private static final class Scan {
        /** null: the verifier's call, which stages nothing */
        final Machine m;
        final byte[] fmt;
        /** null: the verifier's call, which has only their number */
        final long[] args;
        final int numArgs;
        final List<String> addresses;
        final byte[] bin = new byte[BIN_ARGS_SIZE];
        /** the kernel stages only when it has arguments (tmp_buf is NULL otherwise) */
        final boolean staging;
        int used;

        Scan(Machine m, byte[] fmt, long[] args, int numArgs, List<String> addresses) {
            this.m = m;
            this.fmt = fmt;
            this.args = args;
            this.numArgs = numArgs;
            this.addresses = addresses;
            this.staging = m != null && numArgs > 0;
        }

        /** fmt[i], the terminating NUL (and anything after it) read as 0. */
        int at(int i) {
            return i < fmt.length ? fmt[i] & 0xff : 0;
        }

        long run() {
            int spec = 0;
            for (int i = 0; i < fmt.length; i++) {
                int c = at(i);
                if (c < 0x80 && !isPrint(c) && !isSpace(c)) {
                    return -EINVAL;
                }
                if (c != '%') {
                    continue;
                }
                if (at(i + 1) == '%') {
                    i++;
                    continue;
                }
                if (spec >= numArgs) {
                    return -EINVAL;
                }
                i++;
                while (at(i) == '0' || at(i) == '+' || at(i) == '-' || at(i) == ' ') {
                    i++;
                }
                if (at(i) >= '1' && at(i) <= '9') {
                    while (at(i) >= '0' && at(i) <= '9') {
                        i++;
                    }
                }
                long arg = args == null ? 0 : args[spec];
                long r = at(i) == 'p' ? pointer(i, arg) : at(i) == 's' ? string(i, 's', arg)
                        : at(i) == 'c' ? character(i, arg) : integer(i, arg);
                if (r < 0) {
                    return r;
                }
                i = (int) r;
                spec++;
            }
            return 0;
        }

        /** The %p forms at fmt[i] == 'p': the index of the conversion's last character, or -errno. */
        long pointer(int i, long arg) {
            int next = at(i + 1);
            if (endOfConversion(next)) {
                addresses.add("%p");
                return stage(i, arg, 8);
            }
            if ((next == 'k' || next == 'u') && at(i + 2) == 's') {
                return string(i + 2, next, arg);
            }
            if (next == 'K' || next == 'x' || next == 's' || next == 'S') {
                addresses.add("%p" + (char) next);
                return stage(i + 1, arg, 8);
            }
            if (next == 'B') {
                addresses.add("%pB");
                if (staging) {
                    preformatted(TracePrintk.symbol(arg));
                }
                return i + 1;
            }
            int v = at(i + 2);
            if ((next != 'i' && next != 'I') || (v != '4' && v != '6')) {
                return -EINVAL;
            }
            if (!staging) {
                return i + 2;
            }
            int n = v == '4' ? 4 : 16;
            if (BIN_ARGS_SIZE - used < n) {
                return -ENOSPC;
            }
            byte[] ip = new byte[n];
            try {
                ip = m.readBytes(arg, n);
            } catch (Fault e) {
                // copy_from_kernel_nofault failed: the kernel formats zeros
            }
            preformatted(ipString(ip, next == 'I').getBytes(StandardCharsets.US_ASCII));
            return i + 2;
        }

        /** %s, %pks, %pus ending at fmt[i]: the string is copied in with its NUL. */
        long string(int i, int ptype, long arg) {
            if (!endOfConversion(at(i + 1))) {
                return -EINVAL;
            }
            if (!staging) {
                return i;
            }
            if (used >= BIN_ARGS_SIZE) {
                return -ENOSPC;
            }
            byte[] s = ptype == 'u' ? new byte[0] : kernelString(arg, BIN_ARGS_SIZE - used);
            System.arraycopy(s, 0, bin, used, s.length);
            used += s.length + 1;
            return i;
        }

        long character(int i, long arg) {
            if (!staging) {
                return i;
            }
            if (used >= BIN_ARGS_SIZE) {
                return -ENOSPC;
            }
            bin[used++] = (byte) arg;
            return i;
        }

        /** d i u x X, with l or ll: 4 or 8 bytes staged. */
        long integer(int i, long arg) {
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
            return stage(i, arg, bytes);
        }

        /** nocopy_fmt: a 4-byte aligned integer of 4 or 8 bytes, little-endian as on x86. */
        long stage(int last, long arg, int bytes) {
            if (!staging) {
                return last;
            }
            used = (used + 3) & ~3;
            if (BIN_ARGS_SIZE - used < bytes) {
                return -ENOSPC;
            }
            for (int k = 0; k < bytes; k++) {
                bin[used + k] = (byte) (arg >>> (8 * k));
            }
            used += bytes;
            return last;
        }

        /**
         * snprintf of an address's text into what is left: the text and its NUL, cut to fit,
         * the room counted as if it had fitted whole (the kernel adds snprintf's answer).
         */
        void preformatted(byte[] s) {
            int room = BIN_ARGS_SIZE - used;
            if (room > 0) {
                System.arraycopy(s, 0, bin, used, Math.min(s.length, room - 1));
            }
            used += s.length + 1;
        }

        /**
         * strncpy_from_kernel_nofault into {@code room} bytes: at most room - 1 bytes and the NUL;
         * a string that cannot be read whole is staged empty.
         */
        byte[] kernelString(long address, int room) {
            java.io.ByteArrayOutputStream s = new java.io.ByteArrayOutputStream();
            try {
                for (int k = 0; k < room - 1; k++) {
                    int b = (int) m.load(address + k, 1);
                    if (b == 0) {
                        break;
                    }
                    s.write(b);
                }
            } catch (Fault e) {
                return new byte[0];
            }
            return s.toByteArray();
        }
    }

    static boolean endOfConversion(int c) {
        return c == 0 || isSpace(c) || isPunct(c);
    }

    static boolean isPrint(int c) {
        return c >= 0x20 && c <= 0x7e;
    }

    /** isspace within ASCII. */
    static boolean isSpace(int c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    static boolean isPunct(int c) {
        return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60)
                || (c >= 0x7b && c <= 0x7e);
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
