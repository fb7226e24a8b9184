package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Golden texts: slot fields to the kernel's line (format strings of kernel/bpf/disasm.c; the
 * native DisasmGoldenTest checks the same printer against the running kernel's log).
 */
class DisassemblerTest {
    private final Disassembler d = new Disassembler(Map.of(4, "allow")::get);

    private String line(int code, int dst, int src, int off, int imm) {
        return d.line(Program.of(new Insn(code, dst, src, off, imm)), 0);
    }

    @ParameterizedTest(name = "{5}")
    @CsvSource(delimiter = '@', value = {
        "0xbf@6@1@0@0@(bf) r6 = r1",
        "0xb7@0@0@0@-1@(b7) r0 = -1",
        "0xb4@0@0@0@1@(b4) w0 = 1",
        "0x07@1@0@0@-4@(07) r1 += -4",
        "0x0c@1@2@0@0@(0c) w1 += w2",
        "0x1f@1@2@0@0@(1f) r1 -= r2",
        "0x2f@1@2@0@0@(2f) r1 *= r2",
        "0x37@1@0@0@3@(37) r1 /= 3",
        "0x37@1@0@1@3@(37) r1 s/= 3",
        "0x3c@1@2@1@0@(3c) w1 s/= w2",
        "0x97@1@0@1@-3@(97) r1 s%= -3",
        "0x9c@1@2@0@0@(9c) w1 %= w2",
        "0x47@1@0@0@8@(47) r1 |= 8",
        "0x54@1@0@0@255@(54) w1 &= 255",
        "0x67@1@0@0@3@(67) r1 <<= 3",
        "0x7c@1@2@0@0@(7c) w1 >>= w2",
        "0xc7@1@0@0@63@(c7) r1 s>>= 63",
        "0xa7@1@0@0@-1@(a7) r1 ^= -1",
        "0x87@3@0@0@0@(87) r3 = -r3",
        "0x84@3@0@0@0@(84) w3 = -w3",
        "0xbf@1@2@8@0@(bf) r1 = (s8)r2",
        "0xbf@1@2@16@0@(bf) r1 = (s16)r2",
        "0xbf@1@2@32@0@(bf) r1 = (s32)r2",
        "0xbc@1@2@8@0@(bc) w1 = (s8)w2",
        "0xdc@1@0@0@16@(dc) r1 = be16 r1",
        "0xd4@1@0@0@64@(d4) r1 = le64 r1",
        "0xd7@1@0@0@32@(d7) r1 = bswap32 r1",
        "0x61@2@1@0@0@(61) r2 = *(u32 *)(r1 +0)",
        "0x69@7@6@4@0@(69) r7 = *(u16 *)(r6 +4)",
        "0x71@7@10@-1@0@(71) r7 = *(u8 *)(r10 -1)",
        "0x79@7@10@-8@0@(79) r7 = *(u64 *)(r10 -8)",
        "0x91@7@10@-8@0@(91) r7 = *(s8 *)(r10 -8)",
        "0x89@7@10@-8@0@(89) r7 = *(s16 *)(r10 -8)",
        "0x81@7@10@-8@0@(81) r7 = *(s32 *)(r10 -8)",
        "0x62@1@0@4@16777343@(62) *(u32 *)(r1 +4) = 16777343",
        "0x7a@10@0@-8@-1@(7a) *(u64 *)(r10 -8) = -1",
        "0x73@10@1@-1@0@(73) *(u8 *)(r10 -1) = r1",
        "0x6b@10@1@-2@0@(6b) *(u16 *)(r10 -2) = r1",
        "0xdb@1@2@0@0@(db) lock *(u64 *)(r1 +0) += r2",
        "0xc3@1@2@8@0x40@(c3) lock *(u32 *)(r1 +8) |= r2",
        "0xc3@1@2@8@0x50@(c3) lock *(u32 *)(r1 +8) &= r2",
        "0xdb@1@2@0@0xa0@(db) lock *(u64 *)(r1 +0) ^= r2",
        "0xdb@1@2@0@0x01@(db) r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)",
        "0xc3@1@2@-4@0x51@(c3) r2 = atomic_fetch_and((u32 *)(r1 -4), r2)",
        "0xc3@1@2@0@0x41@(c3) r2 = atomic_fetch_or((u32 *)(r1 +0), r2)",
        "0xdb@1@2@0@0xa1@(db) r2 = atomic64_fetch_xor((u64 *)(r1 +0), r2)",
        "0xdb@1@2@0@0xe1@(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)",
        "0xc3@1@2@0@0xf1@(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)",
        "0x30@0@0@0@12@(30) r0 = *(u8 *)skb[12]",
        "0x28@0@0@0@-2@(28) r0 = *(u16 *)skb[-2]",
        "0x40@0@7@0@-2@(40) r0 = *(u32 *)skb[r7 + -2]",
        "0x55@2@0@8@1@(55) if r2 != 0x1 goto pc+8",
        "0x15@2@0@-3@-1@(15) if r2 == 0xffffffff goto pc-3",
        "0x16@2@0@0@5@(16) if w2 == 0x5 goto pc+0",
        "0x2d@2@3@1@0@(2d) if r2 > r3 goto pc+1",
        "0x3e@2@3@1@0@(3e) if w2 >= w3 goto pc+1",
        "0xa5@2@0@1@0@(a5) if r2 < 0x0 goto pc+1",
        "0xb5@2@0@1@0@(b5) if r2 <= 0x0 goto pc+1",
        "0x45@2@0@1@4@(45) if r2 & 0x4 goto pc+1",
        "0x65@2@0@1@0@(65) if r2 s> 0x0 goto pc+1",
        "0x75@2@0@1@0@(75) if r2 s>= 0x0 goto pc+1",
        "0xc5@2@0@1@0@(c5) if r2 s< 0x0 goto pc+1",
        "0xdd@2@3@1@0@(dd) if r2 s<= r3 goto pc+1",
        "0x05@0@0@-1@0@(05) goto pc-1",
        "0x06@0@0@0@70000@(06) gotol pc+70000",
        "0x85@0@0@0@80@(85) call bpf_get_current_cgroup_id#80",
        "0x85@0@0@0@1@(85) call bpf_map_lookup_elem#1",
        "0x85@0@0@0@99999@(85) call unknown#99999",
        "0x85@0@0@0@-1@(85) call unknown#-1",
        "0x85@0@1@0@5@(85) call pc+5",
        "0x85@0@1@0@-9@(85) call pc-9",
        "0x85@0@2@0@1234@(85) call kernel-function#1234",
        "0x95@0@0@0@0@(95) exit",
    })
    void kernelLine(String code, int dst, int src, int off, String imm, String expected) {
        assertEquals(expected, line(Integer.decode(code), dst, src, off, Integer.decode(imm)));
        // the bare form is the same text without the opcode
        assertEquals(expected.substring(5), d.bare(Program.of(new Insn(Integer.decode(code), dst, src, off,
                Integer.decode(imm))), 0));
    }

