package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The tiers as the engine host runs them: off, on (at load), auto (after a number of runs), and the fallback. */
class TieringTest {
    private static final byte[] PACKET = HexFormat.of().parseHex(
            "ffffffffffff0200000000010800450000200001000040117cc87f0000017f000001d4310035000c0000deadbeef");
    /** r0 = skb->len * 3 + 1: 97 on the packet above (test_run pulls the 14-byte Ethernet header). */
    private static final List<String> PROG = List.of("r0 = *(u32 *)(r1 + 0)", "r0 *= 3", "r0 += 1", "exit");

    private static long run(EngineBackend b, LoadedProg p, int repeat) throws Exception {
        return b.testRun(p, new TestRun.Request(PACKET, repeat)).retval();
    }

    private static LoadedProg load(EngineBackend b, Program p) throws Exception {
        return b.load(new LoadRequest("t", ProgType.SOCKET_FILTER, null, p, "GPL", 0));
    }

    /**
     * A program that makes a tail call stays on the interpreter; the program it jumps to runs
     * compiled. Each run of a repeated test run counts its own 33 tail calls: a program that
     * counts its executions and tail-calls itself runs 34 times per run.
     */
    @Test
    void aTailCallerStaysInterpretedAndItsTargetRunsCompiled() throws Exception {
        try (EngineBackend b = new EngineBackend()) {
            b.host().setJitMode(JitMode.ON);
            BpfMap jmp = b.createMap(new MapSpec("jmp", MapType.PROG_ARRAY, 4, 4, 2, 0));
            BpfMap count = b.createMap(new MapSpec("count", MapType.ARRAY, 4, 8, 1, 0));
            Assembler asm = new Assembler(java.util.Map.of("jmp", jmp.fd(), "count", count.fd())::get);
            LoadedProg target = load(b, asm.assemble(PROG));
            LoadedProg caller = load(b, asm.assemble(List.of("r6 = r1", "r1 = 0", "*(u32 *)(r10 -4) = r1",
                    "r2 = r10", "r2 += -4", "r1 = map[count]", "call bpf_map_lookup_elem#1",
                    "if r0 == 0x0 goto pc+2", "r1 = 1", "lock *(u64 *)(r0 +0) += r1", "r1 = r6", "r2 = map[jmp]",
                    "r3 = *(u32 *)(r6 +0)", "r3 &= 1", "call bpf_tail_call#12", "r0 = 7", "exit")));
            assertEquals(1, b.host().jitStats().compiled(), "the target compiled at load");
            assertEquals(1, b.host().jitStats().notCompiled(), "the caller left to the interpreter");
            assertEquals(7, run(b, caller, 1), "an empty slot falls through");
            b.updateProg(jmp, new byte[] {0, 0, 0, 0}, target);
            b.updateProg(jmp, new byte[] {1, 0, 0, 0}, caller);
            // skb->len is 32 (even): slot 0, the compiled target
            assertEquals(97, run(b, caller, 1));
            b.update(count, new byte[4], new byte[8], 0);
            byte[] odd = java.util.Arrays.copyOf(PACKET, PACKET.length + 1); // skb->len 33: slot 1, itself
            assertEquals(7, b.testRun(caller, new TestRun.Request(odd, 5)).retval());
            assertEquals(5 * 34, java.nio.ByteBuffer.wrap(b.lookup(count, new byte[4]))
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(), "34 executions in each of 5 runs");
        }
    }

    @Test
    void offNeverCompiles() throws Exception {
        try (EngineBackend b = new EngineBackend()) {
            b.host().setJitMode(JitMode.OFF);
            try (LoadedProg p = load(b, new Assembler().assemble(PROG))) {
                assertEquals(97, run(b, p, TieredProgram.AUTO_THRESHOLD * 2));
            }
            assertEquals(0, b.host().jitStats().compiled());
        }
    }

    @Test
    void onCompilesAtLoad() throws Exception {
        try (EngineBackend b = new EngineBackend()) {
            b.host().setJitMode(JitMode.ON);
            try (LoadedProg p = load(b, new Assembler().assemble(PROG))) {
                assertEquals(1, b.host().jitStats().compiled(), "compiled before any run");
                assertEquals(97, run(b, p, 1));
            }
        }
    }

