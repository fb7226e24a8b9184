package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.Reg.*;
import static java.util.Map.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The typed operations of {@link Asm}. That a jump operation cannot be passed where an ALU
 * operation belongs is the compiler's to check; what a test can check is that each constant
 * carries the kernel's value and that programs built through the typed API are the bytes they
 * were when the builder took ints.
 */
class TypedOpcodesTest {
    // include/uapi/linux/bpf.h and bpf_common.h, copied by hand: BPF_<name> for each constant
    private static final Map<String, Integer> UAPI_ALU = Map.ofEntries(
            entry("BPF_ADD", 0x00), entry("BPF_SUB", 0x10), entry("BPF_MUL", 0x20), entry("BPF_DIV", 0x30),
            entry("BPF_OR", 0x40), entry("BPF_AND", 0x50), entry("BPF_LSH", 0x60), entry("BPF_RSH", 0x70),
            entry("BPF_NEG", 0x80), entry("BPF_MOD", 0x90), entry("BPF_XOR", 0xa0), entry("BPF_MOV", 0xb0),
            entry("BPF_ARSH", 0xc0), entry("BPF_END", 0xd0));
    private static final Map<String, Integer> UAPI_JMP = Map.ofEntries(
            entry("BPF_JA", 0x00), entry("BPF_JEQ", 0x10), entry("BPF_JGT", 0x20), entry("BPF_JGE", 0x30),
            entry("BPF_JSET", 0x40), entry("BPF_JNE", 0x50), entry("BPF_JSGT", 0x60), entry("BPF_JSGE", 0x70),
            entry("BPF_JLT", 0xa0), entry("BPF_JLE", 0xb0), entry("BPF_JSLT", 0xc0), entry("BPF_JSLE", 0xd0));
    private static final Map<String, Integer> UAPI_SIZE = Map.of(
            "BPF_W", 0x00, "BPF_H", 0x08, "BPF_B", 0x10, "BPF_DW", 0x18);
    /** BPF_FETCH is 0x01, BPF_XCHG (0xe0 | BPF_FETCH), BPF_CMPXCHG (0xf0 | BPF_FETCH). */
    private static final Map<String, Integer> UAPI_ATOMIC = Map.ofEntries(
            entry("ADD", 0x00), entry("OR", 0x40), entry("AND", 0x50), entry("XOR", 0xa0),
            entry("FETCH_ADD", 0x01), entry("FETCH_OR", 0x41), entry("FETCH_AND", 0x51), entry("FETCH_XOR", 0xa1),
            entry("XCHG", 0xe1), entry("CMPXCHG", 0xf1));

    @Test
    void constantsCarryTheUapiValues() {
        assertEquals(UAPI_ALU.size(), AluOp.values().length);
        for (AluOp op : AluOp.values()) {
            assertEquals(UAPI_ALU.get("BPF_" + op), op.bits(), op.name());
        }
        assertEquals(UAPI_JMP.size(), JumpOp.values().length);
        for (JumpOp op : JumpOp.values()) {
            assertEquals(UAPI_JMP.get("BPF_" + op), op.bits(), op.name());
        }
        assertEquals(UAPI_SIZE.size(), Size.values().length);
        for (Size s : Size.values()) {
            assertEquals(UAPI_SIZE.get("BPF_" + s), s.bits(), s.name());
            assertEquals(Opcodes.sizeBytes(s.bits()), s.bytes(), s.name());
        }
        assertEquals(UAPI_ATOMIC.size(), AtomicOp.values().length);
        for (AtomicOp op : AtomicOp.values()) {
            assertEquals(UAPI_ATOMIC.get(op.name()), op.imm(), op.name());
        }
        // the pair that made the int API dangerous
        assertEquals(AluOp.AND.bits(), JumpOp.JNE.bits());
    }

    /** The ints the decoding side (verifier, interpreter, disassembler) uses say the same. */
    @Test
    void opcodesIntsAgree() throws ReflectiveOperationException {
        for (AluOp op : AluOp.values()) {
            assertEquals(Opcodes.class.getField(op.name()).getInt(null), op.bits(), op.name());
        }
        for (JumpOp op : JumpOp.values()) {
            assertEquals(Opcodes.class.getField(op.name()).getInt(null), op.bits(), op.name());
        }
        for (Size s : Size.values()) {
            assertEquals(Opcodes.class.getField(s.name()).getInt(null), s.bits(), s.name());
        }
    }

