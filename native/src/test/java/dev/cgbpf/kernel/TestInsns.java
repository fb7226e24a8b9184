package dev.cgbpf.kernel;

import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;

/**
 * The few hand-encoded instructions the kernel-layer tests need, so that they do not depend on
 * the assembler (task A's) to test the bpf(2) layer.
 */
final class TestInsns {
    private TestInsns() {
    }

    static Insn movImm(int dst, int imm) {
        return new Insn(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, dst, 0, 0, imm);
    }

    static Insn movReg(int dst, int src) {
        return new Insn(Opcodes.ALU64 | Opcodes.MOV | Opcodes.X, dst, src, 0, 0);
    }

    static Insn addImm(int dst, int imm) {
        return new Insn(Opcodes.ALU64 | Opcodes.ADD | Opcodes.K, dst, 0, 0, imm);
    }

    static Insn ldxW(int dst, int src, int off) {
        return new Insn(Opcodes.LDX | Opcodes.MEM | Opcodes.W, dst, src, off, 0);
    }

    static Insn stxDw(int dst, int src, int off) {
        return new Insn(Opcodes.STX | Opcodes.MEM | Opcodes.DW, dst, src, off, 0);
    }

    static Insn jneImm(int dst, int imm, int off) {
        return new Insn(Opcodes.JMP | Opcodes.JNE | Opcodes.K, dst, 0, off, imm);
    }

    static Insn call(int helper) {
        return new Insn(Opcodes.JMP | Opcodes.CALL, 0, 0, 0, helper);
    }

    static Insn exit() {
        return new Insn(Opcodes.JMP | Opcodes.EXIT, 0, 0, 0, 0);
    }

    /** LD_IMM64 of a map fd: two slots. */
    static Insn[] ldMapFd(int dst, int fd) {
        return new Insn[] {
            new Insn(Opcodes.LD_IMM64, dst, Opcodes.PSEUDO_MAP_FD, 0, fd),
            new Insn(0, 0, 0, 0, 0)
        };
    }

    /** r0 = value; exit */
    static Program returning(int value) {
        return Program.of(movImm(0, value), exit());
    }
}
