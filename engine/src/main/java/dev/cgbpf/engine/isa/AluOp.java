package dev.cgbpf.engine.isa;

import java.util.Optional;

/**
 * The operation of an ALU or ALU64 instruction: the high 4 bits of its opcode, named as in
 * include/uapi/linux/bpf.h ({@code BPF_ADD} is {@link #ADD}).
 *
 * <p>A type of its own because the jump operations use the same 4 bits for other meanings
 * ({@code BPF_AND} and {@code BPF_JNE} are both 0x50): {@link Asm} takes an {@code AluOp} where
 * it emits an ALU instruction and a {@link JumpOp} where it emits a jump, so handing it one for
 * the other does not compile.
 */
public enum AluOp {
    ADD(0x00),
    SUB(0x10),
    MUL(0x20),
    DIV(0x30),
    OR(0x40),
    AND(0x50),
    LSH(0x60),
    RSH(0x70),
    NEG(0x80),
    MOD(0x90),
    XOR(0xa0),
    MOV(0xb0),
    ARSH(0xc0),
    /** Byte swap; the direction is the source bit ({@link Opcodes#TO_LE}, {@link Opcodes#TO_BE}). */
    END(0xd0);

    private static final AluOp[] BY_OP = new AluOp[16];

    static {
        for (AluOp op : values()) {
            BY_OP[op.bits >> 4] = op;
        }
    }

    private final int bits;

    AluOp(int bits) {
        this.bits = bits;
    }

    /** The operation field: {@code class | op.bits() | source} is the opcode byte. */
    public int bits() {
        return bits;
    }

    /** The operation of an ALU or ALU64 opcode byte; empty for the undefined 0xe0 and 0xf0. */
    public static Optional<AluOp> of(int code) {
        return Optional.ofNullable(BY_OP[(code & 0xf0) >> 4]);
    }
}
