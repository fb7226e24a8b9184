package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Encoding rejects, one per rule. The native DisasmGoldenTest checks the same rules against the
 * kernel (what Encoding rejects, the kernel rejects with EINVAL).
 */
class EncodingTest {
    private static String reject(Insn... slots) {
        List<Insn> all = new java.util.ArrayList<>(List.of(new Insn(ALU64 | MOV | K, 0, 0, 0, 0)));
        all.addAll(List.of(slots));
        all.add(new Insn(JMP | EXIT, 0, 0, 0, 0));
        return assertThrows(MalformedProgramException.class, () -> Encoding.check(new Program(all))).getMessage();
    }

    @ParameterizedTest(name = "{5}")
    @CsvSource(delimiter = '@', value = {
        "0x00@0@0@0@0@insn 1: unknown opcode 0x00",
        "0xe7@1@0@0@0@insn 1: unknown opcode 0xe7",
        "0x8c@1@2@0@0@insn 1: unknown opcode 0x8c",
        "0x87@1@0@0@1@insn 1: neg uses reserved fields (src, off and imm must be 0)",
        "0xd4@1@0@0@8@insn 1: end width imm=8 is not 16, 32 or 64",
        "0xd7@1@0@0@24@insn 1: bswap width imm=24 is not 16, 32 or 64",
        "0xdf@1@0@0@16@insn 1: unknown opcode 0xdf",
        "0xd4@1@1@0@16@insn 1: end uses reserved fields (src and off must be 0)",
        "0x07@1@2@0@1@insn 1: alu64 uses reserved field src=2",
        "0x0f@1@2@0@1@insn 1: alu64 uses reserved field imm=1",
        "0x0f@1@2@1@0@insn 1: alu64 offset 1 (signed) applies only to div and mod",
        "0x3f@1@2@2@0@insn 1: alu64 uses reserved field off=2",
        "0xb7@1@0@1@0@insn 1: alu64 mov uses reserved fields (src and off must be 0)",
        "0xbc@1@2@32@0@insn 1: alu movsx offset 32 is not 8 or 16",
        "0xbf@1@2@24@0@insn 1: alu64 movsx offset 24 is not 8, 16 or 32",
        "0xbf@1@2@1@1@insn 1: alu64 mov uses reserved field imm=1",
        "0xbf@1@2@1@0@insn 1: addr_space_cast (mov off=1) is a kernel extension beyond RFC 9669, not supported",
        "0xbf@11@2@0@0@insn 1: dst register r11 does not exist (r0..r10)",
        "0x0f@1@15@0@0@insn 1: src register r15 does not exist (r0..r10)",
        "0x15@1@1@0@0@insn 1: jmp uses reserved field src=1",
        "0x1e@1@2@0@1@insn 1: jmp32 uses reserved field imm=1",
        "0x05@0@0@0@1@insn 1: goto uses reserved field imm=1 (its target is in off)",
        "0x06@0@0@1@0@insn 1: gotol uses reserved field off=1 (its target is in imm)",
        "0x05@1@0@0@0@insn 1: goto uses reserved fields (dst and src must be 0)",
        "0x0d@0@0@0@0@insn 1: gotox (jmp|ja|x) is a kernel extension beyond RFC 9669, not supported",
        "0xe5@0@0@0@0@insn 1: may_goto (jmp|jcond) is a kernel extension beyond RFC 9669, not supported",
        "0x85@1@0@0@1@insn 1: call uses reserved field dst=1",
        "0x85@0@3@0@1@insn 1: call has unknown source src=3 (0 helper, 1 bpf-to-bpf call, 2 kfunc)",
        "0x85@0@1@1@1@insn 1: call uses reserved field off=1",
        "0x86@0@0@0@1@insn 1: unknown opcode 0x86",
        "0x8d@0@0@0@1@insn 1: unknown opcode 0x8d",
        "0x95@0@0@0@1@insn 1: exit uses reserved fields (dst, src and imm must be 0)",
        "0x96@0@0@0@0@insn 1: unknown opcode 0x96",
        "0x30@1@0@0@0@insn 1: ld_abs uses reserved fields (dst, off, src must be 0)",
        "0x40@0@1@1@0@insn 1: ld_ind uses reserved fields (dst, off must be 0)",
        "0x38@0@0@0@0@insn 1: unknown opcode 0x38",
        "0x60@0@0@0@0@insn 1: unknown opcode 0x60",
        "0x61@1@2@0@1@insn 1: ldx uses reserved field imm=1",
        "0x99@1@2@0@0@insn 1: unknown opcode 0x99",
        "0x62@1@2@0@0@insn 1: st uses reserved field src=2",
        "0xc2@0@0@0@0@insn 1: nospec (st|0xc0) is kernel-internal, not an instruction",
        "0x63@1@2@0@1@insn 1: stx uses reserved field imm=1",
        "0xd3@1@2@0@0@insn 1: atomic operand size must be u32 or u64",
        "0xc3@1@2@0@0x10@insn 1: atomic has unknown operation imm=0x10",
        "0xc3@1@2@0@0xe0@insn 1: atomic has unknown operation imm=0xe0",
        "0xdb@1@2@0@0x100@insn 1: load_acquire (atomic imm 0x100) is a kernel extension beyond RFC 9669, not supported",
        "0xdb@1@2@0@0x110@insn 1: store_release (atomic imm 0x110) is a kernel extension beyond RFC 9669, not supported",
    })
    void rejects(String code, int dst, int src, int off, String imm, String message) {
        assertEquals(message, reject(new Insn(Integer.decode(code), dst, src, off, Integer.decode(imm))));
    }

