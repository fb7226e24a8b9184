package dev.cgbpf.engine.conformance;

import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table itself: the reference model agrees with hand-worked values, and the half programs are well formed. */
class ConformanceTableTest {

    @Test
    void referenceAgreesWithHandWorkedEdgeValues() {
        assertEquals(Long.MIN_VALUE, RfcReference.alu("s/=", 64, Long.MIN_VALUE, -1));
        assertEquals(0, RfcReference.alu("s%=", 64, Long.MIN_VALUE, -1));
        assertEquals(0x80000000L, RfcReference.alu("s/=", 32, 0x80000000L, -1));
        assertEquals(0, RfcReference.alu("s%=", 32, 0x80000000L, -1));
        assertEquals(0, RfcReference.alu("/=", 64, 1234, 0));
        assertEquals(0x55667788L, RfcReference.alu("%=", 32, 0x1122334455667788L, 0));
        assertEquals(0x1122334455667788L, RfcReference.alu("s%=", 64, 0x1122334455667788L, 0));
        assertEquals(-3, RfcReference.alu("s/=", 64, -7, 2));
        assertEquals(-1, RfcReference.alu("s%=", 64, -7, 2));
        assertEquals(0x2L, RfcReference.alu("/=", 64, -1, 0x7fffffffffffffffL));
        assertEquals(0xfffffffeL, RfcReference.alu("<<=", 32, 0xffffffffL, 33));
        assertEquals(0xffffffffL, RfcReference.alu("s>>=", 32, 0x80000000L, 31));
        assertEquals(1, RfcReference.alu(">>=", 64, Long.MIN_VALUE, 63));
        assertEquals(Long.MIN_VALUE, RfcReference.alu("<<=", 64, 1, 127));
        assertTrue(RfcReference.cond("==", 32, 0x100000005L, 5));
        assertFalse(RfcReference.cond("==", 64, 0x100000005L, 5));
        assertTrue(RfcReference.cond("s<", 32, 0x80000000L, 0x7fffffffL));
        assertFalse(RfcReference.cond("s<", 64, 0x80000000L, 0x7fffffffL));
        assertEquals(0x3412L, RfcReference.reverseBytes(0x561234, 2));
        assertEquals(-128, RfcReference.signExtend(0x80, 8));
    }

    @Test
    void casesAreManyUniqueAndAssemble() {
        List<ConformanceCase> all = ConformanceTable.all();
        assertTrue(all.size() >= 300, all.size() + " cases");
        Set<String> names = new HashSet<>();
        Assembler asm = new Assembler();
        for (ConformanceCase c : all) {
            assertTrue(names.add(c.name()), c.name());
            Program lo = asm.assemble(c.program());
            Program hi = asm.assemble(c.highHalfProgram());
            assertEquals(lo.size() + 1, hi.size(), c.name());
            assertEquals(c.expected() & 0xffffffffL, c.expectedLow());
            assertEquals(c.expected() >>> 32, c.expectedHigh());
        }
    }
}
