package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.AluOp.*;
import static dev.cgbpf.engine.isa.JumpOp.*;
import static dev.cgbpf.engine.isa.Opcodes.CALL;
import static dev.cgbpf.engine.isa.Opcodes.JMP;
import static dev.cgbpf.engine.isa.Opcodes.JMP32;
import static dev.cgbpf.engine.isa.Opcodes.PSEUDO_CALL;
import static dev.cgbpf.engine.isa.Size.*;
import static dev.cgbpf.engine.isa.Reg.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class AsmTest {
    @Test
    void deviceFilterExample() {
        Program p = new Asm().ldxW(R2, R1, 0).jne(R2, 1, "deny").movImm(R0, 1).exit()
                .label("deny").movImm(R0, 0).exit().build();
        assertEquals(List.of(
                "r2 = *(u32 *)(r1 +0)",
                "if r2 != 0x1 goto pc+2",
                "r0 = 1",
                "exit",
                "r0 = 0",
                "exit"), new Disassembler().bareLines(p));
    }

    @Test
    void everyClassMatchesTheAssembler() {
        Program built = new Asm()
                .label("top")
                .add(R1, R2).sub(R1, 3).mul(R1, R2).div(R1, 4).mod(R1, R2).sdiv(R1, -2).smod(R1, R2)
                .or(R1, 1).and(R1, R2).xor(R1, -1).lsh(R1, 3).rsh(R1, R2).arsh(R1, 63).neg(R1).neg32(R2)
                .alu32(ADD, R1, R2).alu32(SUB, R1, 7).sdiv32(R1, R2).smod32(R1, 3)
                .mov(R1, R2).movImm(R1, -5).mov32(R1, R2).movImm32(R1, 5).movsx(R1, R2, 32).movsx32(R1, R2, 16)
                .be(R1, 16).le(R1, 32).bswap(R1, 64)
                .jeq(R1, 1, "top").jgt(R1, R2, "end").jmp32(JSLE, R1, -1, "end").jmp32(JSET, R1, R2, "top")
                .ja("end").gotol("top")
                .ldxB(R1, R10, -1).ldxH(R1, R10, -2).ldxDW(R1, R10, -8).ldxs(W, R1, R10, -4)
                .stxB(R10, -1, R1).stxH(R10, -2, R1).stxW(R10, -4, R1).stxDW(R10, -8, R1)
                .stB(R10, -1, 1).stH(R10, -2, 2).stW(R10, -4, 3).stDW(R10, -8, -4)
                .ldAbs(H, 12).ldInd(B, R7, 4)
                .ldImm64(R1, 0x1122334455667788L).ldMapFd(R1, 5).ldMapValue(R2, 5, 8)
                .atomicAdd(W, R1, 0, R2).atomicOr(DW, R1, 8, R2).atomicAnd(W, R1, 0, R2).atomicXor(DW, R1, 0, R2)
                .atomicFetch(DW, AtomicOp.ADD, R1, 0, R2).xchg(W, R1, 0, R3).cmpxchg(DW, R1, 0, R3)
                .call("bpf_get_current_cgroup_id").call(1).callLabel("top")
                .label("end").exit()
                .build();
        String text = String.join("\n", new Disassembler().bareLines(built));
        assertEquals(built, new Assembler().assemble(text));
        // labels resolve to slot indexes: "end" is the final exit, "top" is slot 0
        for (int i = 0; i < built.size(); i++) {
            Insn insn = built.get(i);
            if (insn.code() == (JMP | JA.bits())) {
                assertEquals(built.size() - 1, i + 1 + insn.off(), "goto end");
            }
            if (insn.code() == (JMP32 | JA.bits()) || (insn.code() == (JMP | CALL) && insn.src() == PSEUDO_CALL)) {
                assertEquals(0, i + 1 + insn.imm(), "gotol/call top");
            }
        }
    }

    @Test
    void labelErrors() {
        assertEquals("insn 0: label 'nowhere' is not defined",
                assertThrows(IllegalArgumentException.class, () -> new Asm().ja("nowhere").exit().build()).getMessage());
        assertEquals("label 'a' is defined twice",
                assertThrows(IllegalArgumentException.class, () -> new Asm().label("a").exit().label("a")).getMessage());
        Asm far = new Asm().jeq(R1, 0, "far");
        for (int i = 0; i < 40000; i++) {
            far.movImm(R0, 0);
        }
        far.label("far").exit();
        assertEquals("insn 0: label 'far' is 40000 slots away, beyond a 16-bit jump offset (gotol reaches further)",
                assertThrows(IllegalArgumentException.class, far::build).getMessage());
        assertEquals("unknown helper 'bpf_nope'",
                assertThrows(IllegalArgumentException.class, () -> new Asm().call("bpf_nope")).getMessage());
        // the result is checked: a bad width is an encoding error naming the instruction
        assertEquals("insn 0: bswap width imm=8 is not 16, 32 or 64",
                assertThrows(MalformedProgramException.class, () -> new Asm().bswap(R1, 8).exit().build()).getMessage());
    }
}