    @Test
    void lookupsFromTheOpcodeByte() {
        for (int code = 0; code < 256; code++) {
            int op = code & 0xf0;
            assertEquals(op >= 0xe0 ? Optional.empty() : Optional.of(op), AluOp.of(code).map(AluOp::bits), "alu " + code);
            boolean jump = op != 0x80 && op != 0x90 && op < 0xe0; // call, exit, undefined
            assertEquals(jump ? Optional.of(op) : Optional.empty(), JumpOp.of(code).map(JumpOp::bits), "jmp " + code);
            assertEquals(code & 0x18, Size.of(code).bits(), "size " + code);
        }
        for (int imm = -1; imm < 0x200; imm++) {
            // RFC 9669's rule as Encoding had it before AtomicOp: an ALU atomic with or without
            // FETCH, or xchg/cmpxchg, which always fetch
            int base = imm & ~Opcodes.FETCH;
            boolean valid = base == 0x00 || base == 0x40 || base == 0x50 || base == 0xa0
                    || ((base == 0xe0 || base == 0xf0) && (imm & Opcodes.FETCH) != 0);
            assertEquals(valid, AtomicOp.of(imm).isPresent(), "imm " + imm);
            assertEquals(valid, Encoding.isAtomicOp(imm), "imm " + imm);
            AtomicOp.of(imm).ifPresent(a -> assertEquals(a.imm() | Opcodes.FETCH, a.fetch().imm(), a.name()));
        }
        for (JumpOp op : JumpOp.values()) {
            assertEquals(op != JumpOp.JA, op.conditional(), op.name());
        }
    }

    @Test
    void andAndJneStayApart() {
        Program p = new Asm().alu32(AluOp.AND, R1, 0x50).jmp32(JumpOp.JNE, R1, 0x50, "out")
                .alu64(AluOp.AND, R1, R2).jmp(JumpOp.JNE, R1, R2, "out").label("out").exit().build();
        assertEquals(0x54, p.get(0).code()); // ALU | K | AND
        assertEquals(0x56, p.get(1).code()); // JMP32 | K | JNE
        assertEquals(0x5f, p.get(2).code()); // ALU64 | X | AND
        assertEquals(0x5d, p.get(3).code()); // JMP | X | JNE
        assertEquals("540100005000000056010200500000005f210000000000005d210000000000009500000000000000", p.toHex());
        assertEquals(p, new Assembler().assemble("""
                w1 &= 0x50
                if w1 != 0x50 goto out
                r1 &= r2
                if r1 != r2 goto out
                out: exit
                """));
    }

