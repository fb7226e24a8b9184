package dev.cgbpf.engine.conformance;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static dev.cgbpf.engine.conformance.RfcReference.alu;
import static dev.cgbpf.engine.conformance.RfcReference.bigEndian;
import static dev.cgbpf.engine.conformance.RfcReference.cond;
import static dev.cgbpf.engine.conformance.RfcReference.littleEndianSlice;
import static dev.cgbpf.engine.conformance.RfcReference.reverseBytes;
import static dev.cgbpf.engine.conformance.RfcReference.signExtend;

/**
 * The instruction conformance table: every opcode of RFC 9669 that a socket_filter may use, on
 * the edge values where implementations differ. Each program is written to pass the kernel
 * verifier (registers and stack initialised before use, no constant divisor 0, constant shifts
 * below the width, r0 a scalar at exit), so native/ can run every case on the host kernel and on
 * the engine and compare both with {@link ConformanceCase#expected()}.
 *
 * <p>Expected values come from {@link RfcReference} or are written by hand for the special
 * cases (each hand value is also checked against the reference in ConformanceTableTest).
 */
public final class ConformanceTable {
    /** SKF_NET_OFF / SKF_LL_OFF of linux/filter.h. */
    static final int SKF_NET_OFF = -0x100000;
    static final int SKF_LL_OFF = -0x200000;

    /** The default frame: to us (zero MAC, the loopback address), IPv4, 50 bytes of payload without a zero byte. */
    public static final byte[] DEFAULT_PACKET = defaultPacket();

    private static byte[] defaultPacket() {
        byte[] p = new byte[64];
        for (int i = 6; i < 12; i++) {
            p[i] = (byte) (0xa0 + i);
        }
        p[12] = 0x08;
        p[13] = 0x00;
        for (int i = 14; i < p.length; i++) {
            p[i] = (byte) (0x45 + 0x11 * (i - 14));
            if (p[i] == 0) {
                p[i] = 0x5a;
            }
        }
        return p;
    }

    static final long[] VALUES64 = {
        0L, 1L, -1L, 7L, -7L, 3L, -3L, Long.MIN_VALUE, Long.MAX_VALUE, 0x80000000L, 0x7fffffffL, 0xffffffffL,
        0x100000000L, 0x123456789abcdef0L, 0xfedcba9876543210L, 0xffffffff80000000L, 0x00000001fffffffeL,
    };

    /** (dst, src) pairs every binary ALU operation runs on, 64- and 32-bit. */
    static final long[][] PAIRS = {
        {7, 3}, {-7, 3}, {7, -3}, {-7, -3},
        {0x123456789abcdef0L, 0x0fedcba987654321L},
        {0xffffffffL, 1}, {0x100000005L, 0x100000003L},
        {Long.MIN_VALUE, -1}, {0xffffffff80000000L, 0xffffffffffffffffL},
    };

    static final String[] BINARY_OPS = {"+=", "-=", "*=", "/=", "s/=", "%=", "s%=", "|=", "&=", "^=", "<<=", ">>=", "s>>="};
    static final String[] JUMP_OPS = {"==", "!=", ">", ">=", "<", "<=", "s>", "s>=", "s<", "s<=", "&"};

    private final List<ConformanceCase> cases = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    private ConformanceTable() {
    }

    /** All cases, in a stable order. */
    public static List<ConformanceCase> all() {
        ConformanceTable t = new ConformanceTable();
        t.aluRegister();
        t.aluImmediate();
        t.shiftsByRegister();
        t.divisionEdges();
        t.movesAndNeg();
        t.byteSwaps();
        t.jumps();
        t.loadsAndStores();
        t.atomics();
        t.ldImm64();
        t.packetLoads();
        t.calls();
        return Collections.unmodifiableList(t.cases);
    }

    // ------------------------------------------------------------------ helpers

    private void add(String name, long expected, List<String> body) {
        add(name, expected, body, List.of(), DEFAULT_PACKET);
    }

    private void add(String name, long expected, List<String> body, List<String> subprogs, byte[] packet) {
        if (!names.add(name)) {
            throw new IllegalStateException("duplicate conformance case name " + name);
        }
        cases.add(new ConformanceCase(name, body, subprogs, expected, packet));
    }

