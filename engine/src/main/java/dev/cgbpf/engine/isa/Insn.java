package dev.cgbpf.engine.isa;

/**
 * One 8-byte eBPF instruction slot, as the kernel stores it ({@code struct bpf_insn}).
 *
 * <p>A 64-bit immediate load occupies two slots, exactly as in the kernel, so that jump offsets
 * and instruction indexes here mean what they mean in a verifier log. The second slot has opcode
 * 0 and carries the upper 32 bits in {@code imm}.
 *
 * @param code the opcode byte, 0..255
 * @param dst destination register field, 0..15 (the verifier rejects values above 10)
 * @param src source register field, 0..15
 * @param off signed 16-bit offset
 * @param imm signed 32-bit immediate
 */
public record Insn(int code, int dst, int src, int off, int imm) {

    public static final int SIZE = 8;

    public Insn {
        if (code < 0 || code > 0xff) {
            throw new IllegalArgumentException("opcode " + code + " does not fit a byte");
        }
        if (dst < 0 || dst > 0xf || src < 0 || src > 0xf) {
            throw new IllegalArgumentException("register fields dst=" + dst + " src=" + src + " do not fit 4 bits");
        }
        if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + off + " does not fit 16 bits");
        }
    }

    public int cls() {
        return Opcodes.cls(code);
    }

    /** True for the first slot of a 64-bit immediate load (opcode 0x18). */
    public boolean isLdImm64() {
        return code == Opcodes.LD_IMM64;
    }

    /** Writes this slot in the kernel's little-endian layout: code, dst:4|src:4, off, imm. */
    public void encode(byte[] out, int at) {
        out[at] = (byte) code;
        out[at + 1] = (byte) ((src << 4) | dst);
        out[at + 2] = (byte) off;
        out[at + 3] = (byte) (off >> 8);
        out[at + 4] = (byte) imm;
        out[at + 5] = (byte) (imm >> 8);
        out[at + 6] = (byte) (imm >> 16);
        out[at + 7] = (byte) (imm >> 24);
    }

    /** Reads one slot; never fails (any 8 bytes are a slot; {@link Program#decode} judges them). */
    public static Insn decode(byte[] in, int at) {
        int code = in[at] & 0xff;
        int regs = in[at + 1] & 0xff;
        int off = (short) ((in[at + 2] & 0xff) | (in[at + 3] << 8));
        int imm = (in[at + 4] & 0xff) | ((in[at + 5] & 0xff) << 8) | ((in[at + 6] & 0xff) << 16) | (in[at + 7] << 24);
        return new Insn(code, regs & 0xf, regs >>> 4, off, imm);
    }
}
