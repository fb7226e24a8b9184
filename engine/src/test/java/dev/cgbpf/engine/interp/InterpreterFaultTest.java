package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.conformance.ConformanceTable;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.MalformedProgramException;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.maps.EngineMap;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What an unverified program that misbehaves gets: a clean fault naming the instruction. */
class InterpreterFaultTest {
    private final Assembler asm = new Assembler();

    private long run(Program p, long budget) {
        Machine m = new Machine(new AddressSpace(), BaseHelpers.TABLE, new SkBuffContext(ConformanceTable.DEFAULT_PACKET));
        return Interpreter.decode(p, PseudoResolver.NONE).run(m, budget);
    }

    private ProgramFault fault(String... lines) {
        return assertThrows(ProgramFault.class, () -> run(asm.assemble(List.of(lines)), 1000));
    }

    @Test
    void stackUnderflowNamesFrameOffset() {
        ProgramFault f = fault("r0 = *(u64 *)(r10 -520)", "exit");
        assertEquals("insn 0: invalid read of 8 bytes at stack[0]-520 (stack[0] is 512 bytes)", f.getMessage());
    }

    @Test
    void stackAboveFramePointer() {
        ProgramFault f = fault("r0 = 1", "*(u32 *)(r10 -2) = r0", "exit");
        assertEquals("insn 1: invalid write of 4 bytes at stack[0]-2 (stack[0] is 512 bytes)", f.getMessage());
    }

    @Test
    void contextFieldNotAllowedForSocketFilter() {
        assertEquals("insn 0: invalid bpf_context access off=76 size=4",
                fault("r0 = *(u32 *)(r1 +76)", "exit").getMessage());
        assertEquals("insn 1: invalid bpf_context access off=0 size=4",
                fault("r2 = 1", "*(u32 *)(r1 +0) = r2", "r0 = 0", "exit").getMessage());
        assertEquals("insn 0: invalid bpf_context access off=1 size=2",
                fault("r0 = *(u16 *)(r1 +1)", "exit").getMessage());
        assertEquals("insn 0: invalid bpf_context access off=0 size=8",
                fault("r0 = *(u64 *)(r1 +0)", "exit").getMessage());
        assertEquals("insn 0: invalid read of 4 bytes at ctx+192 (ctx is 192 bytes)",
                fault("r0 = *(u32 *)(r1 +192)", "exit").getMessage());
    }

    @Test
    void nullAndScalarPointers() {
        assertEquals("insn 1: invalid read of 4 bytes at 0x0 (NULL)",
                fault("r0 = 0", "r0 = *(u32 *)(r0 +0)", "exit").getMessage());
        assertEquals("insn 1: invalid write of 1 byte at 0x3039 (not a pointer into any region)",
                fault("r2 = 12345", "*(u8 *)(r2 +0) = 1", "r0 = 0", "exit").getMessage());
    }

    @Test
    void packetIsNotDirectlyAccessibleButOnlyThroughLdAbs() {
        // ld_abs works; the packet region itself is read-only for a socket filter
        assertEquals(0x45, run(asm.assemble(List.of("r6 = r1", "r0 = *(u8 *)skb[0]", "exit")), 100));
    }

    @Test
    void endlessLoopStopsAtTheBudget() {
        ProgramFault f = assertThrows(ProgramFault.class,
                () -> run(asm.assemble(List.of("r0 = 0", "r0 += 1", "goto pc-2")), 5000));
        assertEquals("instruction budget of 5000 exhausted (endless loop?)", f.reason());
    }

    @Test
    void fallingOffTheEnd() {
        assertEquals("insn 1: fell off the end of the program", fault("r0 = 0").getMessage());
    }

    @Test
    void unknownHelper() {
        Program p = Program.of(new Insn(0x85, 0, 0, 0, 9999), new Insn(0x95, 0, 0, 0, 0));
        ProgramFault f = assertThrows(ProgramFault.class, () -> run(p, 100));
        assertEquals("insn 0: call to helper id 9999 is not supported by the engine for this program type",
                f.getMessage());
    }

