package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AssemblerTest {
    private final Assembler asm = new Assembler(Map.of("allow", 4)::get);

    private Insn one(String line) {
        Program p = asm.assemble(line);
        assertEquals(1, p.size(), line);
        return p.get(0);
    }

    @Test
    void scenarioExamples() {
        assertEquals(new Insn(ALU64 | MOV | X, 6, 1, 0, 0), one("r6 = r1"));
        assertEquals(new Insn(LDX | MEM | H, 7, 6, 0, 0), one("r7 = *(u16 *)(r6 +0)"));
        assertEquals(new Insn(JMP | JNE | K, 2, 0, 8, 1), one("if r2 != 0x1 goto pc+8"));
        assertEquals(new Insn(ST | MEM | W, 1, 0, 4, 16777343), one("*(u32 *)(r1 +4) = 16777343"));
        assertEquals(new Insn(ALU | MOV | K, 0, 0, 0, 1), one("w0 = 1"));
        assertEquals(new Insn(JMP | CALL, 0, 0, 0, 80), one("call bpf_get_current_cgroup_id#80"));
        assertEquals(new Insn(JMP | EXIT, 0, 0, 0, 0), one("exit"));
    }

    @Test
    void pastedLogLinesKeepOnlyTheInstruction() {
        assertEquals(new Insn(ALU64 | MOV | K, 0, 0, 0, 0), one("0: (b7) r0 = 0                        ; R0_w=0"));
        assertEquals(new Insn(STX | ATOMIC | DW, 1, 2, 0, ADD), one("  12: (db) lock *(u64 *)(r1 +0) += r2"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '@', value = {
        // constants: mov when it fits the sign-extended imm, LD_IMM64 with " ll", a (18) prefix or a wider value
        "r1 = 5@b7@1",
        "r1 = -0x10@b7@1",
        "r1 = 0x7fffffff@b7@1",
        "r1 = 0x80000000@18@2",
        "r1 = 0xffffffff@18@2",
        "r1 = -2147483649@18@2",
        "r1 = 0x5 ll@18@2",
        "(18) r1 = 0x5@18@2",
        "r1 = 0xffffffffffffffff@18@2",
        "w1 = 0xffffffff@b4@1",
        "r1 = map[allow]@18@2",
        "r1 = map[fd:9]@18@2",
    })
    void constantLoads(String line, String code, int slots) {
        Program p = asm.assemble(line);
        assertEquals(slots, p.size());
        assertEquals(Integer.parseInt(code, 16), p.get(0).code());
    }

    @Test
    void constantValues() {
        assertEquals(List.of(new Insn(LD_IMM64, 1, 0, 0, -1), new Insn(0, 0, 0, 0, 0)),
                asm.assemble("r1 = 0xffffffff").insns());
        assertEquals(new Insn(ALU | MOV | K, 1, 0, 0, -1), one("w1 = 0xffffffff"));
        assertEquals(List.of(new Insn(LD_IMM64, 1, PSEUDO_MAP_FD, 0, 4), new Insn(0, 0, 0, 0, 0)),
                asm.assemble("r1 = map[allow]").insns());
        assertEquals(List.of(new Insn(LD_IMM64, 1, PSEUDO_MAP_VALUE, 0, 4), new Insn(0, 0, 0, 0, 8)),
                asm.assemble("r1 = map[allow][0]+8").insns());
        assertEquals(new Insn(JMP | JEQ | K, 1, 0, 0, -1), one("if r1 == 0xffffffff goto pc+0"));
    }

    @Test
    void flexibleSpacingAndForms() {
        assertEquals(new Insn(LDX | MEM | W, 2, 1, -8, 0), one("r2=*(u32*)(r1-8)"));
        assertEquals(new Insn(LDX | MEM | W, 2, 1, 0, 0), one("r2 = *(u32 *)(r1)"));
        assertEquals(new Insn(JMP | CALL, 0, 0, 0, 1), one("call bpf_map_lookup_elem"));
        assertEquals(new Insn(ALU64 | ADD | K, 1, 0, 0, 16), one("r1 += 0x10"));
    }

    @Test
    void labelsAndComments() {
        Program p = asm.assemble("""
                # device allowlist
                    r2 = *(u32 *)(r1 +0)   // type
                    if r2 != 1 goto deny
                    r0 = 1
                    exit
                deny: r0 = 0
                    exit
                """);
        assertEquals(new Insn(JMP | JNE | K, 2, 0, 2, 1), p.get(1));
        assertEquals(6, p.size());
        Program back = asm.assemble("loop:\n r1 += 1\n goto loop\n gotol loop\n call loop\n exit");
        assertEquals(-2, back.get(1).off());
        assertEquals(-3, back.get(2).imm());
        assertEquals(new Insn(JMP | CALL, 0, PSEUDO_CALL, 0, -4), back.get(3));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '@', value = {
        "r1 = r2 r3@1@9@unexpected 'r3'",
        "r11 = 1@1@1@register r11 does not exist (r0..r10)",
        "r1 += w2@1@7@expected a 64-bit r register, found w2",
        "frob@1@1@expected an instruction, found 'frob'",
        "r1 = *(u24 *)(r2 +0)@1@8@expected u8, u16, u32, u64, s8, s16 or s32",
        "r1 = *(u32 *)(r2 +40000)@1@18@offset 40000 is out of range [-32768, 32767]",
        "r1 += 0x80000000@1@7@immediate 2147483648 is out of range [-2147483648, 2147483647]",
        "goto pc+40000@1@6@jump offset 40000 is out of range [-32768, 32767]",
        "goto nowhere@1@6@unknown label 'nowhere'",
        "r1 = map[deny]@1@10@unknown map 'deny'",
        "call bpf_map_lookup_elem#2@1@6@bpf_map_lookup_elem is helper #1, not #2",
        "call bpf_no_such_helper@1@6@unknown helper 'bpf_no_such_helper'",
        "r1 = be16 r2@1@11@expected r1 here (the instruction reads and writes one register), found r2",
        "r1 = 0x5 ll extra@1@13@unexpected 'extra'",
        "r1 = le24 r1@1@8@byte swap width 24 is not 16, 32 or 64",
        "r1 = r2@1@1@OK",
    })
    void errorsNameLineAndColumn(String line, int l, int col, String reason) {
        if (reason.equals("OK")) {
            asm.assemble(line);
            return;
        }
        AsmSyntaxException e = assertThrows(AsmSyntaxException.class, () -> asm.assemble("\n".repeat(l - 1) + line));
        assertEquals("line " + l + " col " + col + ": " + reason, e.getMessage());
    }

    @Test
    void errorsOnLaterLinesAndEncodingErrors() {
        AsmSyntaxException e = assertThrows(AsmSyntaxException.class, () -> asm.assemble("r0 = 0\n\nr1 /= r2 r3"));
        assertEquals(3, e.line());
        assertEquals("line 2 col 1: label 'a' is defined twice",
                assertThrows(AsmSyntaxException.class, () -> asm.assemble("a: exit\na: exit")).getMessage());
        // Encoding.check runs on the result; its reason is reported at the instruction's line
        assertEquals("line 2 col 1: atomic operand size must be u32 or u64",
                assertThrows(AsmSyntaxException.class, () -> asm.assemble("exit\nlock *(u8 *)(r1 +0) += r2")).getMessage());
        assertEquals("line 1 col 1: load_acquire (atomic imm 0x100) is a kernel extension beyond RFC 9669, not supported",
                assertThrows(AsmSyntaxException.class, () -> asm.assemble("r1 = load_acquire((u64 *)(r2 +0))")).getMessage());
    }

    @Test
    void longJumpsNeedGotol() {
        StringBuilder b = new StringBuilder("goto far\n");
        b.append("r0 = 0\n".repeat(40000)).append("far: exit\n");
        AsmSyntaxException e = assertThrows(AsmSyntaxException.class, () -> asm.assemble(b.toString()));
        assertEquals("line 1 col 6: label 'far' is 40000 slots away, beyond a 16-bit jump offset (gotol reaches further)",
                e.getMessage());
        assertEquals(40000, asm.assemble(b.toString().replaceFirst("goto", "gotol")).get(0).imm());
    }
}
