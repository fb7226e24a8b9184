package dev.cgbpf.engine.isa;

/**
 * The eBPF registers: r0 return value, r1..r5 arguments, r6..r9 callee-saved, r10 the read-only
 * frame pointer.
 */
public enum Reg {
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10;

    /** The number in the dst/src field of an instruction. */
    public int id() {
        return ordinal();
    }

    public static Reg of(int id) {
        if (id < 0 || id > Encoding.MAX_REG) {
            throw new IllegalArgumentException("register r" + id + " does not exist (r0..r10)");
        }
        return values()[id];
    }
}
