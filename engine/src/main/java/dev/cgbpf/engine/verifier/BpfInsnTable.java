package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;

/**
 * bpf_opcode_in_insntable (kernel/bpf/core.c): the opcode bytes the kernel knows at all. Any
 * other byte is "unknown opcode XX" (EINVAL) before the program is analysed.
 */
final class BpfInsnTable {
    private static final boolean[] KNOWN = new boolean[256];

    static {
        int[] aluOps = {ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, MOD, XOR, MOV, ARSH};
        for (int cls : new int[] {ALU, ALU64}) {
            for (int op : aluOps) {
                KNOWN[cls | op | K] = true;
                KNOWN[cls | op | X] = true;
            }
            KNOWN[cls | NEG | K] = true;
        }
        KNOWN[ALU | END | TO_LE] = true;
        KNOWN[ALU | END | TO_BE] = true;
        KNOWN[ALU64 | END | TO_LE] = true;
        int[] conds = {JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, JLT, JLE, JSLT, JSLE};
        for (int cls : new int[] {JMP, JMP32}) {
            KNOWN[cls | JA | K] = true;
            for (int op : conds) {
                KNOWN[cls | op | K] = true;
                KNOWN[cls | op | X] = true;
            }
        }
        KNOWN[JMP | CALL | K] = true;
        KNOWN[JMP | EXIT | K] = true;
        KNOWN[JMP | 0xe0 | K] = true; // may_goto
        KNOWN[LD_IMM64] = true;
        for (int size : new int[] {W, H, B}) {
            KNOWN[LD | ABS | size] = true;
            KNOWN[LD | IND | size] = true;
            KNOWN[LDX | MEMSX | size] = true;
        }
        for (int size : new int[] {W, H, B, DW}) {
            KNOWN[LDX | MEM | size] = true;
            KNOWN[ST | MEM | size] = true;
            KNOWN[STX | MEM | size] = true;
            KNOWN[STX | ATOMIC | size] = true;
        }
    }

    private BpfInsnTable() {
    }

    static boolean known(int code) {
        return KNOWN[code & 0xff];
    }
}
