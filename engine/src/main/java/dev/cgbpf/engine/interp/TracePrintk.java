package dev.cgbpf.engine.interp;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * bpf_trace_printk (6) and bpf_trace_vprintk (177) of kernel/trace/bpf_trace.c: the format is
 * checked and the arguments staged as bpf_bprintf_prepare does ({@link Bprintf}), the line is
 * formatted as bstr_printf does into MAX_BPRINTF_BUF bytes ({@link BstrPrintf}) and goes to the
 * engine's log (slf4j, logger {@code dev.cgbpf.engine.trace_printk}, level debug) where the kernel
 * writes the trace pipe. The answer is the kernel's: the length of the whole formatted line, or a
 * negative errno (-EINVAL for a format without its NUL within {@code fmt_size}).
 *
 * <p>trace_printk takes three arguments in registers; trace_vprintk an array of u64 of
 * {@code data_len} bytes: a multiple of 8, at most MAX_BPRINTF_VARARGS of them, not NULL unless
 * empty, else -EINVAL. The kernel's -EBUSY (its staging buffers nested more than three deep on
 * one CPU) cannot happen: the engine's helpers do not nest.
 */
final class TracePrintk {
    private static final Logger LOG = LoggerFactory.getLogger("dev.cgbpf.engine.trace_printk");

    static final long EINVAL = 22;
    /** MAX_TRACE_PRINTK_VARARGS. */
    static final int MAX_ARGS = 3;
    /** MAX_BPRINTF_BUF: the formatted line, NUL included. */
    static final int BUF_SIZE = 1024;

    private TracePrintk() {
    }

    static long call(Machine m, long fmt, long fmtSize, long a1, long a2, long a3) {
        return print(m, fmt, fmtSize, new long[] {a1, a2, a3});
    }

    /** long bpf_trace_vprintk(fmt, u32 fmt_size, const void *data, u32 data_len). */
    static long vprintk(Machine m, long fmt, long fmtSize, long data, long dataLen, long r5) {
        long[] args = BpfSnprintf.varargs(m, data, dataLen & 0xffffffffL);
        if (args == null) {
            return -EINVAL;
        }
        return print(m, fmt, fmtSize, args);
    }

    private static long print(Machine m, long fmt, long fmtSize, long[] args) {
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
        byte[] f = java.util.Arrays.copyOf(raw, end);
        Bprintf.Staged staged = Bprintf.prepare(m, f, args);
        if (staged.err() < 0) {
            return staged.err();
        }
        BstrPrintf.Printed line = BstrPrintf.print(f, staged.binArgs(), BUF_SIZE);
        if (LOG.isDebugEnabled()) {
            byte[] w = line.written();
            LOG.debug("{}", new String(w, 0, w.length - 1, StandardCharsets.ISO_8859_1));
        }
        return line.length();
    }

    /** What %pS prints for an address that is no kernel symbol. */
    static byte[] symbol(long v) {
        return ("0x" + Long.toHexString(v)).getBytes(StandardCharsets.US_ASCII);
    }
}
