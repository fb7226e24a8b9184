package dev.cgbpf.engine.isa;

/**
 * The fields of an eBPF opcode byte, named as in include/uapi/linux/bpf.h and RFC 9669.
 *
 * <p>An opcode is {@code class | size | mode} for loads and stores and
 * {@code class | source | operation} for ALU and jump instructions.
 *
 * <p>These are plain ints, for the code that takes opcode bytes apart (encoding checks,
 * disassembler, interpreter, verifier). The int fields overlap ({@link #AND} and {@link #JNE} are
 * both 0x50), so instructions are built with {@link Asm}, which takes the typed {@link AluOp},
 * {@link JumpOp}, {@link Size} and {@link AtomicOp} instead.
 */
public final class Opcodes {
    private Opcodes() {
    }

    // instruction classes (low 3 bits)
    public static final int LD = 0x00;
    public static final int LDX = 0x01;
    public static final int ST = 0x02;
    public static final int STX = 0x03;
    public static final int ALU = 0x04;
    public static final int JMP = 0x05;
    public static final int JMP32 = 0x06;
    public static final int ALU64 = 0x07;

    // load/store sizes
    public static final int W = 0x00;
    public static final int H = 0x08;
    public static final int B = 0x10;
    public static final int DW = 0x18;

    // load/store modes
    public static final int IMM = 0x00;
    public static final int ABS = 0x20;
    public static final int IND = 0x40;
    public static final int MEM = 0x60;
    public static final int MEMSX = 0x80;
    public static final int ATOMIC = 0xc0;

    // operand source
    public static final int K = 0x00;
    public static final int X = 0x08;

    // ALU operations (high 4 bits)
    public static final int ADD = 0x00;
    public static final int SUB = 0x10;
    public static final int MUL = 0x20;
    public static final int DIV = 0x30;
    public static final int OR = 0x40;
    public static final int AND = 0x50;
    public static final int LSH = 0x60;
    public static final int RSH = 0x70;
    public static final int NEG = 0x80;
    public static final int MOD = 0x90;
    public static final int XOR = 0xa0;
    public static final int MOV = 0xb0;
    public static final int ARSH = 0xc0;
    public static final int END = 0xd0;

    // byte-swap direction, in the source bit of END (ALU class); ALU64|END is the unconditional bswap
    public static final int TO_LE = 0x00;
    public static final int TO_BE = 0x08;

    // jump operations (high 4 bits)
    public static final int JA = 0x00;
    public static final int JEQ = 0x10;
    public static final int JGT = 0x20;
    public static final int JGE = 0x30;
    public static final int JSET = 0x40;
    public static final int JNE = 0x50;
    public static final int JSGT = 0x60;
    public static final int JSGE = 0x70;
    public static final int CALL = 0x80;
    public static final int EXIT = 0x90;
    public static final int JLT = 0xa0;
    public static final int JLE = 0xb0;
    public static final int JSLT = 0xc0;
    public static final int JSLE = 0xd0;

    // atomic operations, carried in imm of STX|ATOMIC
    public static final int FETCH = 0x01;
    public static final int XCHG = 0xe0 | FETCH;
    public static final int CMPXCHG = 0xf0 | FETCH;

    // src_reg of LD_IMM64: what the 64-bit constant means
    public static final int PSEUDO_MAP_FD = 1;
    public static final int PSEUDO_MAP_VALUE = 2;
    public static final int PSEUDO_BTF_ID = 3;
    public static final int PSEUDO_FUNC = 4;
    public static final int PSEUDO_MAP_IDX = 5;
    public static final int PSEUDO_MAP_IDX_VALUE = 6;

    // src_reg of CALL: helper id in imm, or a bpf-to-bpf call with a relative target in imm
    public static final int PSEUDO_CALL = 1;
    public static final int PSEUDO_KFUNC_CALL = 2;

    /** The opcode byte of the first slot of a 64-bit immediate load. */
    public static final int LD_IMM64 = LD | IMM | DW;

    public static int cls(int code) {
        return code & 0x07;
    }

    public static int size(int code) {
        return code & 0x18;
    }

    public static int mode(int code) {
        return code & 0xe0;
    }

    public static int op(int code) {
        return code & 0xf0;
    }

    public static int src(int code) {
        return code & 0x08;
    }

    /** Bytes moved by a load or store of the given size field. */
    public static int sizeBytes(int size) {
        return switch (size) {
            case W -> 4;
            case H -> 2;
            case B -> 1;
            case DW -> 8;
            default -> throw new IllegalArgumentException("size field " + size);
        };
    }
}
