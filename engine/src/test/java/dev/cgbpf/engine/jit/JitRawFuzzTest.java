package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.HelperTable;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.MalformedProgramException;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.maps.EngineMap;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Unverified random programs, interpreter against compiler: what the verifier would refuse is
 * where the two can differ most (faults of every kind, endless loops against small budgets,
 * invalid opcodes, calls too deep, falling off the end), so these run without a verifier. Each
 * program runs on each tier with a map and a packet of its own; r0 or the fault, the packet, the
 * stack and the map's values must be the same.
 */
class JitRawFuzzTest {
    private static final byte[] PACKET = HexFormat.of().parseHex(
            "ffffffffffff0200000000010800450000200001000040117cc87f0000017f000001d4310035000c0000deadbeef");
    private static final MapSpec SPEC = new MapSpec("fuzz", MapType.ARRAY, 4, 16, 4, 0);
    private static final int[] ALU = {0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67,
        0x6f, 0x77, 0x7f, 0x87, 0x97, 0x9f, 0xa7, 0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd7, 0x04, 0x0c, 0x14, 0x1c, 0x24,
        0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4, 0xbc,
        0xc4, 0xcc, 0xd4, 0xdc};
    private static final int[] JMP_OPS = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0};
    private static final int[] MEM = {0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b,
        0x73, 0x7b};
    private static final long[] BUDGETS = {Interpreter.DEFAULT_BUDGET, 7, 40, 300, 5000};

    private final SplittableRandom rnd = new SplittableRandom(18);

    @Test
    void tenThousandRandomProgramsAgree() throws Exception {
        int compiled = 0;
        int faults = 0;
        int budgetStops = 0;
        for (int n = 0; n < 10_000; n++) {
            Program p = program();
            long budget = BUDGETS[rnd.nextInt(BUDGETS.length)];
            String a;
            String b;
            try {
                a = run(p, budget, false);
            } catch (MalformedProgramException e) {
                continue; // decode refuses it: neither tier runs it
            }
            b = run(p, budget, true);
            compiled++;
            assertEquals(a, b, () -> "program " + p.toHex() + " budget " + budget);
            faults += a.startsWith("fault") ? 1 : 0;
            budgetStops += a.contains("budget") ? 1 : 0;
        }
        // not vacuous: most programs ran on both tiers, and both outcomes are well represented
        assertTrue(compiled > 8_000, "compiled " + compiled);
        assertTrue(faults > 500 && faults < compiled - 500, "faults " + faults);
        assertTrue(budgetStops > 50, "budget stops " + budgetStops);
    }

    private String run(Program p, long budget, boolean jit) throws Exception {
        AddressSpace space = new AddressSpace();
        EngineMap map = EngineMap.create(SPEC, space);
        for (int i = 0; i < 4; i++) {
            byte[] v = new byte[16];
            v[0] = (byte) (i * 7 + 1);
            map.updateElem(new byte[] {(byte) i, 0, 0, 0}, v, 0);
        }
        Interpreter interp = Interpreter.decode(p, (src, imm, next) -> src == 1 ? map.objectAddress()
                : map.directValueAddress(next));
        // bpf_get_prandom_u32 from a fixed seed, so that both tiers see the same numbers
        SplittableRandom prandom = new SplittableRandom(p.size());
        HelperTable helpers = HelperTable.builder().addAll(BaseHelpers.TABLE)
                .add(BaseHelpers.GET_PRANDOM_U32, (mm, r1, r2, r3, r4, r5) -> prandom.nextInt() & 0xffffffffL).build();
        Machine m = new Machine(space, helpers, new SkBuffContext(PACKET));
        TwoTiers.Outcome o;
        if (jit) {
            JitCompiler.Result r = JitCompiler.compile(p, interp);
            if (!(r instanceof JitCompiler.Compiled c)) {
                throw new AssertionError("not compiled: " + r + " " + p.toHex());
            }
            o = TwoTiers.run(() -> m, mm -> c.code().run(mm, budget, interp));
        } else {
            o = TwoTiers.run(() -> m, mm -> interp.run(mm, budget));
        }
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            values.append(HexFormat.of().formatHex(map.valueOf(i))).append(' ');
        }
        return o.result() + " | " + o.packet() + " | " + o.stack() + " | " + values;
    }

    private Program program() {
        List<Insn> out = new ArrayList<>();
        int len = 4 + rnd.nextInt(40);
        // registers with values: small numbers, the stack and the context
        out.add(new Insn(0xbf, 6, 1, 0, 0));
        out.add(new Insn(0xbf, 7, 10, 0, 0));
        out.add(new Insn(0x07, 7, 0, 0, -8 * (1 + rnd.nextInt(8))));
        while (out.size() < len) {
            out.add(insn(out.size(), len));
            if (rnd.nextInt(12) == 0) {
                out.add(new Insn(0x18, reg(), rnd.nextInt(4) == 0 ? 1 : 0, 0, rnd.nextInt()));
                out.add(new Insn(0, 0, 0, 0, rnd.nextInt(3) == 0 ? rnd.nextInt(64) : 0));
            }
        }
        if (rnd.nextInt(4) != 0) {
            out.add(new Insn(0x95, 0, 0, 0, 0));
        }
        if (rnd.nextInt(5) == 0) {
            // a subprogram after the exit, called from somewhere above
            int at = out.size();
            out.add(new Insn(0x7a, 10, 0, -8, rnd.nextInt(100)));
            out.add(new Insn(0x79, 0, 10, -8, 0));
            out.add(new Insn(0x0f, 0, 1, 0, 0));
            if (rnd.nextBoolean()) {
                out.add(new Insn(0x85, 0, 1, 0, -4)); // calls itself: too deep
            }
            out.add(new Insn(0x95, 0, 0, 0, 0));
            int from = 3 + rnd.nextInt(Math.max(1, at - 3));
            if (from < at && !out.get(from - 1).isLdImm64()) {
                out.set(from, new Insn(0x85, 0, 1, 0, at - from - 1));
            }
        }
        return new Program(out);
    }

    private Insn insn(int pc, int len) {
        int k = rnd.nextInt(100);
        if (k < 40) {
            int code = ALU[rnd.nextInt(ALU.length)];
            int off = (code & 0xf0) == 0xb0 && rnd.nextInt(3) == 0 ? new int[] {8, 16, 32}[rnd.nextInt(3)]
                    : ((code & 0xf0) == 0x30 || (code & 0xf0) == 0x90) && rnd.nextBoolean() ? 1 : 0;
            int imm = (code & 0xf0) == 0xd0 ? new int[] {16, 32, 64}[rnd.nextInt(3)] : imm();
            return new Insn(code, reg(), reg(), off, imm);
        }
        if (k < 58) {
            int code = JMP_OPS[rnd.nextInt(JMP_OPS.length)] | (rnd.nextBoolean() ? 0x05 : 0x06) | (rnd.nextBoolean() ? 0x08 : 0);
            int off = rnd.nextInt(5) == 0 ? -rnd.nextInt(1, Math.max(2, pc)) : rnd.nextInt(0, Math.max(1, len - pc));
            return new Insn(code, reg(), reg(), off, imm());
        }
        if (k < 80) {
            int code = MEM[rnd.nextInt(MEM.length)];
            int base = switch (rnd.nextInt(5)) {
                case 0, 1 -> 10;
                case 2 -> 6;
                case 3 -> 7;
                default -> reg();
            };
            int off = base == 10 ? -rnd.nextInt(530) + 8 : base == 6 ? rnd.nextInt(200) - 4 : rnd.nextInt(-16, 17);
            boolean load = (code & 0x07) == 0x01;
            return load ? new Insn(code, reg(), base, off, 0) : new Insn(code, base, reg(), off, imm());
        }
        return switch (rnd.nextInt(9)) {
            case 0 -> new Insn(0x85, 0, 0, 0, new int[] {1, 2, 3, 7, 8, 42, 999}[rnd.nextInt(7)]);
            case 1 -> new Insn(0x95, 0, 0, 0, 0);
            case 2 -> new Insn(rnd.nextBoolean() ? 0xc3 : 0xdb, 7, reg(), 0,
                    new int[] {0x00, 0x01, 0x40, 0x41, 0x50, 0xa1, 0xe1, 0xf1, 0x33}[rnd.nextInt(9)]);
            case 3 -> new Insn(new int[] {0x20, 0x28, 0x30, 0x40, 0x48, 0x50}[rnd.nextInt(6)], 0, reg(), 0,
                    rnd.nextInt(4) == 0 ? -0x100000 + rnd.nextInt(40) : rnd.nextInt(60));
            case 4 -> new Insn(0x05, 0, 0, rnd.nextInt(-3, 4), 0);
            case 5 -> new Insn(0x06, 0, 0, 0, rnd.nextInt(-3, 4));
            case 6 -> new Insn(rnd.nextInt(256), reg(), reg(), rnd.nextInt(-4, 4), imm());
            case 7 -> new Insn(0xbf, 1, 7, 0, 0);
            default -> new Insn(0x85, 0, 2, 0, 5);
        };
    }

    private int reg() {
        return rnd.nextInt(10);
    }

    private int imm() {
        return switch (rnd.nextInt(5)) {
            case 0 -> rnd.nextInt(-4, 5);
            case 1 -> rnd.nextInt();
            case 2 -> Integer.MIN_VALUE + rnd.nextInt(3);
            default -> rnd.nextInt(64);
        };
    }
}
