package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The abstract arithmetic must over-approximate: for concrete members of two abstract values,
 * the concrete result (RFC 9669 semantics) is a member of the abstract result. Same for branch
 * refinement: a value that satisfies the condition survives the narrowing. A failure here is a
 * soundness bug: the verifier could accept a program the analysis misjudged.
 */
class ScalarSoundnessTest {
    private static final int[] OPS = {ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, MOD, XOR, ARSH, NEG};
    private static final int[] CONDS = {JEQ, JNE, JGT, JGE, JLT, JLE, JSGT, JSGE, JSLT, JSLE, JSET, Branches.JNSET};

    /** A random abstract value and a way to draw its members. */
    private record Abs(Scalar s, long lo, long hi, Tnum t) {
        long member(SplittableRandom r) {
            for (int i = 0; i < 100; i++) {
                long v = pick(r);
                if (contains(s, v)) {
                    return v;
                }
            }
            return s.var().value();
        }

        private long pick(SplittableRandom r) {
            return switch (r.nextInt(3)) {
                case 0 -> lo;
                case 1 -> hi;
                default -> lo + (long) (r.nextDouble() * (double) (hi - lo));
            };
        }
    }

    static boolean contains(Scalar s, long v) {
        return s.var().containsValue(v) && s.smin() <= v && v <= s.smax()
                && Long.compareUnsigned(s.umin(), v) <= 0 && Long.compareUnsigned(v, s.umax()) <= 0
                && s.s32min() <= (int) v && (int) v <= s.s32max()
                && Integer.compareUnsigned(s.u32min(), (int) v) <= 0 && Integer.compareUnsigned((int) v, s.u32max()) <= 0;
    }

    private static Abs randomAbs(SplittableRandom r) {
        switch (r.nextInt(5)) {
            case 0 -> {
                long c = interesting(r);
                return new Abs(Scalar.constant(c), c, c, Tnum.constant(c));
            }
            case 1 -> {
                long a = r.nextLong(0, 1 << 20);
                long b = a + r.nextLong(0, 1 << 12);
                return new Abs(Scalar.fromUnsigned(a, b), a, b, null);
            }
            case 2 -> {
                long a = r.nextLong(-5000, 5000);
                long b = a + r.nextLong(0, 3000);
                return new Abs(Scalar.fromSigned(a, b), a, b, null);
            }
            case 3 -> {
                int size = 1 << r.nextInt(4);
                Scalar s = Scalar.unsignedOfSize(size);
                return new Abs(s, 0, size == 8 ? Long.MAX_VALUE : (1L << (size * 8)) - 1, null);
            }
            default -> {
                Scalar s = ScalarAlu.signExtend(Scalar.UNKNOWN, 8 << r.nextInt(3), false);
                return new Abs(s, s.smin(), s.smax(), null);
            }
        }
    }

    private static long interesting(SplittableRandom r) {
        long[] edges = {0, 1, -1, 2, 31, 32, 63, 64, 255, 0x7fffffffL, 0x80000000L, 0xffffffffL, Long.MAX_VALUE,
            Long.MIN_VALUE};
        return r.nextBoolean() ? edges[r.nextInt(edges.length)] : r.nextLong();
    }

    static long concrete(int op, long a, long b, boolean alu32) {
        if (alu32) {
            int x = (int) a;
            int y = (int) b;
            int res = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> y == 0 ? 0 : Integer.divideUnsigned(x, y);
                case MOD -> y == 0 ? x : Integer.remainderUnsigned(x, y);
                case OR -> x | y;
                case AND -> x & y;
                case XOR -> x ^ y;
                case LSH -> x << (y & 31);
                case RSH -> x >>> (y & 31);
                case ARSH -> x >> (y & 31);
                case NEG -> -x;
                default -> throw new IllegalArgumentException();
            };
            return Integer.toUnsignedLong(res);
        }
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> b == 0 ? 0 : Long.divideUnsigned(a, b);
            case MOD -> b == 0 ? a : Long.remainderUnsigned(a, b);
            case OR -> a | b;
            case AND -> a & b;
            case XOR -> a ^ b;
            case LSH -> a << (b & 63);
            case RSH -> a >>> (b & 63);
            case ARSH -> a >> (b & 63);
            case NEG -> -a;
            default -> throw new IllegalArgumentException();
        };
    }

    @Test
    void aluResultsContainEveryConcreteResult() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            Abs a = randomAbs(r);
            Abs b = randomAbs(r);
            int op = OPS[r.nextInt(OPS.length)];
            boolean alu32 = r.nextBoolean();
            Scalar res = ScalarAlu.compute(op, a.s(), op == NEG ? a.s() : b.s(), alu32);
            long x = a.member(r);
            long y = op == NEG ? x : b.member(r);
            if (!contains(a.s(), x) || (op != NEG && !contains(b.s(), y))) {
                continue;
            }
            long c = concrete(op, x, y, alu32);
            assertTrue(contains(res, c), () -> String.format("op %x alu32=%b: %d op %d = %d not in %s (from %s, %s)",
                    op, alu32, x, y, c, res, a.s(), b.s()));
        }
    }

    static boolean holds(int op, long a, long b, boolean w32) {
        if (w32) {
            int x = (int) a;
            int y = (int) b;
            return switch (op) {
                case JEQ -> x == y;
                case JNE -> x != y;
                case JGT -> Integer.compareUnsigned(x, y) > 0;
                case JGE -> Integer.compareUnsigned(x, y) >= 0;
                case JLT -> Integer.compareUnsigned(x, y) < 0;
                case JLE -> Integer.compareUnsigned(x, y) <= 0;
                case JSGT -> x > y;
                case JSGE -> x >= y;
                case JSLT -> x < y;
                case JSLE -> x <= y;
                case JSET -> (x & y) != 0;
                default -> (x & y) == 0;
            };
        }
        return switch (op) {
            case JEQ -> a == b;
            case JNE -> a != b;
            case JGT -> Long.compareUnsigned(a, b) > 0;
            case JGE -> Long.compareUnsigned(a, b) >= 0;
            case JLT -> Long.compareUnsigned(a, b) < 0;
            case JLE -> Long.compareUnsigned(a, b) <= 0;
            case JSGT -> a > b;
            case JSGE -> a >= b;
            case JSLT -> a < b;
            case JSLE -> a <= b;
            case JSET -> (a & b) != 0;
            default -> (a & b) == 0;
        };
    }

    @Test
    void branchDecisionsAndRefinementsKeepEverySatisfyingValue() {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            Abs a = randomAbs(r);
            Abs b = randomAbs(r);
            int op = CONDS[r.nextInt(CONDS.length)];
            boolean w32 = r.nextInt(3) == 0;
            long x = a.member(r);
            long y = b.member(r);
            if (!contains(a.s(), x) || !contains(b.s(), y)) {
                continue;
            }
            boolean truth = holds(op, x, y, w32);
            int taken = Branches.taken(a.s(), b.s(), op, w32);
            assertTrue(taken < 0 || (taken == 1) == truth, () -> String.format(
                    "op %x w32=%b: %d vs %d is %b but decided %d (%s, %s)", op, w32, x, y, truth, taken, a.s(), b.s()));
            Branches.Pair p = Branches.refine(a.s(), b.s(), truth ? op : Branches.negate(op), w32);
            assertTrue(contains(p.dst(), x) && contains(p.src(), y), () -> String.format(
                    "op %x w32=%b truth=%b: %d, %d lost by refinement to %s, %s (from %s, %s)", op, w32, truth, x, y,
                    p.dst(), p.src(), a.s(), b.s()));
        }
    }
}
