package dev.cgbpf.engine.isa;

import java.util.Optional;

/**
 * The operation of an atomic instruction ({@code STX | ATOMIC | size}), which it carries in imm:
 * an ALU operation ({@code BPF_ADD}, {@code BPF_OR}, {@code BPF_AND}, {@code BPF_XOR}), that
 * operation with {@code BPF_FETCH} (the old value returned in src), {@code BPF_XCHG} or
 * {@code BPF_CMPXCHG}, as in include/uapi/linux/bpf.h and RFC 9669. The kernel's load_acquire
 * and store_release (imm 0x100, 0x110) are extensions beyond RFC 9669 that {@link Encoding}
 * rejects; they are not here.
 */
public enum AtomicOp {
    /** {@code lock *(size *)(dst + off) += src}. */
    ADD(0x00),
    OR(0x40),
    AND(0x50),
    XOR(0xa0),
    /** {@code src = atomic_fetch_add((size *)(dst + off), src)}. */
    FETCH_ADD(0x00 | Opcodes.FETCH),
    FETCH_OR(0x40 | Opcodes.FETCH),
    FETCH_AND(0x50 | Opcodes.FETCH),
    FETCH_XOR(0xa0 | Opcodes.FETCH),
    /** {@code src = atomic_xchg((size *)(dst + off), src)}. */
    XCHG(0xe0 | Opcodes.FETCH),
    /** {@code r0 = atomic_cmpxchg((size *)(dst + off), r0, src)}. */
    CMPXCHG(0xf0 | Opcodes.FETCH);

    private final int imm;

    AtomicOp(int imm) {
        this.imm = imm;
    }

    /** The value of the instruction's imm field. */
    public int imm() {
        return imm;
    }

    /** The form that returns the old value: {@code ADD} gives {@code FETCH_ADD}; one that fetches already is itself. */
    public AtomicOp fetch() {
        return switch (this) {
            case ADD -> FETCH_ADD;
            case OR -> FETCH_OR;
            case AND -> FETCH_AND;
            case XOR -> FETCH_XOR;
            default -> this;
        };
    }

    /** The operation with this imm value, or empty if there is none. */
    public static Optional<AtomicOp> of(int imm) {
        for (AtomicOp op : values()) {
            if (op.imm == imm) {
                return Optional.of(op);
            }
        }
        return Optional.empty();
    }
}
