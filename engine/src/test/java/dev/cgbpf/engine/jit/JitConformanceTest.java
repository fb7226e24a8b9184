package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.conformance.ConformanceTable;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every conformance case compiled: the compiled code's r0 is the table's, and the interpreter's. */
class JitConformanceTest {
    @TestFactory
    Stream<DynamicTest> everyCaseCompiledAgrees() {
        Assembler asm = new Assembler();
        return ConformanceTable.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Program p = asm.assemble(c.program());
            TwoTiers.Outcome o = TwoTiers.agree(c.name(), p, c.packet());
            assertEquals("r0=0x" + Long.toHexString(c.expected()), o.result(), c.name());
        }));
    }
}
