package dev.cgbpf.engine.isa;

/**
 * The operand size of a load or store: bits 3-4 of its opcode, named as in
 * include/uapi/linux/bpf.h ({@code BPF_W} is {@link #W}).
 */
public enum Size {
    /** u8. */
    B(0x10, 1),
    /** u16. */
    H(0x08, 2),
    /** u32. */
    W(0x00, 4),
    /** u64. */
    DW(0x18, 8);

    private final int bits;
    private final int bytes;

    Size(int bits, int bytes) {
        this.bits = bits;
        this.bytes = bytes;
    }

    /** The size field: {@code class | mode | size.bits()} is the opcode byte. */
    public int bits() {
        return bits;
    }

    /** The bytes a load or store of this size moves. */
    public int bytes() {
        return bytes;
    }

    /** The size field of a load or store opcode byte (every value of the two bits is a size). */
    public static Size of(int code) {
        return switch (code & 0x18) {
            case 0x10 -> B;
            case 0x08 -> H;
            case 0x00 -> W;
            default -> DW;
        };
    }
}
