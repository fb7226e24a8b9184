package dev.cgbpf.tools.bench;

import static dev.cgbpf.engine.isa.Reg.R0;
import static dev.cgbpf.engine.isa.Reg.R1;
import static dev.cgbpf.engine.isa.Reg.R10;
import static dev.cgbpf.engine.isa.Reg.R2;
import static dev.cgbpf.engine.isa.Reg.R3;
import static dev.cgbpf.engine.isa.Reg.R6;
import static dev.cgbpf.engine.isa.Reg.R7;
import static dev.cgbpf.engine.isa.Reg.R8;

import dev.cgbpf.engine.isa.AluOp;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.isa.Reg;
import java.util.List;
import java.util.Random;

/**
 * The programs of {@code cgbpf-tools bench interp}, from 10 to 1000 instruction slots, generated with
 * the {@link Asm} builder from a fixed seed so every run measures the same code. They are
 * straight-line except for short forward branches and one bounded loop, so the number of
 * instructions executed per run is close to the slot count (the loop: about 13 a round).
 */
public final class BenchPrograms {
    private BenchPrograms() {
    }

    /** Entries of the benchmark's array map: u32 key, u64 value. */
    public static final int MAP_ENTRIES = 16;

    private static final Reg[] WORK = {R0, R2, R3, Reg.R4, Reg.R5, R7, R8, Reg.R9};
    /** __sk_buff fields a socket_filter may read: len, mark, priority, protocol. */
    private static final int[] CTX_FIELDS = {0, 8, 12, 16};
    /** Stack slots the programs use; all are written before any is read (the verifier insists). */
    private static final int STACK_SLOTS = 8;

    public static List<BenchProgram> suite() {
        return List.of(
                new BenchProgram("alu_10", "ALU chain", false, fd -> aluChain(10, 1)),
                new BenchProgram("branch_50", "ALU + forward branches", false, fd -> mixed(50, 2, true, false)),
                new BenchProgram("stack_100", "ALU + stack loads/stores", false, fd -> mixed(100, 3, false, true)),
                new BenchProgram("mixed_300", "ALU + branches + stack", false, fd -> mixed(300, 4, true, true)),
                new BenchProgram("mixed_1000", "ALU + branches + stack", false, fd -> mixed(1000, 5, true, true)),
                new BenchProgram("maploop_16", "loop of 16 array-map lookups", true, BenchPrograms::mapLoop));
    }

    /**
     * A program of exactly {@code slots} slots: registers seeded from the packet length (so
     * nothing is a compile-time constant), then random blocks of ALU ops, optionally forward
     * branches on data-dependent values and stack stores/loads, then {@code exit}.
     */
    static Program mixed(int slots, long seed, boolean branches, boolean stack) {
        Random rnd = new Random(seed);
        Asm a = new Asm();
        if (slots < 20) {
            throw new IllegalArgumentException("a mixed program needs at least 20 slots");
        }
        a.mov(R6, R1).ldxW(R2, R6, 0); // r6 = ctx, r2 = skb->len
        for (Reg r : WORK) {
            if (r != R2) {
                a.mov(r, R2).add(r, rnd.nextInt(1000));
            }
        }
        if (stack) {
            for (int i = 0; i < STACK_SLOTS; i++) {
                a.stxDW(R10, -8 * (i + 1), WORK[i % WORK.length]);
            }
        }
        int label = 0;
        while (a.here() < slots - 1) {
            int room = slots - 1 - a.here();
            int kind = rnd.nextInt(10);
            if (branches && kind < 3 && room >= 4) {
                // r1 = a ctx field ; if r1 > K goto +2 ; rY += r1 ; rY ^= K2
                // Branching on a fresh ctx load, as filters do, keeps the verifier's state count
                // small: a compare on a long-lived register whose outcome it can sometimes decide
                // makes it track the values exactly, and 1000 slots no longer verify (E2BIG).
                String skip = "s" + label++;
                Reg y = pick(rnd);
                a.ldxW(R1, R6, CTX_FIELDS[rnd.nextInt(CTX_FIELDS.length)])
                        .jgt(R1, rnd.nextInt(2000), skip).add(y, R1).xor(y, rnd.nextInt(1 << 16)).label(skip);
            } else if (stack && kind < 6 && room >= 2) {
                int from = -8 * (rnd.nextInt(STACK_SLOTS) + 1);
                int to = -8 * (rnd.nextInt(STACK_SLOTS) + 1);
                a.ldxDW(pick(rnd), R10, from).stxDW(R10, to, pick(rnd));
            } else {
                alu(a, rnd);
            }
        }
        return a.exit().build();
    }

    /** {@code r0 = skb->len}, then a chain of ALU ops on r0 with immediates, then exit. */
    static Program aluChain(int slots, long seed) {
        Asm a = new Asm();
        a.ldxW(R2, R1, 0).mov(R0, R2);
        Random rnd = new Random(seed);
        while (a.here() < slots - 1) {
            AluOp op = switch (rnd.nextInt(4)) {
                case 0 -> AluOp.ADD;
                case 1 -> AluOp.XOR;
                case 2 -> AluOp.MUL;
                default -> AluOp.OR;
            };
            a.alu64(op, R0, rnd.nextInt(1 << 12) + 1);
        }
        return a.exit().build();
    }

    private static void alu(Asm a, Random rnd) {
        Reg d = pick(rnd);
        Reg s = pick(rnd);
        switch (rnd.nextInt(10)) {
            case 0 -> a.add(d, s);
            case 1 -> a.sub(d, s);
            case 2 -> a.mul(d, rnd.nextInt(100) + 1);
            case 3 -> a.xor(d, s);
            case 4 -> a.or(d, rnd.nextInt(1 << 20));
            case 5 -> a.and(d, rnd.nextInt() | 0xff);
            case 6 -> a.lsh(d, rnd.nextInt(8));
            case 7 -> a.rsh(d, rnd.nextInt(8));
            case 8 -> a.alu32(AluOp.ADD, d, s);
            default -> a.div(d, rnd.nextInt(7) + 1);
        }
    }

    private static Reg pick(Random rnd) {
        return WORK[rnd.nextInt(WORK.length)];
    }

    /** Sums the 16 values of the array map through bpf_map_lookup_elem in a bounded loop. */
    static Program mapLoop(int mapFd) {
        return new Asm()
                .movImm(R7, 0)
                .movImm(R8, 0)
                .label("loop")
                .stxW(R10, -4, R7)
                .ldMapFd(R1, mapFd)
                .mov(R2, R10)
                .add(R2, -4)
                .call("bpf_map_lookup_elem")
                .jeq(R0, 0, "next")
                .ldxDW(R3, R0, 0)
                .add(R8, R3)
                .label("next")
                .add(R7, 1)
                .jlt(R7, MAP_ENTRIES, "loop")
                .mov(R0, R8)
                .exit()
                .build();
    }
}
