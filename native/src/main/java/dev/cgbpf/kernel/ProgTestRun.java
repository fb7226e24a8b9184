package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/**
 * BPF_PROG_TEST_RUN (alias BPF_PROG_RUN): runs a loaded program on a packet and/or a context in
 * the kernel.
 *
 * <p>data_size_out is always set to the output buffer's size: the kernel reads 0 as "no limit"
 * and would write past a buffer it was not told about. When the output is larger than the buffer
 * the kernel copies what fits and fails with ENOSPC, after having run the program.
 */
public final class ProgTestRun {
    public static final UapiField PROG_FD = UapiField.attr("test.prog_fd", 0, 4);
    public static final UapiField RETVAL = UapiField.attr("test.retval", 4, 4);
    public static final UapiField DATA_SIZE_IN = UapiField.attr("test.data_size_in", 8, 4);
    public static final UapiField DATA_SIZE_OUT = UapiField.attr("test.data_size_out", 12, 4);
    public static final UapiField DATA_IN = UapiField.attr("test.data_in", 16, 8);
    public static final UapiField DATA_OUT = UapiField.attr("test.data_out", 24, 8);
    public static final UapiField REPEAT = UapiField.attr("test.repeat", 32, 4);
    public static final UapiField DURATION = UapiField.attr("test.duration", 36, 4);
    public static final UapiField CTX_SIZE_IN = UapiField.attr("test.ctx_size_in", 40, 4);
    public static final UapiField CTX_SIZE_OUT = UapiField.attr("test.ctx_size_out", 44, 4);
    public static final UapiField CTX_IN = UapiField.attr("test.ctx_in", 48, 8);
    public static final UapiField CTX_OUT = UapiField.attr("test.ctx_out", 56, 8);
    public static final UapiField FLAGS = UapiField.attr("test.flags", 64, 4);
    public static final UapiField CPU = UapiField.attr("test.cpu", 68, 4);

    /**
     * @param dataIn the packet (null: none)
     * @param dataOutCapacity bytes reserved for the packet after the run (0: not copied back)
     * @param ctxIn the context (null: none; the kernel then builds a default one)
     * @param ctxOutCapacity bytes reserved for the context after the run (0: not copied back)
     */
    public record Request(byte[] dataIn, int dataOutCapacity, int repeat, byte[] ctxIn, int ctxOutCapacity,
                          int flags, int cpu) {
        public static Request packet(byte[] dataIn, int repeat) {
            return new Request(dataIn, dataIn.length, repeat, null, 0, 0, 0);
        }
    }

    /**
     * @param retval the program's return value as the kernel reports it (u32)
     * @param durationNs the kernel's mean nanoseconds per run (u32)
     */
    public record Result(long retval, byte[] dataOut, byte[] ctxOut, long durationNs) {
    }

    private ProgTestRun() {
    }

    /** The part of an output buffer the kernel filled: its reported size (u32), at most the capacity. */
    private static int filled(int reportedU32, int capacity) {
        return (int) Math.min(Integer.toUnsignedLong(reportedU32), capacity);
    }

    public static Result progTestRun(Fd prog, Request r) throws BpfException {
        byte[] dataIn = r.dataIn() == null ? new byte[0] : r.dataIn();
        byte[] ctxIn = r.ctxIn() == null ? new byte[0] : r.ctxIn();
        try (BpfAttr attr = new BpfAttr(CPU);
             UserMem din = r.dataIn() == null ? null : UserMem.of(dataIn);
             UserMem dout = UserMem.zeroed(r.dataOutCapacity());
             UserMem cin = r.ctxIn() == null ? null : UserMem.of(ctxIn);
             UserMem cout = UserMem.zeroed(r.ctxOutCapacity())) {
            attr.u32(PROG_FD, prog.get());
            attr.u32(DATA_SIZE_IN, dataIn.length);
            attr.ptr(DATA_IN, din);
            attr.u32(DATA_SIZE_OUT, r.dataOutCapacity());
            attr.ptr(DATA_OUT, dout);
            attr.u32(REPEAT, r.repeat());
            attr.u32(CTX_SIZE_IN, ctxIn.length);
            attr.ptr(CTX_IN, cin);
            attr.u32(CTX_SIZE_OUT, r.ctxOutCapacity());
            attr.ptr(CTX_OUT, cout);
            attr.u32(FLAGS, r.flags());
            attr.u32(CPU, r.cpu());
            BpfSyscall.call(BpfCmd.BPF_PROG_TEST_RUN, attr, "prog fd " + prog.get());
            byte[] dataOut = dout.read(filled(attr.u32(DATA_SIZE_OUT), r.dataOutCapacity()));
            byte[] ctxOut = cout.read(filled(attr.u32(CTX_SIZE_OUT), r.ctxOutCapacity()));
            return new Result(Integer.toUnsignedLong(attr.u32(RETVAL)), dataOut, ctxOut,
                    Integer.toUnsignedLong(attr.u32(DURATION)));
        }
    }
}