    @Test
    void ldImm64Pairs() {
        assertEquals("insn 1: ld_imm64 second slot must be all zero except imm (code=0x95 dst=0 src=0 off=0)",
                reject(new Insn(LD_IMM64, 1, 0, 0, 0)));
        assertEquals("insn 1: ld_imm64 second slot must be all zero except imm (code=0x00 dst=1 src=0 off=0)",
                reject(new Insn(LD_IMM64, 1, 0, 0, 0), new Insn(0, 1, 0, 0, 0)));
        assertEquals("insn 1: ld_imm64 uses reserved field off=2",
                reject(new Insn(LD_IMM64, 1, 0, 2, 0), new Insn(0, 0, 0, 0, 0)));
        assertEquals("insn 1: ld_imm64 has unknown pseudo source src=7",
                reject(new Insn(LD_IMM64, 1, 7, 0, 0), new Insn(0, 0, 0, 0, 0)));
        assertEquals("insn 1: ld_imm64 of a map (src=1) must have imm=0 in its second slot, not 3",
                reject(new Insn(LD_IMM64, 1, PSEUDO_MAP_FD, 0, 4), new Insn(0, 0, 0, 0, 3)));
        assertEquals("insn 1: ld_imm64 of a map (src=5) must have imm=0 in its second slot, not 3",
                reject(new Insn(LD_IMM64, 1, PSEUDO_MAP_IDX, 0, 4), new Insn(0, 0, 0, 0, 3)));
        assertEquals("insn 0: ld_imm64 is missing its second slot",
                assertThrows(MalformedProgramException.class,
                        () -> Encoding.check(Program.of(new Insn(LD_IMM64, 1, 0, 0, 0)))).getMessage());
        // a second slot is not decoded as an instruction of its own: opcode 0 is fine there
        assertDoesNotThrow(() -> Encoding.check(Program.of(new Insn(LD_IMM64, 1, PSEUDO_MAP_VALUE, 0, 4),
                new Insn(0, 0, 0, 0, 12), new Insn(JMP | EXIT, 0, 0, 0, 0))));
    }

    @Test
    void acceptsWhatTheKernelAccepts() {
        // exit's offset is ignored by the kernel (checked in DisasmGoldenTest), so it is accepted here
        assertDoesNotThrow(() -> Encoding.check(Program.of(new Insn(JMP | EXIT, 0, 0, 5, 0))));
        // a kfunc call carries the BTF fd index in off
        assertDoesNotThrow(() -> Encoding.check(Program.of(new Insn(JMP | CALL, 0, PSEUDO_KFUNC_CALL, 1, 99))));
        assertDoesNotThrow(() -> Encoding.check(Program.of(new Insn(ALU | DIV | X, 1, 2, 1, 0),
                new Insn(ALU64 | MOD | K, 1, 0, 1, -3), new Insn(JMP32 | JA, 0, 0, 0, 100000))));
    }

    @Test
    void decodeRejectsBadBytes() {
        byte[] bytes = Program.of(new Insn(ALU64 | MOV | K, 0, 0, 0, 0), new Insn(0xe7, 0, 0, 0, 0)).encode();
        assertEquals("insn 1: unknown opcode 0xe7",
                assertThrows(MalformedProgramException.class, () -> Program.decode(bytes)).getMessage());
    }
}