    @Test
    void autoCompilesAfterTheThreshold() throws Exception {
        try (EngineBackend b = new EngineBackend()) {
            b.host().setJitMode(JitMode.AUTO);
            try (LoadedProg p = load(b, new Assembler().assemble(PROG))) {
                assertEquals(97, run(b, p, TieredProgram.AUTO_THRESHOLD - 1));
                assertEquals(0, b.host().jitStats().compiled(), "still interpreted below the threshold");
                assertEquals(97, run(b, p, 1));
                assertEquals(1, b.host().jitStats().compiled(), "compiled at the threshold");
                assertEquals(97, run(b, p, 10));
                assertEquals(1, b.host().jitStats().compiled(), "compiled once");
            }
        }
    }

    @Test
    void modeValuesParseAndRefuseOthers() {
        assertEquals(JitMode.OFF, JitMode.parse("off"));
        assertEquals(JitMode.ON, JitMode.parse("ON"));
        assertEquals(JitMode.AUTO, JitMode.parse("auto"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JitMode.parse("fast"));
        assertEquals("engine JIT mode must be off, on or auto, not 'fast'", e.getMessage());
    }

    /**
     * A program the compiler does not cover (a loop too long for one method, which is never cut)
     * stays on the interpreter, says why, and still runs.
     */
    @Test
    void uncoveredProgramStaysOnTheInterpreterWithTheReason() throws Exception {
        List<Insn> insns = new ArrayList<>();
        insns.add(new Insn(0xb7, 0, 0, 0, 0));
        insns.add(new Insn(0xb7, 2, 0, 0, 3));
        int top = insns.size();
        for (int i = 0; i < 1500; i++) {
            insns.add(new Insn(0x07, 0, 0, 0, i)); // r0 += i
        }
        insns.add(new Insn(0x07, 2, 0, 0, -1));
        insns.add(new Insn(0x55, 2, 0, top - insns.size() - 1, 0)); // if r2 != 0 goto top
        insns.add(new Insn(0x95, 0, 0, 0, 0));
        Program p = new Program(insns);
        Interpreter interp = Interpreter.decode(p, PseudoResolver.NONE);
        TieredProgram t = new TieredProgram("long_loop", p, interp, JitMode.ON, new JitStats());
        JitCompiler.NotCompiled nc = assertInstanceOf(JitCompiler.NotCompiled.class, t.result());
        assertTrue(nc.reason().contains("more than HotSpot compiles"), nc.reason());
        assertFalse(t.isCompiled());
        Machine m = new Machine(new AddressSpace(), BaseHelpers.TABLE, new SkBuffContext(PACKET));
        assertEquals(3L * (1499L * 1500 / 2), t.run(m, Interpreter.DEFAULT_BUDGET));
    }

    /**
     * 10,000 programs loaded, compiled, run and freed: their hidden classes must be unloaded, and
     * metaspace must not keep them. Measured honestly: the JVM's count of unloaded classes must
     * grow by most of the 10,000, and metaspace used after a collection must stay below what
     * 10,000 live classes take (measured here: about 1 KiB of metaspace each).
     */
    @Test
    void compiledClassesAreUnloadedWhenTheirProgramIsFreed() throws Exception {
        var classes = java.lang.management.ManagementFactory.getClassLoadingMXBean();
        Program prog = new Assembler().assemble(PROG);
        try (EngineBackend b = new EngineBackend()) {
            b.host().setJitMode(JitMode.ON);
            // warm up: the engine's own classes are loaded before the baseline
            for (int i = 0; i < 200; i++) {
                try (LoadedProg p = load(b, prog)) {
                    run(b, p, 1);
                }
            }
            settle();
            long metaBefore = metaspaceUsed();
            long unloadedBefore = classes.getUnloadedClassCount();
            for (int i = 0; i < 10_000; i++) {
                try (LoadedProg p = load(b, prog)) {
                    assertEquals(97, run(b, p, 1));
                }
            }
            assertEquals(10_200, b.host().jitStats().compiled());
            settle();
            long grown = metaspaceUsed() - metaBefore;
            long unloaded = classes.getUnloadedClassCount() - unloadedBefore;
            assertTrue(unloaded >= 9_000, "compiled classes unloaded: " + unloaded + " of 10,000");
            assertTrue(grown < 2L << 20, "metaspace grew by " + grown + " bytes over 10,000 load/free cycles");
        }
    }

    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
    }

    private static long metaspaceUsed() {
        long used = 0;
        for (var pool : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getName().contains("Metaspace") || pool.getName().contains("Class Space")) {
                used += pool.getUsage().getUsed();
            }
        }
        return used;
    }
}
