package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Division and modulo by an immediate, which the compiler writes out itself (a power of two as a
 * shift or mask, others as a division by a constant) instead of calling the interpreter's
 * helpers: every combination of 64/32-bit, unsigned/signed (off 1), div/mod, over divisors at
 * the edges (0, 1, -1, powers of two, 2^31, INT_MIN, odd and even constants, negative ones,
 * whose unsigned 64-bit value is 2^63 or more) and dividends at the edges (0, 1, the largest and
 * smallest signed values, values with the top bit set, the divisor's neighbours). Both tiers must
 * return the same r0.
 */
class JitDivConstTest {
    private static final byte[] PACKET = HexFormat.of().parseHex("ffffffffffff02000000000108004500");
    private static final int[] DIVISORS = {0, 1, -1, 2, 3, 5, 6, 7, 8, 10, 1 << 12, 1000, 65537, 0x7fffffff,
        Integer.MIN_VALUE, -2, -3, -7, -8, -1000};
    private static final long[] DIVIDENDS = {0, 1, 2, 6, 7, 8, 9, -1, -2, -7, Long.MAX_VALUE, Long.MIN_VALUE,
        Long.MIN_VALUE + 1, 0x8000_0000L, 0xffff_ffffL, 0x1_0000_0000L, -0x8000_0000L, 0x7fff_ffffL,
        0xdead_beef_cafe_f00dL, 0x1234_5678_9abc_def0L, 999_999_999_999L, -999_999_999_999L};

    @Test
    void divisionByAnImmediateAgrees() {
        int programs = 0;
        for (int code : new int[] {0x37, 0x97, 0x34, 0x94}) { // div64, mod64, div32, mod32 by imm
            for (int off = 0; off <= 1; off++) {
                for (int d : DIVISORS) {
                    List<Insn> insns = new ArrayList<>();
                    for (long a : DIVIDENDS) {
                        // r0 = a; r0 op= imm; r6 ^= r0; r6 *= 31: every quotient counts in the result
                        insns.add(new Insn(0x18, 0, 0, 0, (int) a));
                        insns.add(new Insn(0, 0, 0, 0, (int) (a >>> 32)));
                        insns.add(new Insn(code, 0, 0, off, d));
                        insns.add(new Insn(0xaf, 6, 0, 0, 0));
                        insns.add(new Insn(0x27, 6, 0, 0, 31));
                    }
                    insns.add(0, new Insn(0xb7, 6, 0, 0, 0));
                    insns.add(new Insn(0xbf, 0, 6, 0, 0));
                    insns.add(new Insn(0x95, 0, 0, 0, 0));
                    String name = String.format("op 0x%02x off %d imm %d", code, off, d);
                    TwoTiers.Outcome o = TwoTiers.agree(name, new Program(insns), PACKET);
                    assertTrue(o.result().startsWith("r0="), name + ": " + o.result());
                    programs++;
                }
            }
        }
        assertTrue(programs == 4 * 2 * DIVISORS.length);
    }
}