    @Test
    void jumpOutOfRangeIsRefusedAtDecode() {
        Program p = Program.of(new Insn(0x05, 0, 0, 5, 0), new Insn(0x95, 0, 0, 0, 0));
        MalformedProgramException e = assertThrows(MalformedProgramException.class,
                () -> Interpreter.decode(p, PseudoResolver.NONE));
        assertEquals("insn 0: jump out of range from insn 0 to 6", e.getMessage());
    }

    @Test
    void recursionHitsTheFrameLimit() {
        ProgramFault f = fault("call f", "exit", "f:", "call f", "exit");
        assertEquals("the call stack of 8 frames is too deep", f.reason());
        assertEquals(2, f.insnIndex()); // slots: 0 call, 1 exit, 2 f: call f
    }

    @Test
    void sevenNestedCallsAreAllowed() {
        List<String> lines = new ArrayList<>(List.of("r0 = 0", "call f1", "exit"));
        for (int i = 1; i <= 7; i++) {
            lines.add("f" + i + ":");
            lines.add("r0 += 1");
            if (i < 7) {
                lines.add("call f" + (i + 1));
            }
            lines.add("exit");
        }
        // r0 is not preserved across calls in general, but each function only adds to it
        assertEquals(7, run(asm.assemble(lines), 1000));
    }

    @Test
    void misalignedAtomic() {
        ProgramFault f = fault("*(u64 *)(r10 -8) = 0", "r1 = 1", "lock *(u32 *)(r10 -6) += r1", "r0 = 0", "exit");
        assertEquals("insn 2: misaligned atomic access of 4 bytes at stack[0]-6", f.getMessage());
    }

    @Test
    void atomicOnContextIsRefused() {
        ProgramFault f = fault("r2 = 1", "lock *(u32 *)(r1 +48) += r2", "r0 = 0", "exit");
        assertEquals("insn 1: atomic operation on ctx+48 is not allowed", f.getMessage());
    }

    /**
     * A fault of a program referring to one map: the map lives in the run's address space and
     * {@code map[NAME]} resolves to its object, as the backend's resolve_pseudo_ldimm64 does.
     */
    private static ProgramFault faultWithMap(MapSpec spec, String... lines) throws BpfException {
        AddressSpace space = new AddressSpace();
        EngineMap map = EngineMap.create(spec, space);
        Program p = new Assembler(Map.of(spec.name(), 3)::get).assemble(List.of(lines));
        PseudoResolver resolver = (src, imm, nextImm) -> map.objectAddress();
        Machine m = new Machine(space, BaseHelpers.TABLE, new SkBuffContext(ConformanceTable.DEFAULT_PACKET));
        return assertThrows(ProgramFault.class, () -> Interpreter.decode(p, resolver).run(m, 1000));
    }

    @Test
    void valueAccessBeyondValueSize() throws BpfException {
        // the verifier refuses this at load (EngineProgramTest); the interpreter stops it anyway
        ProgramFault f = faultWithMap(new MapSpec("a", MapType.ARRAY, 4, 4, 2, 0),
                "*(u32 *)(r10 -4) = 0", "r2 = r10", "r2 += -4", "r1 = map[a]",
                "call bpf_map_lookup_elem#1",
                "if r0 == 0x0 goto pc+1",
                "r0 = *(u64 *)(r0 +0)",
                "exit");
        assertEquals("insn 7: invalid read of 8 bytes at map[a].value+0 (value_size is 4)", f.getMessage());
    }

    @Test
    void mapObjectIsNotMemory() throws BpfException {
        ProgramFault f = faultWithMap(new MapSpec("a", MapType.ARRAY, 4, 4, 2, 0),
                "r1 = map[a]", "r0 = *(u32 *)(r1 +0)", "exit");
        assertEquals("insn 2: invalid read of 4 bytes at map[a]+0 (a map object can only be passed to helpers)",
                f.getMessage());
    }

    @Test
    void faultsAreNotJavaExceptions() {
        // a walk over and around the stack: only ProgramFault escapes, never an index exception
        for (int off = -600; off <= 100; off += 7) {
            int o = off;
            assertThrows(ProgramFault.class, () -> run(asm.assemble(List.of(
                    "r2 = r10", "r2 += " + o, "r0 = *(u64 *)(r2 +0)", "r0 = *(u64 *)(r2 +16384)",
                    "exit")), 100));
        }
    }
}
