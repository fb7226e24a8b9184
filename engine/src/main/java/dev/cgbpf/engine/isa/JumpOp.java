package dev.cgbpf.engine.isa;

import java.util.Optional;

/**
 * The operation of a JMP or JMP32 instruction: the high 4 bits of its opcode, named as in
 * include/uapi/linux/bpf.h ({@code BPF_JEQ} is {@link #JEQ}).
 *
 * <p>A type of its own because the ALU operations use the same 4 bits for other meanings
 * ({@code BPF_JNE} and {@code BPF_AND} are both 0x50); see {@link AluOp}. {@code BPF_CALL}
 * (0x80) and {@code BPF_EXIT} (0x90) share the field but are not jumps and are not here:
 * {@link Asm#call}, {@link Asm#exit}.
 */
public enum JumpOp {
    /** Unconditional: {@code goto} (JMP, target in off) or {@code gotol} (JMP32, target in imm). */
    JA(0x00),
    JEQ(0x10),
    JGT(0x20),
    JGE(0x30),
    JSET(0x40),
    JNE(0x50),
    JSGT(0x60),
    JSGE(0x70),
    JLT(0xa0),
    JLE(0xb0),
    JSLT(0xc0),
    JSLE(0xd0);

    private static final JumpOp[] BY_OP = new JumpOp[16];

    static {
        for (JumpOp op : values()) {
            BY_OP[op.bits >> 4] = op;
        }
    }

    private final int bits;

    JumpOp(int bits) {
        this.bits = bits;
    }

    /** The operation field: {@code class | op.bits() | source} is the opcode byte. */
    public int bits() {
        return bits;
    }

    /** True for every operation but {@link #JA}: a comparison of dst with src or imm. */
    public boolean conditional() {
        return this != JA;
    }

    /**
     * The jump operation of a JMP or JMP32 opcode byte; empty for call (0x80), exit (0x90) and
     * the undefined 0xe0 and 0xf0.
     */
    public static Optional<JumpOp> of(int code) {
        return Optional.ofNullable(BY_OP[(code & 0xf0) >> 4]);
    }
}