    @Test
    void ldImm64() {
        Program p = Program.of(
                new Insn(LD_IMM64, 1, 0, 0, 0x9abcdef0), new Insn(0, 0, 0, 0, 0x12345678),
                new Insn(LD_IMM64, 2, 0, 0, -1), new Insn(0, 0, 0, 0, -1),
                new Insn(LD_IMM64, 3, 0, 0, 5), new Insn(0, 0, 0, 0, 0),
                new Insn(LD_IMM64, 1, PSEUDO_MAP_FD, 0, 4), new Insn(0, 0, 0, 0, 0),
                new Insn(LD_IMM64, 1, PSEUDO_MAP_FD, 0, 7), new Insn(0, 0, 0, 0, 0),
                new Insn(LD_IMM64, 1, PSEUDO_MAP_VALUE, 0, 4), new Insn(0, 0, 0, 0, -8),
                new Insn(LD_IMM64, 1, PSEUDO_BTF_ID, 0, 77), new Insn(0, 0, 0, 0, 0),
                new Insn(LD_IMM64, 1, PSEUDO_BTF_ID, 0, 77), new Insn(0, 0, 0, 0, 5),
                new Insn(LD_IMM64, 1, PSEUDO_FUNC, 0, 3), new Insn(0, 0, 0, 0, 0),
                new Insn(LD_IMM64, 1, PSEUDO_MAP_IDX, 0, 0), new Insn(0, 0, 0, 0, 0),
                new Insn(LD_IMM64, 1, PSEUDO_MAP_IDX_VALUE, 0, 2), new Insn(0, 0, 0, 0, 16),
                new Insn(JMP | EXIT, 0, 0, 0, 0));
        assertEquals(List.of(
                "0: (18) r1 = 0x123456789abcdef0",
                "2: (18) r2 = 0xffffffffffffffff",
                "4: (18) r3 = 0x5",
                "6: (18) r1 = map[allow]",
                "8: (18) r1 = map[fd:7]",
                "10: (18) r1 = map[allow][0]+4294967288",
                "12: (18) r1 = btf_id[77]",
                "14: (18) r1 = btf_id[77][btf_fd:5]",
                "16: (18) r1 = func[pc+3]",
                "18: (18) r1 = map[idx:0]",
                "20: (18) r1 = map[idx:2][0]+16",
                "22: (95) exit"), d.listing(p));
        assertEquals(List.of("r1 = 0x123456789abcdef0 ll", "r2 = 0xffffffffffffffff ll", "r3 = 0x5 ll"),
                d.bareLines(p).subList(0, 3));
    }

    @Test
    void withoutResolverMapsPrintTheirFd() {
        Program p = Program.of(new Insn(LD_IMM64, 1, PSEUDO_MAP_FD, 0, 4), new Insn(0, 0, 0, 0, 0));
        assertEquals("r1 = map[fd:4]", new Disassembler().bare(p, 0));
    }
}
