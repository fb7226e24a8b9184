package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Long programs without loops, which the compiler cuts into several methods: random ALU work,
 * forward branches (some over long distances, which forbid cuts), stack stores and loads, context
 * loads and stores, bpf-to-bpf calls and 64-bit immediates. Interpreter and compiler must agree on r0 or the
 * fault, the packet and the stack; most programs must really have been cut.
 */
class JitSplitTest {
    private static final byte[] PACKET = HexFormat.of().parseHex(
            "ffffffffffff0200000000010800450000200001000040117cc87f0000017f000001d4310035000c0000deadbeef");
    private static final int[] WORK = {0, 2, 3, 4, 5, 7, 8, 9};
    private static final int[] ALU = {0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67,
        0x6f, 0x77, 0x7f, 0x87, 0x97, 0x9f, 0xa7, 0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c,
        0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4, 0xbc, 0xc4,
        0xcc};
    private static final int[] JMP_OPS = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0};

    private final SplittableRandom rnd = new SplittableRandom(1818);

    @Test
    void longProgramsAreCutAndAgree() {
        int cut = 0;
        int faults = 0;
        int programs = 300;
        java.util.Map<String, Integer> reasons = new java.util.TreeMap<>();
        for (int n = 0; n < programs; n++) {
            Program p = program(250 + rnd.nextInt(1500));
            Interpreter interp = Interpreter.decode(p, PseudoResolver.NONE);
            JitCompiler.Result r = JitCompiler.compile(p, interp);
            if (!(r instanceof JitCompiler.Compiled c)) {
                throw new AssertionError("not compiled: " + r);
            }
            cut += c.methods() > 1 ? 1 : 0;
            // the full budget runs compiled; one smaller than the program is handed to the interpreter
            long budget = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(p.size()) : Interpreter.DEFAULT_BUDGET;
            TwoTiers.Outcome a = TwoTiers.run(machine(), m -> interp.run(m, budget));
            TwoTiers.Outcome b = TwoTiers.run(machine(), m -> c.code().run(m, budget, interp));
            assertEquals(a, b, () -> "program " + p.toHex() + " budget " + budget + " methods " + c.methods());
            if (a.result().startsWith("fault")) {
                faults++;
                reasons.merge(a.result().replaceAll("insn \\d+|\\d+ exh", "#"), 1, Integer::sum);
            }
        }
        assertTrue(cut > programs * 3 / 4, "programs cut into several methods: " + cut);
        assertTrue(faults < programs / 2, "faults " + faults + " " + reasons);
    }

    /**
     * A cut program with more promoted slots and cached context values than a part's parameters
     * can hold (the JVM's 255 slots): they go through the frame's bytes at the cut instead, and
     * the tiers still agree. Every 8-byte slot of the frame is written and read, and 35 different
     * reads of skb->cb (offset and size) are cached.
     */
    @Test
    void cutWithTooManyLocalsToCarryAgrees() {
        for (int n = 0; n < 20; n++) {
            List<Insn> out = new ArrayList<>();
            out.add(new Insn(0xbf, 6, 1, 0, 0)); // r6 = ctx
            for (int k = 1; k <= 64; k++) {
                out.add(new Insn(0x7a, 10, 0, -8 * k, k * 7919)); // *(u64 *)(r10 - 8k) = k * 7919
            }
            // skb->cb[1] = imm (one store: each store the flow does not prove in the frame is a
            // place the slots are read again, and too many of those leave them in the frame)
            out.add(new Insn(0x62, 6, 0, 52, rnd.nextInt()));
            List<long[]> reads = new ArrayList<>(); // offset, size
            for (int off = 48; off < 68; off++) {
                reads.add(new long[] {off, 1});
                if (off % 2 == 0) {
                    reads.add(new long[] {off, 2});
                }
                if (off % 4 == 0) {
                    reads.add(new long[] {off, 4});
                }
            }
            for (long[] r : reads) {
                out.add(new Insn(r[1] == 1 ? 0x71 : r[1] == 2 ? 0x69 : 0x61, work(), 6, (int) r[0], 0));
            }
            while (out.size() < 1800) {
                int k = rnd.nextInt(10);
                if (k < 4) {
                    out.add(new Insn(ALU[rnd.nextInt(ALU.length)], work(), work(), 0, rnd.nextInt(-8, 64)));
                } else if (k < 6) {
                    out.add(new Insn(0x79, work(), 10, -8 * (1 + rnd.nextInt(64)), 0));
                } else if (k < 8) {
                    out.add(new Insn(0x7b, 10, work(), -8 * (1 + rnd.nextInt(64)), 0));
                } else if (k < 9) {
                    long[] r = reads.get(rnd.nextInt(reads.size()));
                    out.add(new Insn(r[1] == 1 ? 0x71 : r[1] == 2 ? 0x69 : 0x61, work(), 6, (int) r[0], 0));
                } else {
                    int off = Math.min(1 + rnd.nextInt(4), 1799 - out.size()); // forward, at most to the exit
                    out.add(new Insn(0x25, work(), 0, off, rnd.nextInt(100)));
                }
            }
            out.add(new Insn(0x95, 0, 0, 0, 0));
            Program p = new Program(out);
            Interpreter interp = Interpreter.decode(p, PseudoResolver.NONE);
            ProgramEmitter plan = new ProgramEmitter(p, interp);
            assertEquals(null, plan.plan());
            assertTrue(!plan.carriesSlots() && plan.promoted().count() == 64,
                    "slots carried as parameters: " + plan.carriesSlots() + ", promoted " + plan.promoted().count());
            JitCompiler.Result r = JitCompiler.compile(p, interp);
            if (!(r instanceof JitCompiler.Compiled c) || c.methods() < 2) {
                throw new AssertionError("not compiled in parts: " + r);
            }
            TwoTiers.Outcome a = TwoTiers.run(machine(), m -> interp.run(m, Interpreter.DEFAULT_BUDGET));
            TwoTiers.Outcome b = TwoTiers.run(machine(), m -> c.code().run(m, Interpreter.DEFAULT_BUDGET, interp));
            assertEquals(a, b, () -> "program " + p.toHex());
            assertTrue(a.result().startsWith("r0="), a.result());
        }
    }

    private static java.util.function.Supplier<Machine> machine() {
        AddressSpace space = new AddressSpace();
        return () -> new Machine(space, BaseHelpers.TABLE, new SkBuffContext(PACKET));
    }

    private Program program(int len) {
        List<Insn> out = new ArrayList<>();
        out.add(new Insn(0xbf, 6, 1, 0, 0)); // r6 = ctx
        for (int k = 1; k <= 8; k++) {
            out.add(new Insn(0x7a, 10, 0, -8 * k, k * 31)); // every stack slot written first
        }
        for (int r : WORK) {
            out.add(new Insn(0x61, r, 6, 0, 0)); // r = skb->len
        }
        boolean sub = rnd.nextBoolean();
        // half the programs touch the frame in 8-byte slots only: those are kept in locals
        boolean slotsOnly = rnd.nextBoolean();
        List<Integer> callSites = new ArrayList<>();
        while (out.size() < len) {
            int pc = out.size();
            int k = rnd.nextInt(100);
            if (k < 50) {
                int code = ALU[rnd.nextInt(ALU.length)];
                int off = ((code & 0xf0) == 0x30 || (code & 0xf0) == 0x90) && rnd.nextBoolean() ? 1 : 0;
                int imm = rnd.nextInt(3) == 0 ? rnd.nextInt() : rnd.nextInt(-8, 64);
                out.add(new Insn(code, work(), work(), off, imm));
            } else if (k < 68) {
                int code = JMP_OPS[rnd.nextInt(JMP_OPS.length)] | (rnd.nextBoolean() ? 0x05 : 0x06)
                        | (rnd.nextBoolean() ? 0x08 : 0);
                int room = Math.max(1, len - pc - 1);
                int off = rnd.nextInt(20) == 0 ? rnd.nextInt(room) : rnd.nextInt(Math.min(12, room));
                out.add(new Insn(code, work(), work(), off, rnd.nextInt(-4, 100)));
            } else if (k < 78) {
                out.add(new Insn(0x7b, 10, work(), -8 * (1 + rnd.nextInt(8)), 0));
            } else if (k < 88) {
                out.add(new Insn(slotsOnly ? 0x79 : new int[] {0x79, 0x61, 0x69, 0x71}[rnd.nextInt(4)], work(), 10,
                        -8 * (1 + rnd.nextInt(8)), 0));
            } else if (k < 95) {
                if (rnd.nextInt(4) == 0) {
                    // a store to skb->cb[0] or cb[1] (writable), which later reads of it must see
                    out.add(new Insn(0x63, 6, work(), 48 + 4 * rnd.nextInt(2), 0));
                } else {
                    out.add(new Insn(0x61, work(), 6, new int[] {0, 4, 8, 12, 16, 20, 24, 48, 52}[rnd.nextInt(9)], 0));
                }
            } else if (k < 97 && sub) {
                callSites.add(pc);
                out.add(new Insn(0x85, 0, 1, 0, 0));
            } else if (pc + 2 < len) {
                out.add(new Insn(0x18, work(), 0, 0, rnd.nextInt()));
                out.add(new Insn(0, 0, 0, 0, rnd.nextInt()));
            }
        }
        out.add(new Insn(0x95, 0, 0, 0, 0));
        // no branch into the second half of a 64-bit immediate (an invalid opcode on both tiers)
        for (int pc = 0; pc < out.size(); pc++) {
            Insn j = out.get(pc);
            int t = pc + 1 + j.off();
            if ((j.code() & 0x07) >= 0x05 && (j.code() & 0xf0) != 0x80 && (j.code() & 0xf0) != 0x90
                    && t > 0 && out.get(t - 1).code() == 0x18) {
                out.set(pc, new Insn(j.code(), j.dst(), j.src(), j.off() + 1, j.imm()));
            }
        }
        if (sub) {
            // a subprogram with a frame of its own and a branch
            int at = out.size();
            out.add(new Insn(0x7b, 10, 1, -8, 0));
            out.add(new Insn(0x79, 0, 10, -8, 0));
            out.add(new Insn(0x0f, 0, 2, 0, 0));
            out.add(new Insn(0x25, 0, 0, 1, 1000));
            out.add(new Insn(0x27, 0, 0, 0, 3));
            out.add(new Insn(0x95, 0, 0, 0, 0));
            for (int site : callSites) {
                out.set(site, new Insn(0x85, 0, 1, 0, at - site - 1));
            }
        }
        return new Program(out);
    }

    private int work() {
        return WORK[rnd.nextInt(WORK.length)];
    }
}
