package dev.cgbpf.engine.jit;

/**
 * What an opcode byte is to the compiler, for exactly the opcodes the interpreter's switch runs;
 * every other byte is {@link #INVALID} (the interpreter's "invalid opcode" fault).
 */
enum InsnKind {
    ALU64, ALU32, JA, JA32, COND, CALL, EXIT, LD_IMM64, LDX, LDSX, ST, STX, ATOMIC, LD_ABS, INVALID;

    private static final InsnKind[] BY_CODE = new InsnKind[256];

    static {
        java.util.Arrays.fill(BY_CODE, INVALID);
        for (int op = 0x00; op <= 0xd0; op += 0x10) {
            if (op != 0x80) {
                BY_CODE[op | 0x07] = ALU64;
                BY_CODE[op | 0x0f] = ALU64;
                BY_CODE[op | 0x04] = ALU32;
                BY_CODE[op | 0x0c] = ALU32;
            }
        }
        // no NEG with a register operand; END is 0xd4/0xdc (to le/be) and 0xd7 (bswap) only
        BY_CODE[0x87] = ALU64;
        BY_CODE[0x84] = ALU32;
        BY_CODE[0xdf] = INVALID;
        for (int op : new int[] {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0}) {
            BY_CODE[op | 0x05] = COND;
            BY_CODE[op | 0x0d] = COND;
            BY_CODE[op | 0x06] = COND;
            BY_CODE[op | 0x0e] = COND;
        }
        BY_CODE[0x05] = JA;
        BY_CODE[0x06] = JA32;
        BY_CODE[0x85] = CALL;
        BY_CODE[0x95] = EXIT;
        BY_CODE[0x18] = LD_IMM64;
        for (int c : new int[] {0x61, 0x69, 0x71, 0x79}) {
            BY_CODE[c] = LDX;
        }
        for (int c : new int[] {0x81, 0x89, 0x91}) {
            BY_CODE[c] = LDSX;
        }
        for (int c : new int[] {0x62, 0x6a, 0x72, 0x7a}) {
            BY_CODE[c] = ST;
        }
        for (int c : new int[] {0x63, 0x6b, 0x73, 0x7b}) {
            BY_CODE[c] = STX;
        }
        BY_CODE[0xc3] = ATOMIC;
        BY_CODE[0xdb] = ATOMIC;
        for (int c : new int[] {0x20, 0x28, 0x30, 0x40, 0x48, 0x50}) {
            BY_CODE[c] = LD_ABS;
        }
    }

    static InsnKind of(int code) {
        return BY_CODE[code & 0xff];
    }

    /** Bytes moved by a load, store or LD_ABS of opcode {@code code} (its size bits). */
    static int size(int code) {
        return switch (code & 0x18) {
            case 0x00 -> 4;
            case 0x08 -> 2;
            case 0x10 -> 1;
            default -> 8;
        };
    }
}
