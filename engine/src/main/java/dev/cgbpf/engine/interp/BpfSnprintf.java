package dev.cgbpf.engine.interp;

/**
 * long bpf_snprintf(char *str, u32 str_size, const char *fmt, u64 *data, u32 data_len)
 * (kernel/bpf/helpers.c): formats into the program's buffer as bstr_printf does and answers the
 * length the whole text needs, its NUL included (so a cut text shows as an answer above
 * str_size), or a negative errno. The format is a string the verifier read in a frozen read-only
 * map and checked ({@link Bprintf#check}), so it is NUL-terminated; the arguments are checked and
 * staged at run time ({@link Bprintf#prepare}): a data_len that is not a multiple of 8, more than
 * MAX_BPRINTF_VARARGS arguments or NULL data with a length are -EINVAL, more conversions than
 * arguments -EINVAL, staged arguments over 512 bytes -ENOSPC. A {@code %s} reads the string at
 * the pointer the program put in data, from the program's own memory (stack, map values).
 */
final class BpfSnprintf {
    /** The longest format the engine reads (a map value holds it, so this is never reached). */
    private static final int MAX_FMT = 1 << 20;

    private BpfSnprintf() {
    }

    static long snprintf(Machine m, long str, long strSize, long fmt, long data, long dataLen) {
        long[] args = varargs(m, data, dataLen & 0xffffffffL);
        if (args == null) {
            return -Bprintf.EINVAL;
        }
        byte[] f = cString(m, fmt);
        Bprintf.Staged staged = Bprintf.prepare(m, f, args);
        if (staged.err() < 0) {
            return staged.err();
        }
        BstrPrintf.Printed p = BstrPrintf.print(f, staged.binArgs(), (int) (strSize & 0xffffffffL));
        byte[] w = p.written();
        for (int k = 0; k < w.length; k++) {
            m.store(str + k, 1, w[k]);
        }
        return p.length() + 1;
    }

    /**
     * The u64 arguments at {@code data}, or null where the kernel answers -EINVAL before
     * looking at the format (data_len not a multiple of 8, over MAX_BPRINTF_VARARGS of them, or
     * NULL data with a length).
     */
    static long[] varargs(Machine m, long data, long dataLen) {
        if (dataLen % 8 != 0 || dataLen > Bprintf.MAX_VARARGS * 8L || (dataLen != 0 && data == 0)) {
            return null;
        }
        long[] args = new long[(int) (dataLen / 8)];
        for (int k = 0; k < args.length; k++) {
            args[k] = m.load(data + 8L * k, 8);
        }
        return args;
    }

    /** The format up to its NUL. */
    private static byte[] cString(Machine m, long at) {
        java.io.ByteArrayOutputStream s = new java.io.ByteArrayOutputStream();
        for (int k = 0; k < MAX_FMT; k++) {
            int b = (int) m.load(at + k, 1);
            if (b == 0) {
                break;
            }
            s.write(b);
        }
        return s.toByteArray();
    }
}
