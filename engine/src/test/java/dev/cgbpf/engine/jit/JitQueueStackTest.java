package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.QueueStackHelpers;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.maps.EngineMap;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Programs calling bpf_map_push_elem, bpf_map_pop_elem and bpf_map_peek_elem run compiled as
 * they run interpreted: the compiler calls them through the helper table like any helper, and
 * the stack slot a pop or peek writes is one the program also reads directly (a slot the compiler
 * may keep in a local), so the call must be seen to write it. The same sequence of runs on a
 * queue and on a stack (2 entries) gives, on each tier over maps of its own, the kernel's answers.
 */
class JitQueueStackTest {
    private static final byte[] FRAME = new byte[64];
    private static final long ENOENT = -2;
    private static final long E2BIG = -7;
    private static final long EINVAL = -22;

    /** *(u64 *)(fp-16) = value; return bpf_map_push_elem(map, fp-16, flags) */
    private static Program push(long value, int flags) {
        List<Insn> c = new ArrayList<>();
        c.add(new Insn(0x7a, 10, 0, -16, (int) value)); // *(u64 *)(r10 -16) = value
        mapAndPointer(c, -16);
        c.add(new Insn(0xb7, 3, 0, 0, flags)); // r3 = flags
        c.add(new Insn(0x85, 0, 0, 0, QueueStackHelpers.MAP_PUSH_ELEM));
        c.add(new Insn(0x95, 0, 0, 0, 0));
        return Program.of(c.toArray(Insn[]::new));
    }

    /**
     * *(u64 *)(fp-8) = 0x5a; r7 = *(u64 *)(fp-8); r6 = helper(map, fp-8); return r6 == 0 ?
     * *(u64 *)(fp-8) - r7 : r6 + *(u64 *)(fp-8), so that the value, the stale 0x5a and the zeroing
     * on ENOENT all show in r0.
     */
    private static Program get(int helper) {
        List<Insn> c = new ArrayList<>();
        c.add(new Insn(0x7a, 10, 0, -8, 0x5a)); // *(u64 *)(r10 -8) = 0x5a
        c.add(new Insn(0x79, 7, 10, -8, 0)); // r7 = *(u64 *)(r10 -8)
        mapAndPointer(c, -8);
        c.add(new Insn(0x85, 0, 0, 0, helper));
        c.add(new Insn(0xbf, 6, 0, 0, 0)); // r6 = r0
        c.add(new Insn(0x79, 0, 10, -8, 0)); // r0 = *(u64 *)(r10 -8)
        c.add(new Insn(0x55, 6, 0, 2, 0)); // if r6 != 0 goto +2
        c.add(new Insn(0x1f, 0, 7, 0, 0)); // r0 -= r7
        c.add(new Insn(0x95, 0, 0, 0, 0));
        c.add(new Insn(0x0f, 0, 6, 0, 0)); // r0 += r6
        c.add(new Insn(0x95, 0, 0, 0, 0));
        return Program.of(c.toArray(Insn[]::new));
    }

    /** r1 = map (fd 1); r2 = fp + off */
    private static void mapAndPointer(List<Insn> c, int off) {
        c.add(new Insn(0x18, 1, Opcodes.PSEUDO_MAP_FD, 0, 1));
        c.add(new Insn(0x00, 0, 0, 0, 0));
        c.add(new Insn(0xbf, 2, 10, 0, 0));
        c.add(new Insn(0x07, 2, 0, 0, off));
    }

    /** Runs the programs in order on one tier, over a fresh map of {@code type}; their r0s. */
    private static List<Long> runAll(MapType type, List<Program> programs, boolean compiled) throws Exception {
        AddressSpace space = new AddressSpace();
        EngineMap map = EngineMap.create(new MapSpec("qs", type, 0, 8, 2, 0), space);
        List<Long> out = new ArrayList<>();
        for (Program p : programs) {
            Interpreter interp = Interpreter.decode(p, (src, imm, next) -> map.objectAddress());
            Machine m = new Machine(space, BaseHelpers.TABLE, new SkBuffContext(FRAME));
            if (compiled) {
                if (!(JitCompiler.compile(p, interp) instanceof JitCompiler.Compiled c)) {
                    throw new AssertionError("not compiled");
                }
                out.add(c.code().run(m, Interpreter.DEFAULT_BUDGET, interp));
            } else {
                out.add(interp.run(m, Interpreter.DEFAULT_BUDGET));
            }
        }
        return out;
    }

    @Test
    void bothTiersPushPopAndPeekAsTheKernel() throws Exception {
        Program pop = get(QueueStackHelpers.MAP_POP_ELEM);
        Program peek = get(QueueStackHelpers.MAP_PEEK_ELEM);
        List<Program> programs = List.of(peek, push(5, 0), push(6, 0), push(7, 0), push(7, 1), push(7, 2), peek, pop,
                pop, pop, push(8, 3));
        // a pop or peek answers the value minus the 0x5a it overwrote; an empty map: -ENOENT plus the zeroed
        // value. push(7, BPF_EXIST) into the full map drops the oldest, 5, from the queue and the stack alike
        long v6 = 6 - 0x5a;
        long v7 = 7 - 0x5a;
        List<Long> queue = List.of(ENOENT, 0L, 0L, E2BIG, EINVAL, 0L, v6, v6, v7, ENOENT, EINVAL);
        List<Long> stack = List.of(ENOENT, 0L, 0L, E2BIG, EINVAL, 0L, v7, v7, v6, ENOENT, EINVAL);
        assertEquals(queue, runAll(MapType.QUEUE, programs, false), "queue, interpreted");
        assertEquals(queue, runAll(MapType.QUEUE, programs, true), "queue, compiled");
        assertEquals(stack, runAll(MapType.STACK, programs, false), "stack, interpreted");
        assertEquals(stack, runAll(MapType.STACK, programs, true), "stack, compiled");
    }
}
