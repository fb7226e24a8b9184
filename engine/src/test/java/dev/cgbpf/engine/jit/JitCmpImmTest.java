package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Unsigned 64-bit compares of a register with a non-negative immediate, which the compiler writes
 * as two signed compares: every one of jgt, jge, jlt and jle (and their signed twins, for
 * contrast) over registers at the edges (around the immediate, around 2^31 and 2^32, the sign bit
 * set, -1). Both tiers must return the r0 that Java's own unsigned compare gives.
 */
class JitCmpImmTest {
    private static final byte[] PACKET = HexFormat.of().parseHex("ffffffffffff02000000000108004500");
    private static final int[] IMMS = {0, 1, 2, 100, 0x7fff_ffff};
    private static final long[] EDGES = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1, 0x7fff_ffffL,
        0x8000_0000L, 0xffff_ffffL, 0x1_0000_0000L, -0x8000_0000L, 0x8000_0000_0000_0064L};

    @Test
    void unsignedComparesWithAnImmediateAgreeWithJava() {
        // jgt, jge, jlt, jle, jsgt, jsge, jslt, jsle with an immediate, 64-bit
        for (int code : new int[] {0x25, 0x35, 0xa5, 0xb5, 0x65, 0x75, 0xc5, 0xd5}) {
            for (int imm : IMMS) {
                List<Long> values = new ArrayList<>();
                for (long e : EDGES) {
                    values.add(e);
                }
                for (long d = -1; d <= 1; d++) {
                    values.add(imm + d);
                }
                // r6 = 0; per value: r0 = v; r6 <<= 1; if r0 OP imm goto +1; r6 |= 1 (the branch not taken)
                List<Insn> insns = new ArrayList<>();
                insns.add(new Insn(0xb7, 6, 0, 0, 0));
                long expected = 0;
                for (long v : values) {
                    insns.add(new Insn(0x18, 0, 0, 0, (int) v));
                    insns.add(new Insn(0, 0, 0, 0, (int) (v >>> 32)));
                    insns.add(new Insn(0x67, 6, 0, 0, 1));
                    insns.add(new Insn(code, 0, 0, 1, imm));
                    insns.add(new Insn(0x47, 6, 0, 0, 1));
                    expected = expected << 1 | (taken(code, v, imm) ? 0 : 1);
                }
                insns.add(new Insn(0xbf, 0, 6, 0, 0));
                insns.add(new Insn(0x95, 0, 0, 0, 0));
                String name = String.format("op 0x%02x imm %d", code, imm);
                TwoTiers.Outcome o = TwoTiers.agree(name, new Program(insns), PACKET);
                assertEquals("r0=0x" + Long.toHexString(expected), o.result(), name);
            }
        }
    }

    private static boolean taken(int code, long v, long imm) {
        int u = Long.compareUnsigned(v, imm);
        int s = Long.compare(v, imm);
        return switch (code) {
            case 0x25 -> u > 0;
            case 0x35 -> u >= 0;
            case 0xa5 -> u < 0;
            case 0xb5 -> u <= 0;
            case 0x65 -> s > 0;
            case 0x75 -> s >= 0;
            case 0xc5 -> s < 0;
            default -> s <= 0;
        };
    }
}
