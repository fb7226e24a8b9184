package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.conformance.ConformanceTable;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.MalformedProgramException;
import dev.cgbpf.engine.isa.Program;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The run loop's own bookkeeping: the budget, the register file, the running frame's fast path. */
class InterpreterRunTest {
    private final Assembler asm = new Assembler();

    private static Machine machine() {
        return new Machine(new AddressSpace(), BaseHelpers.TABLE, new SkBuffContext(ConformanceTable.DEFAULT_PACKET));
    }

    private long run(long budget, String... lines) {
        return Interpreter.decode(asm.assemble(List.of(lines)), PseudoResolver.NONE).run(machine(), budget);
    }

    @Test
    void theBudgetCountsEveryExecutedInstruction() {
        String[] prog = {"r0 = 0", "r0 += 1", "exit"};
        assertEquals(1, run(3, prog));
        ProgramFault f = assertThrows(ProgramFault.class, () -> run(2, prog));
        assertEquals("insn 2: instruction budget of 2 exhausted (endless loop?)", f.getMessage());
        assertThrows(ProgramFault.class, () -> run(0, prog));
    }

    @Test
    void budgetsBeyondTheIntRangeAreHonoured() {
        // the loop counts in int chunks taken from the long budget
        assertEquals(1, run(Long.MAX_VALUE, "r0 = 0", "r0 += 1", "exit"));
        assertEquals(1, run(Integer.MAX_VALUE + 1L, "r0 = 0", "r0 += 1", "exit"));
    }

    @Test
    void registersAboveR10AreRefusedAtDecode() {
        Program p = Program.of(new Insn(0xb7, 11, 0, 0, 1), new Insn(0x95, 0, 0, 0, 0));
        MalformedProgramException e = assertThrows(MalformedProgramException.class,
                () -> Interpreter.decode(p, PseudoResolver.NONE));
        assertEquals("insn 0: register r11 does not exist (r0..r10)", e.getMessage());
        Program q = Program.of(new Insn(0xbf, 0, 15, 0, 0), new Insn(0x95, 0, 0, 0, 0));
        assertThrows(MalformedProgramException.class, () -> Interpreter.decode(q, PseudoResolver.NONE));
    }

    @Test
    void aCalleeWritesItsCallersFrameThroughAPointer() {
        // the callee's stores land outside its own frame (the fast path's), in the caller's
        assertEquals(0x1122334455667788L + 5, run(1000,
                "r6 = 5",
                "*(u64 *)(r10 -8) = r6",
                "r1 = r10",
                "r1 += -8",
                "call f",
                "r0 = *(u64 *)(r10 -8)",
                "r0 += r6",
                "exit",
                "f:",
                "r6 = 0x11223344",
                "r6 <<= 32",
                "r2 = 0x55667788",
                "r6 |= r2",
                "*(u64 *)(r1 +0) = r6",
                "*(u64 *)(r10 -8) = r2",
                "r0 = 0",
                "exit"));
    }

    @Test
    void frameEdgesOfEverySize() {
        assertEquals(0xabL, run(100, "r1 = 0xab", "*(u8 *)(r10 -1) = r1", "r0 = *(u8 *)(r10 -1)", "exit"));
        assertEquals(0xabcdL, run(100, "r1 = 0xabcd", "*(u16 *)(r10 -512) = r1", "r0 = *(u16 *)(r10 -512)", "exit"));
        assertEquals("insn 1: invalid write of 2 bytes at stack[0]-1 (stack[0] is 512 bytes)",
                assertThrows(ProgramFault.class, () -> run(100, "r1 = 1", "*(u16 *)(r10 -1) = r1", "exit")).getMessage());
        assertEquals("insn 0: invalid read of 1 byte at stack[0]-513 (stack[0] is 512 bytes)",
                assertThrows(ProgramFault.class, () -> run(100, "r0 = *(u8 *)(r10 -513)", "exit")).getMessage());
    }
}