    @Test
    void jaIsNoConditionalJump() {
        assertEquals("JA is not a conditional jump: use ja or gotol",
                assertThrows(IllegalArgumentException.class, () -> new Asm().jmp(JumpOp.JA, R0, 0, "x")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Asm().jmp32(JumpOp.JA, R1, R2, 0));
    }

    // The hex strings below are what the int-taking builder emitted for the same programs
    // (commit 24ec3fe, before the typed API); the assembler text is the verifier log's syntax.

    @Test
    void deviceBlockIsTheSameBytes() {
        Program p = new Asm()
                .ldxW(R2, R1, 0).alu32(AluOp.AND, R2, 0xffff)
                .ldxW(R3, R1, 0).alu32(AluOp.RSH, R3, 16)
                .ldxW(R4, R1, 4).ldxW(R5, R1, 8)
                .jmp32(JumpOp.JNE, R2, 2, "next").jmp32(JumpOp.JNE, R4, 1, "next").jmp32(JumpOp.JNE, R5, 3, "next")
                .movImm(R0, 1).exit()
                .label("next").movImm(R0, 0).exit().build();
        assertEquals("611200000000000054020000ffff00006113000000000000740300001000000061140400000000006115080000000000"
                + "560204000200000056040300010000005605020003000000b7000000010000009500000000000000"
                + "b7000000000000009500000000000000", p.toHex());
        assertEquals(p, new Assembler().assemble("""
                r2 = *(u32 *)(r1 +0)
                w2 &= 65535
                r3 = *(u32 *)(r1 +0)
                w3 >>= 16
                r4 = *(u32 *)(r1 +4)
                r5 = *(u32 *)(r1 +8)
                if w2 != 0x2 goto next
                if w4 != 0x1 goto next
                if w5 != 0x3 goto next
                r0 = 1
                exit
                next:
                r0 = 0
                exit
                """));
    }

    @Test
    void countedRefusalIsTheSameBytes() {
        Program p = new Asm().ldMapFd(R1, 7).mov(R2, R10).add(R2, -4).stW(R10, -4, 3)
                .call("bpf_map_lookup_elem").jeq(R0, 0, "counted").movImm(R1, 1).atomicAdd(Size.DW, R0, 0, R1)
                .label("counted").movImm(R0, 0).exit().build();
        assertEquals("18110000070000000000000000000000bfa200000000000007020000fcffffff620afcff03000000850000000100000015"
                + "00020000000000b701000001000000db10000000000000b7000000000000009500000000000000", p.toHex());
        assertEquals(p, new Assembler().assemble("""
                r1 = map[fd:7]
                r2 = r10
                r2 += -4
                *(u32 *)(r10 -4) = 3
                call bpf_map_lookup_elem#1
                if r0 == 0x0 goto counted
                r1 = 1
                lock *(u64 *)(r0 +0) += r1
                counted:
                r0 = 0
                exit
                """));
    }

    @Test
    void loadsStoresAndAtomicsAreTheSameBytes() {
        Program p = new Asm()
                .ldx(Size.B, R2, R1, 1).ldx(Size.H, R2, R1, 2).ldx(Size.W, R2, R1, 4).ldx(Size.DW, R2, R10, -8)
                .ldxs(Size.B, R3, R10, -1).ldxs(Size.H, R3, R10, -2).ldxs(Size.W, R3, R10, -4)
                .st(Size.B, R10, -1, 7).st(Size.H, R10, -2, 7).st(Size.W, R10, -4, 7).st(Size.DW, R10, -8, 7)
                .stx(Size.B, R10, -1, R2).stx(Size.H, R10, -2, R2).stx(Size.W, R10, -4, R2).stx(Size.DW, R10, -8, R2)
                .atomic(Size.W, AtomicOp.OR, R10, -4, R2).atomicFetch(Size.DW, AtomicOp.XOR, R10, -8, R2)
                .xchg(Size.DW, R10, -8, R2).cmpxchg(Size.W, R10, -4, R2)
                .ldAbs(Size.H, 12).ldInd(Size.B, R7, 4)
                .jmp(JumpOp.JSGT, R2, -1, 0).jmp(JumpOp.JSET, R2, R3, 1).movImm(R0, 0)
                .exit().build();
        assertEquals("71120100000000006912020000000000611204000000000079a2f8ff0000000091a3ffff0000000089a3feff00000000"
                + "81a3fcff00000000720affff070000006a0afeff07000000620afcff070000007a0af8ff07000000732affff00000000"
                + "6b2afeff00000000632afcff000000007b2af8ff00000000c32afcff40000000db2af8ffa1000000db2af8ffe1000000"
                + "c32afcfff1000000280000000c000000507000000400000065020000ffffffff4d32010000000000b700000000000000"
                + "9500000000000000", p.toHex());
        assertEquals(p, new Assembler().assemble("""
                r2 = *(u8 *)(r1 +1)
                r2 = *(u16 *)(r1 +2)
                r2 = *(u32 *)(r1 +4)
                r2 = *(u64 *)(r10 -8)
                r3 = *(s8 *)(r10 -1)
                r3 = *(s16 *)(r10 -2)
                r3 = *(s32 *)(r10 -4)
                *(u8 *)(r10 -1) = 7
                *(u16 *)(r10 -2) = 7
                *(u32 *)(r10 -4) = 7
                *(u64 *)(r10 -8) = 7
                *(u8 *)(r10 -1) = r2
                *(u16 *)(r10 -2) = r2
                *(u32 *)(r10 -4) = r2
                *(u64 *)(r10 -8) = r2
                lock *(u32 *)(r10 -4) |= r2
                r2 = atomic64_fetch_xor((u64 *)(r10 -8), r2)
                r2 = atomic64_xchg((u64 *)(r10 -8), r2)
                r0 = atomic_cmpxchg((u32 *)(r10 -4), r0, r2)
                r0 = *(u16 *)skb[12]
                r0 = *(u8 *)skb[r7 + 4]
                if r2 s> 0xffffffff goto pc+0
                if r2 & r3 goto pc+1
                r0 = 0
                exit
                """));
    }

    /** The kernel's disasm.c symbol of each ALU and jump operation, for the assembler text. */
    private static final Map<AluOp, String> ALU_SYMBOLS = Map.ofEntries(
            entry(AluOp.ADD, "+="), entry(AluOp.SUB, "-="), entry(AluOp.MUL, "*="), entry(AluOp.DIV, "/="),
            entry(AluOp.OR, "|="), entry(AluOp.AND, "&="), entry(AluOp.LSH, "<<="), entry(AluOp.RSH, ">>="),
            entry(AluOp.MOD, "%="), entry(AluOp.XOR, "^="), entry(AluOp.MOV, "="), entry(AluOp.ARSH, "s>>="));
    private static final Map<JumpOp, String> JMP_SYMBOLS = Map.ofEntries(
            entry(JumpOp.JEQ, "=="), entry(JumpOp.JGT, ">"), entry(JumpOp.JGE, ">="), entry(JumpOp.JSET, "&"),
            entry(JumpOp.JNE, "!="), entry(JumpOp.JSGT, "s>"), entry(JumpOp.JSGE, "s>="), entry(JumpOp.JLT, "<"),
            entry(JumpOp.JLE, "<="), entry(JumpOp.JSLT, "s<"), entry(JumpOp.JSLE, "s<="));

    /** Every two-operand ALU operation and every conditional jump, both widths, both sources. */
    @Test
    void everyOperationMatchesTheAssembler() {
        assertEquals(EnumSet.complementOf(EnumSet.of(AluOp.NEG, AluOp.END)), EnumSet.copyOf(ALU_SYMBOLS.keySet()));
        assertEquals(EnumSet.complementOf(EnumSet.of(JumpOp.JA)), EnumSet.copyOf(JMP_SYMBOLS.keySet()));
        Asm a = new Asm();
        List<String> text = new ArrayList<>();
        for (AluOp op : AluOp.values()) {
            String sym = ALU_SYMBOLS.get(op);
            if (sym == null) {
                continue;
            }
            a.alu64(op, R1, 3).alu64(op, R1, R2).alu32(op, R1, 3).alu32(op, R1, R2);
            text.addAll(List.of("r1 " + sym + " 3", "r1 " + sym + " r2", "w1 " + sym + " 3", "w1 " + sym + " w2"));
        }
        a.neg(R1).neg32(R1).be(R1, 16).le(R1, 32).bswap(R1, 64);
        text.addAll(List.of("r1 = -r1", "w1 = -w1", "r1 = be16 r1", "r1 = le32 r1", "r1 = bswap64 r1"));
        for (JumpOp op : JumpOp.values()) {
            String sym = JMP_SYMBOLS.get(op);
            if (sym == null) {
                continue;
            }
            a.jmp(op, R1, 5, "end").jmp(op, R1, R2, "end").jmp32(op, R1, 5, "end").jmp32(op, R1, R2, "end");
            text.addAll(List.of("if r1 " + sym + " 0x5 goto end", "if r1 " + sym + " r2 goto end",
                    "if w1 " + sym + " 0x5 goto end", "if w1 " + sym + " w2 goto end"));
        }
        a.label("end").exit();
        text.add("end: exit");
        Program built = a.build();
        assertEquals(new Assembler().assemble(text), built);
        // no two operations, widths or sources share an opcode byte
        assertEquals(built.size(), built.insns().stream().map(Insn::code).distinct().count());
    }
}