    /** A constant load: mov when the value is a sign-extended 32-bit immediate, else ld_imm64. */
    static String ld(int reg, long v) {
        if (v == (int) v) {
            return "r" + reg + " = " + v;
        }
        return "r" + reg + " = 0x" + Long.toHexString(v) + " ll";
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private static String reg(int bits, int n) {
        return (bits == 32 ? "w" : "r") + n;
    }

    // ------------------------------------------------------------------ ALU

    private void aluRegister() {
        for (int bits : new int[] {64, 32}) {
            for (String op : BINARY_OPS) {
                for (long[] p : PAIRS) {
                    long a = p[0];
                    long b = p[1];
                    add("alu" + bits + " " + op + " reg " + hex(a) + "," + hex(b), alu(op, bits, a, b),
                            List.of(ld(0, a), ld(1, b), reg(bits, 0) + " " + op + " " + reg(bits, 1)));
                }
            }
        }
    }

    private void aluImmediate() {
        // imm is sign-extended to 64 bits for ALU64 (then unsigned for / and %), its 32 bits for ALU
        int[] imms = {5, -5, 0x7fffffff, Integer.MIN_VALUE};
        long dst = 0x876543210fedcba9L;
        for (int bits : new int[] {64, 32}) {
            for (String op : BINARY_OPS) {
                boolean shift = op.contains("<<") || op.contains(">>");
                for (int imm : shift ? new int[] {1, bits - 1} : imms) {
                    add("alu" + bits + " " + op + " imm " + hex(dst) + "," + imm, alu(op, bits, dst, imm),
                            List.of(ld(0, dst), reg(bits, 0) + " " + op + " " + imm));
                }
            }
        }
    }

    private void shiftsByRegister() {
        long v = 0x8123456789abcdefL;
        for (int bits : new int[] {64, 32}) {
            for (String op : new String[] {"<<=", ">>=", "s>>="}) {
                for (long count : new long[] {0, 31, 32, 63, 64, 65, 0x100000001L}) {
                    add("shift" + bits + " " + op + " by reg " + count, alu(op, bits, v, count),
                            List.of(ld(0, v), ld(1, count), reg(bits, 0) + " " + op + " " + reg(bits, 1)));
                }
            }
        }
    }

    private void divisionEdges() {
        // by a zero register: / and s/ give 0, % and s% keep dst (the 32-bit forms cut it to 32 bits)
        long dst = 0x1122334455667788L;
        long[][] handWritten64 = {{0, 0}, {0, 0}, {dst, dst}, {dst, dst}};
        String[] ops = {"/=", "s/=", "%=", "s%="};
        for (int i = 0; i < ops.length; i++) {
            add("div0 alu64 " + ops[i], handWritten64[i][0],
                    List.of(ld(0, dst), "r1 = 0", "r0 " + ops[i] + " r1"));
            long hand32 = ops[i].contains("%") ? 0x55667788L : 0;
            add("div0 alu32 " + ops[i], hand32,
                    List.of(ld(0, dst), "r1 = 0", "w0 " + ops[i] + " w1"));
            // only the low half of the divisor counts for ALU32: 0x100000000 is a zero divisor
            add("div0 alu32 " + ops[i] + " upper-half divisor", hand32,
                    List.of(ld(0, dst), ld(1, 0x100000000L), "w0 " + ops[i] + " w1"));
        }
        // a low half with its sign bit set: the 32-bit forms zero-extend it, never sign-extend
        long negLow = 0x1122334485667788L;
        for (String op : ops) {
            long hand = op.contains("%") ? 0x85667788L : 0;
            add("div0 alu32 " + op + " negative low half", hand, List.of(ld(0, negLow), "r1 = 0", "w0 " + op + " w1"));
            add("div0 alu64 " + op + " negative", op.contains("%") ? negLow : 0,
                    List.of(ld(0, negLow), "r1 = 0", "r0 " + op + " r1"));
        }
        // INT_MIN / -1 and LONG_MIN / -1: the quotient wraps to the dividend, the remainder is 0
        add("sdiv64 LONG_MIN by -1", Long.MIN_VALUE, List.of(ld(0, Long.MIN_VALUE), "r1 = -1", "r0 s/= r1"));
        add("smod64 LONG_MIN by -1", 0, List.of(ld(0, Long.MIN_VALUE), "r1 = -1", "r0 s%= r1"));
        add("sdiv32 INT_MIN by -1", 0x80000000L, List.of("w0 = -2147483648", "w1 = -1", "w0 s/= w1"));
        add("smod32 INT_MIN by -1", 0, List.of("w0 = -2147483648", "w1 = -1", "w0 s%= w1"));
        add("sdiv64 LONG_MIN by imm -1", Long.MIN_VALUE, List.of(ld(0, Long.MIN_VALUE), "r0 s/= -1"));
        add("smod64 LONG_MIN by imm -1", 0, List.of(ld(0, Long.MIN_VALUE), "r0 s%= -1"));
        add("sdiv32 INT_MIN by imm -1", 0x80000000L, List.of("w0 = -2147483648", "w0 s/= -1"));
        add("smod32 INT_MIN by imm -1", 0, List.of("w0 = -2147483648", "w0 s%= -1"));
        add("sdiv32 INT_MIN by -1 upper bits set", 0x80000000L,
                List.of(ld(0, 0x7777777780000000L), ld(1, 0x12345678ffffffffL), "w0 s/= w1"));
        add("sdiv64 -7 by 2 truncates", -3, List.of("r0 = -7", "r1 = 2", "r0 s/= r1"));
        add("smod64 -7 by 2 dividend sign", -1, List.of("r0 = -7", "r1 = 2", "r0 s%= r1"));
        add("smod64 7 by -2 dividend sign", 1, List.of("r0 = 7", "r1 = -2", "r0 s%= r1"));
        add("udiv64 by imm -1 is by 2^64-1", 1, List.of("r0 = -1", "r0 /= -1"));
        add("umod64 by imm -1", 0x5L, List.of("r0 = 5", "r0 %= -1"));
    }

    private void movesAndNeg() {
        long[] sources = {0x80L, 0x7fL, 0x8000L, 0x80000000L, 0x123456789abcdef0L, 0xfffffffffffffffeL};
        for (long s : sources) {
            add("movsx64 s8 " + hex(s), signExtend(s, 8), List.of(ld(1, s), "r0 = (s8)r1"));
            add("movsx64 s16 " + hex(s), signExtend(s, 16), List.of(ld(1, s), "r0 = (s16)r1"));
            add("movsx64 s32 " + hex(s), signExtend(s, 32), List.of(ld(1, s), "r0 = (s32)r1"));
            add("movsx32 s8 " + hex(s), signExtend(s, 8) & 0xffffffffL, List.of(ld(1, s), "w0 = (s8)w1"));
            add("movsx32 s16 " + hex(s), signExtend(s, 16) & 0xffffffffL, List.of(ld(1, s), "w0 = (s16)w1"));
            add("mov32 reg zero-extends " + hex(s), s & 0xffffffffL, List.of("r0 = -1", ld(1, s), "w0 = w1"));
            add("mov64 reg " + hex(s), s, List.of("r0 = -1", ld(1, s), "r0 = r1"));
            add("neg64 " + hex(s), -s, List.of(ld(0, s), "r0 = -r0"));
            add("neg32 " + hex(s), (-s) & 0xffffffffL, List.of(ld(0, s), "w0 = -w0"));
        }
        add("mov64 imm -1 sign-extends", -1L, List.of("r0 = -1"));
        add("mov32 imm -1 zero-extends", 0xffffffffL, List.of("r0 = 7", "w0 = -1"));
        add("mov32 imm clears upper half", 5, List.of("r0 = -1", "w0 = 5"));
        add("alu32 add wraps and zero-extends", 0, List.of("r0 = -1", "w0 += 1"));
        add("alu64 add wraps", 0, List.of("r0 = -1", "r0 += 1"));
    }

    private void byteSwaps() {
        long[] values = {0x0123456789abcdefL, 0xfedcba9876543210L, 0x00000000000000ffL};
        for (long v : values) {
            for (int width : new int[] {16, 32, 64}) {
                long keep = width == 64 ? v : v & ((1L << width) - 1);
                add("le" + width + " " + hex(v), keep, List.of(ld(0, v), "r0 = le" + width + " r0"));
                add("be" + width + " " + hex(v), reverseBytes(v, width / 8), List.of(ld(0, v), "r0 = be" + width + " r0"));
                add("bswap" + width + " " + hex(v), reverseBytes(v, width / 8),
                        List.of(ld(0, v), "r0 = bswap" + width + " r0"));
            }
        }
    }

    // ------------------------------------------------------------------ jumps

    private void jumps() {
        long[][] pairs = {
            {5, 5}, {5, 6}, {6, 5}, {-1, 1}, {1, -1},
            {0x100000005L, 5},             // equal only in the low half
            {0x1ffffffffL, 0x200000000L},  // 64-bit less, 32-bit greater
            {0x80000000L, 0x7fffffffL},    // signed 32-bit negative, positive as 64-bit
            {0x6L, 0x3L},                  // for jset: 6 & 3 != 0
            {0x4L, 0x3L},                  // jset: 4 & 3 == 0
        };
        for (int bits : new int[] {64, 32}) {
            String cls = bits == 64 ? "jmp" : "jmp32";
            for (String op : JUMP_OPS) {
                for (long[] p : pairs) {
                    long a = p[0];
                    long b = p[1];
                    add(cls + " " + op + " reg " + hex(a) + "," + hex(b), cond(op, bits, a, b) ? 1 : 2,
                            List.of("r0 = 1", ld(1, a), ld(2, b),
                                    "if " + reg(bits, 1) + " " + op + " " + reg(bits, 2) + " goto pc+1", "r0 = 2"));
                }
                // immediate forms: imm -1 is all ones in 64 bits (sign extension), 0xffffffff in 32
                for (long[] p : new long[][] {{0xffffffffL, -1}, {0xffffffffffffffffL, -1}, {7, 5}}) {
                    long a = p[0];
                    int imm = (int) p[1];
                    add(cls + " " + op + " imm " + hex(a) + "," + imm, cond(op, bits, a, imm) ? 1 : 2,
                            List.of("r0 = 1", ld(1, a),
                                    "if " + reg(bits, 1) + " " + op + " " + imm + " goto pc+1", "r0 = 2"));
                }
            }
        }
        // the skipped instruction stays reachable through a branch on len (never 0 here), or the
        // verifier refuses it as unreachable
        add("ja skips", 1, List.of("r0 = 1", "r2 = *(u32 *)(r1 +0)", "if r2 == 0 goto pc+1", "goto pc+1", "r0 = 2"));
        add("ja backwards loop", 10, List.of("r0 = 0", "r1 = 5", "r0 += 2", "r1 += -1", "if r1 != 0 goto pc-3"));
        add("gotol skips", 1, List.of("r0 = 1", "r2 = *(u32 *)(r1 +0)", "if r2 == 0 goto pc+1", "gotol pc+1", "r0 = 2"));
        add("gotol to done", 3, List.of("r0 = 3", "r2 = *(u32 *)(r1 +0)", "if r2 == 0 goto pc+1", "gotol done", "r0 = 4"));
    }

    // ------------------------------------------------------------------ memory

    private void loadsAndStores() {
        long v = 0xf1e2d3c4b5a69788L;
        String[] sizes = {"u8", "u16", "u32", "u64"};
        int[] bytes = {1, 2, 4, 8};
        for (int i = 0; i < sizes.length; i++) {
            for (int at : bytes[i] == 8 ? new int[] {0} : new int[] {0, 8 - bytes[i]}) {
                int off = -8 + at;
                add("stx u64 then ldx " + sizes[i] + " at +" + at, littleEndianSlice(v, at, bytes[i]),
                        List.of(ld(1, v), "*(u64 *)(r10 -8) = r1", "r0 = *(" + sizes[i] + " *)(r10 " + off + ")"));
            }
            // stx of the size into a zeroed slot: only those bytes change
            add("stx " + sizes[i] + " into zeroed slot", littleEndianSlice(v, 0, bytes[i]),
                    List.of("*(u64 *)(r10 -8) = 0", ld(1, v), "*(" + sizes[i] + " *)(r10 -8) = r1",
                            "r0 = *(u64 *)(r10 -8)"));
            // st imm of the size: the immediate is cut to the size, or sign-extended to 64 bits
            long stored = bytes[i] == 8 ? -2L : littleEndianSlice(-2L, 0, bytes[i]);
            add("st " + sizes[i] + " imm -2", stored,
                    List.of("*(u64 *)(r10 -8) = 0", "*(" + sizes[i] + " *)(r10 -8) = -2", "r0 = *(u64 *)(r10 -8)"));
        }
        String[] sx = {"s8", "s16", "s32"};
        int[] sxBytes = {1, 2, 4};
        for (int i = 0; i < sx.length; i++) {
            for (long w : new long[] {v, 0x7f7f7f7f7f7f7f7fL}) {
                add("ldsx " + sx[i] + " " + hex(w), signExtend(w, 8 * sxBytes[i]),
                        List.of(ld(1, w), "*(u64 *)(r10 -8) = r1", "r0 = *(" + sx[i] + " *)(r10 -8)"));
            }
        }
        add("stack slots are independent", 0x1111L + 0x2222L,
                List.of("r1 = 4369", "*(u64 *)(r10 -8) = r1", "r1 = 8738", "*(u64 *)(r10 -16) = r1",
                        "r0 = *(u64 *)(r10 -8)", "r1 = *(u64 *)(r10 -16)", "r0 += r1"));
        add("deepest stack slot", 77,
                List.of("r1 = 77", "*(u64 *)(r10 -512) = r1", "r0 = *(u64 *)(r10 -512)"));
        add("stack through a derived pointer", 0x42,
                List.of("r2 = r10", "r2 += -16", "*(u32 *)(r2 +4) = 66", "r0 = *(u32 *)(r10 -12)"));
        add("ctx len", DEFAULT_PACKET.length - 14, List.of("r0 = *(u32 *)(r1 +0)"));
        add("ctx protocol", 0x0008, List.of("r0 = *(u32 *)(r1 +16)"));
        add("ctx cb write then read", 0x99, List.of("r2 = 153", "*(u32 *)(r1 +48) = r2", "r0 = *(u32 *)(r1 +48)"));
    }

    private void atomics() {
        long mem = 0x0f0f0f0f80000001L;
        long operand = 0x1234567880000003L;
        String[][] ops = {{"+=", "add", "+="}, {"|=", "or", "|="}, {"&=", "and", "&="}, {"^=", "xor", "^="}};
        for (String[] op : ops) {
            // 64-bit: memory after, and the fetched old value
            long after64 = alu(op[2], 64, mem, operand);
            add("atomic64 " + op[1], after64,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                            "lock *(u64 *)(r10 -8) " + op[0] + " r2", "r0 = *(u64 *)(r10 -8)"));
            add("atomic64 fetch_" + op[1] + " memory", after64,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                            "r2 = atomic64_fetch_" + op[1] + "((u64 *)(r10 -8), r2)", "r0 = *(u64 *)(r10 -8)"));
            add("atomic64 fetch_" + op[1] + " old value", mem,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                            "r2 = atomic64_fetch_" + op[1] + "((u64 *)(r10 -8), r2)", "r0 = r2"));
            // 32-bit: only the low word changes; the fetched value is zero-extended
            long after32 = (mem & 0xffffffff00000000L) | alu(op[2], 32, mem, operand);
            add("atomic32 " + op[1], after32,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                            "lock *(u32 *)(r10 -8) " + op[0] + " r2", "r0 = *(u64 *)(r10 -8)"));
            add("atomic32 fetch_" + op[1] + " memory", after32,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                            "r2 = atomic_fetch_" + op[1] + "((u32 *)(r10 -8), r2)", "r0 = *(u64 *)(r10 -8)"));
            add("atomic32 fetch_" + op[1] + " old value", mem & 0xffffffffL,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                            "r2 = atomic_fetch_" + op[1] + "((u32 *)(r10 -8), r2)", "r0 = r2"));
        }
        add("atomic64 xchg memory", operand,
                List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                        "r2 = atomic64_xchg((u64 *)(r10 -8), r2)", "r0 = *(u64 *)(r10 -8)"));
        add("atomic64 xchg old value", mem,
                List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                        "r2 = atomic64_xchg((u64 *)(r10 -8), r2)", "r0 = r2"));
        add("atomic32 xchg memory", (mem & 0xffffffff00000000L) | (operand & 0xffffffffL),
                List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                        "r2 = atomic_xchg((u32 *)(r10 -8), r2)", "r0 = *(u64 *)(r10 -8)"));
        add("atomic32 xchg old value", mem & 0xffffffffL,
                List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand),
                        "r2 = atomic_xchg((u32 *)(r10 -8), r2)", "r0 = r2"));
        // cmpxchg: r0 is the expected value and receives the old one
        for (boolean match : new boolean[] {true, false}) {
            String m = match ? "match" : "mismatch";
            long expected64 = match ? mem : mem + 1;
            add("atomic64 cmpxchg " + m + " memory", match ? operand : mem,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand), ld(0, expected64),
                            "r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r2)", "r0 = *(u64 *)(r10 -8)"));
            add("atomic64 cmpxchg " + m + " r0", mem,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand), ld(0, expected64),
                            "r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r2)"));
            // 32-bit compares only the low half of r0; upper bits of r0 do not matter
            long expected32 = match ? (0xdead000000000000L | (mem & 0xffffffffL)) : mem & 0xffffffff00000000L;
            add("atomic32 cmpxchg " + m + " memory",
                    match ? (mem & 0xffffffff00000000L) | (operand & 0xffffffffL) : mem,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand), ld(0, expected32),
                            "r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r2)", "r0 = *(u64 *)(r10 -8)"));
            add("atomic32 cmpxchg " + m + " r0 zero-extended", mem & 0xffffffffL,
                    List.of(ld(1, mem), "*(u64 *)(r10 -8) = r1", ld(2, operand), ld(0, expected32),
                            "r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r2)"));
        }
    }

    private void ldImm64() {
        for (long v : new long[] {0x123456789abcdef0L, 0xffffffffL, 0x5L, Long.MIN_VALUE, -1L, 0x100000000L}) {
            add("ld_imm64 " + hex(v), v, List.of("r0 = " + hex(v) + " ll"));
        }
        add("ld_imm64 into r5 then move", 0xcafef00dd00dfeedL, List.of("r5 = 0xcafef00dd00dfeed ll", "r0 = r5"));
    }

    // ------------------------------------------------------------------ legacy packet loads

    private void packetLoads() {
        byte[] p = DEFAULT_PACKET;
        int data = 14;
        int len = p.length - data;
        String[] sizes = {"u8", "u16", "u32"};
        int[] n = {1, 2, 4};
        for (int i = 0; i < sizes.length; i++) {
            for (int k : new int[] {0, 1, 5, len - n[i]}) {
                add("ld_abs " + sizes[i] + " [" + k + "]", bigEndian(p, data + k, n[i]),
                        List.of("r6 = r1", "r0 = *(" + sizes[i] + " *)skb[" + k + "]"));
            }
            // one byte past the end: the program ends, returning 0 (r0 was 7 before)
            add("ld_abs " + sizes[i] + " past the end", 0,
                    List.of("r6 = r1", "r0 = 7", "r0 = *(" + sizes[i] + " *)skb[" + (len - n[i] + 1) + "]", "r0 = 9"));
            add("ld_ind " + sizes[i] + " [r7+3] r7=4", bigEndian(p, data + 7, n[i]),
                    List.of("r6 = r1", "r7 = 4", "r0 = *(" + sizes[i] + " *)skb[r7 + 3]"));
        }
        add("ld_abs u32 SKF_NET_OFF+0", bigEndian(p, data, 4),
                List.of("r6 = r1", "r0 = *(u32 *)skb[" + SKF_NET_OFF + "]"));
        add("ld_abs u32 SKF_LL_OFF+0 reads the MAC header", bigEndian(p, 0, 4),
                List.of("r6 = r1", "r0 = *(u32 *)skb[" + SKF_LL_OFF + "]"));
        add("ld_abs u16 SKF_LL_OFF+12 reads the EtherType", 0x0800,
                List.of("r6 = r1", "r0 = *(u16 *)skb[" + (SKF_LL_OFF + 12) + "]"));
        add("ld_abs u8 below SKF_LL_OFF", 0,
                List.of("r6 = r1", "r0 = 7", "r0 = *(u8 *)skb[" + (SKF_LL_OFF - 1) + "]"));
        add("ld_abs u8 at -1", 0, List.of("r6 = r1", "r0 = 7", "r0 = *(u8 *)skb[-1]"));
        add("ld_ind offset is 32-bit: upper bits of the index ignored", bigEndian(p, data + 6, 2),
                List.of("r6 = r1", ld(7, 0x500000004L), "r0 = *(u16 *)skb[r7 + 2]"));
        add("ld_ind negative index wraps into SKF_NET_OFF", bigEndian(p, data + 2, 2),
                List.of("r6 = r1", "r7 = " + SKF_NET_OFF, "r0 = *(u16 *)skb[r7 + 2]"));
        add("ld_abs keeps r6..r9", 0x17 + bigEndian(p, data, 1),
                List.of("r6 = r1", "r7 = 23", "r0 = *(u8 *)skb[0]", "r0 += r7"));
        byte[] arp = DEFAULT_PACKET.clone();
        arp[12] = 0x08;
        arp[13] = 0x06;
        add("ctx protocol of an ARP frame", 0x0608, List.of("r0 = *(u32 *)(r1 +16)"), List.of(), arp);
        byte[] other = DEFAULT_PACKET.clone();
        other[0] = 0x02;
        add("ctx pkt_type other host", 3, List.of("r0 = *(u32 *)(r1 +4)"), List.of(), other);
        byte[] multicast = DEFAULT_PACKET.clone();
        for (int i = 0; i < 6; i++) {
            multicast[i] = (byte) 0xff;
        }
        add("ctx pkt_type broadcast is multicast on lo", 2, List.of("r0 = *(u32 *)(r1 +4)"), List.of(), multicast);
        add("ctx pkt_type host", 0, List.of("r0 = *(u32 *)(r1 +4)"));
        add("ctx ifindex is lo", 1, List.of("r0 = *(u32 *)(r1 +40)"));
        add("ctx len narrow u8", (DEFAULT_PACKET.length - 14) & 0xff, List.of("r0 = *(u8 *)(r1 +0)"));
    }

    // ------------------------------------------------------------------ bpf-to-bpf calls

    private void calls() {
        add("call returns r0", 16, List.of("r1 = 5", "call add10", "r0 += 1"),
                List.of("add10:", "r0 = r1", "r0 += 10", "exit"), DEFAULT_PACKET);
        add("call keeps r6-r9 of the caller", 107 + 8 + 9 + 10,
                List.of("r6 = 7", "r7 = 8", "r8 = 9", "r9 = 10", "call clobber", "r0 += r6", "r0 += r7", "r0 += r8",
                        "r0 += r9"),
                List.of("clobber:", "r6 = 100", "r7 = 100", "r8 = 100", "r9 = 100", "r0 = r6", "exit"),
                DEFAULT_PACKET);
        add("call has its own stack frame", 1,
                List.of("r1 = 1", "*(u64 *)(r10 -8) = r1", "call scribble", "r0 = *(u64 *)(r10 -8)"),
                List.of("scribble:", "r1 = 2", "*(u64 *)(r10 -8) = r1", "r0 = 0", "exit"), DEFAULT_PACKET);
        add("callee writes the caller's stack through a pointer", 42,
                List.of("*(u64 *)(r10 -8) = 0", "r1 = r10", "r1 += -8", "call store42", "r0 = *(u64 *)(r10 -8)"),
                List.of("store42:", "r2 = 42", "*(u64 *)(r1 +0) = r2", "r0 = 0", "exit"), DEFAULT_PACKET);
        add("nested calls", 1 + 2 + 4,
                List.of("r1 = 1", "call f1"),
                List.of("f1:", "r6 = r1", "r1 = 2", "call f2", "r0 += r6", "exit",
                        "f2:", "r6 = r1", "r1 = 4", "call f3", "r0 += r6", "exit",
                        "f3:", "r0 = r1", "exit"),
                DEFAULT_PACKET);
        add("call returns 64-bit r0", 0x123456789abcdef0L, List.of("call big"),
                List.of("big:", "r0 = 0x123456789abcdef0 ll", "exit"), DEFAULT_PACKET);
    }
}
