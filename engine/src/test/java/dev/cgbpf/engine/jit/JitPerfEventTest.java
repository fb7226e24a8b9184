package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.PerfRecord;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.hooks.CgroupHelpers;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.HelperTable;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.maps.EngineMap;
import dev.cgbpf.engine.maps.PerfEventArrayMap;
import dev.cgbpf.engine.maps.PerfEventRing;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A program calling bpf_perf_event_output (the plain form, a cgroup_device program's) runs
 * compiled as it runs interpreted: the compiler calls the helper through the helper table, which
 * reads the data from the frame the program just wrote. The same flags on each tier, over an
 * array of its own (slot 0: CPU 0's event, slot 1: CPU 1's, slot 2 empty), give the same answers
 * and the same records.
 */
class JitPerfEventTest {
    private static final byte[] FRAME = new byte[64];

    /** *(u64 *)(fp-8) = 0x5a5a5a5a; return bpf_perf_event_output(ctx, map, flags, fp-8, 8) */
    private static Program output(long flags) {
        List<Insn> c = new ArrayList<>();
        c.add(new Insn(0x7a, 10, 0, -8, 0x5a5a5a5a)); // *(u64 *)(r10 -8) = 0x5a5a5a5a
        c.add(new Insn(0x18, 2, Opcodes.PSEUDO_MAP_FD, 0, 1)); // r2 = map
        c.add(new Insn(0x00, 0, 0, 0, 0));
        c.add(new Insn(0x18, 3, 0, 0, (int) flags)); // r3 = flags ll
        c.add(new Insn(0x00, 0, 0, 0, (int) (flags >>> 32)));
        c.add(new Insn(0xbf, 4, 10, 0, 0)); // r4 = r10
        c.add(new Insn(0x07, 4, 0, 0, -8)); // r4 += -8
        c.add(new Insn(0xb7, 5, 0, 0, 8)); // r5 = 8
        c.add(new Insn(0x85, 0, 0, 0, 25)); // call bpf_perf_event_output#25
        c.add(new Insn(0x95, 0, 0, 0, 0));
        return Program.of(c.toArray(Insn[]::new));
    }

    /** Runs the programs in order on one tier over a fresh array; their r0s, then CPU 0's records. */
    private static List<String> runAll(List<Program> programs, boolean compiled) throws Exception {
        AddressSpace space = new AddressSpace();
        PerfEventArrayMap map = (PerfEventArrayMap) EngineMap.create(
                new MapSpec("events", MapType.PERF_EVENT_ARRAY, 4, 4, 3, 0), space);
        PerfEventRing cpu0 = PerfEventRing.open(0, 1);
        map.put(new byte[] {0, 0, 0, 0}, cpu0);
        map.put(new byte[] {1, 0, 0, 0}, PerfEventRing.open(1, 2));
        HelperTable helpers = CgroupHelpers.tableFor(ProgType.CGROUP_DEVICE, null);
        List<String> out = new ArrayList<>();
        for (Program p : programs) {
            Interpreter interp = Interpreter.decode(p, (src, imm, next) -> map.objectAddress());
            Machine m = new Machine(space, helpers, new SkBuffContext(FRAME));
            if (compiled) {
                if (!(JitCompiler.compile(p, interp) instanceof JitCompiler.Compiled c)) {
                    throw new AssertionError("not compiled");
                }
                out.add(Long.toString(c.code().run(m, Interpreter.DEFAULT_BUDGET, interp)));
            } else {
                out.add(Long.toString(interp.run(m, Interpreter.DEFAULT_BUDGET)));
            }
        }
        for (PerfRecord r : cpu0.read()) {
            out.add(r.type() + "/" + r.misc() + "/" + HexFormat.of().formatHex(r.body()));
        }
        return out;
    }

    @Test
    void bothTiersWriteTheSameRecordsAndAnswers() throws Exception {
        assumeTrue(PerfEventRing.cpus() >= 2, "needs two possible CPUs for CPU 1's event");
        List<Program> programs = List.of(output(0), output(0xffffffffL), output(1), output(2), output(3),
                output(1L << 32));
        // a sample: PERF_RECORD_SAMPLE (9), misc KERNEL (1), raw size 12 (8 bytes padded), the data, 4 bytes of padding
        String sample = "9/1/0c0000005a5a5a5a0000000000000000";
        List<String> expected = List.of("0", "0", "-95", "-2", "-7", "-22", sample, sample);
        assertEquals(expected, runAll(programs, false), "interpreted");
        assertEquals(expected, runAll(programs, true), "compiled");
    }
}
