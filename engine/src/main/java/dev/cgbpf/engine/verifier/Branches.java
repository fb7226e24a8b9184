package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;

/**
 * Conditional jumps on scalars: whether a comparison's outcome is already decided by what is
 * known (is_scalar_branch_taken) and how each branch narrows both operands (reg_set_min_max).
 */
final class Branches {
    /** Pseudo op for "JSET not taken". */
    static final int JNSET = 0x100;

    private Branches() {
    }

    record Pair(Scalar dst, Scalar src) {
    }

    private record View(long slo, long shi, long ulo, long uhi, Tnum t) {
    }

    private static View view(Scalar s, boolean w32) {
        if (w32) {
            return new View(s.s32min(), s.s32max(), Integer.toUnsignedLong(s.u32min()),
                    Integer.toUnsignedLong(s.u32max()), s.var().subreg());
        }
        return new View(s.smin(), s.smax(), s.umin(), s.umax(), s.var());
    }

    private static int ucmp(long a, long b) {
        return Long.compareUnsigned(a, b);
    }

    /** The negation of a comparison: the condition of the fall-through branch. */
    static int negate(int op) {
        return switch (op) {
            case JEQ -> JNE;
            case JNE -> JEQ;
            case JGT -> JLE;
            case JLE -> JGT;
            case JGE -> JLT;
            case JLT -> JGE;
            case JSGT -> JSLE;
            case JSLE -> JSGT;
            case JSGE -> JSLT;
            case JSLT -> JSGE;
            case JSET -> JNSET;
            case JNSET -> JSET;
            default -> throw new IllegalArgumentException("op " + op);
        };
    }

    /** 1 when {@code a op b} always holds, 0 when it never does, -1 when unknown. */
    static int taken(Scalar as, Scalar bs, int op, boolean w32) {
        View a = view(as, w32);
        View b = view(bs, w32);
        switch (op) {
            case JEQ, JNE -> {
                // constants, known bits that differ (tnum_overlap), disjoint ranges; a 64-bit compare
                // also looks at the low halves. No more than the kernel: deciding more would skip paths it checks
                int eq;
                if (a.t.isConst() && b.t.isConst()) {
                    eq = a.t.value() == b.t.value() ? 1 : 0;
                } else if (((a.t.value() ^ b.t.value()) & ~(a.t.mask() | b.t.mask())) != 0
                        || ucmp(a.ulo, b.uhi) > 0 || ucmp(b.ulo, a.uhi) > 0 || a.slo > b.shi || b.slo > a.shi
                        || (!w32 && (Integer.compareUnsigned(as.u32min(), bs.u32max()) > 0
                        || Integer.compareUnsigned(bs.u32min(), as.u32max()) > 0
                        || as.s32min() > bs.s32max() || bs.s32min() > as.s32max()))) {
                    eq = 0;
                } else {
                    eq = -1;
                }
                return eq < 0 ? -1 : op == JEQ ? eq : 1 - eq;
            }
            case JSET, JNSET -> {
                // only against a constant
                Tnum v = b.t.isConst() ? a.t : a.t.isConst() ? b.t : null;
                Tnum c = b.t.isConst() ? b.t : a.t;
                if (v == null) {
                    return -1;
                }
                int set;
                if ((v.value() & c.value()) != 0) {
                    set = 1;
                } else if (((v.value() | v.mask()) & c.value()) == 0) {
                    set = 0;
                } else {
                    set = -1;
                }
                return set < 0 ? -1 : op == JSET ? set : 1 - set;
            }
            case JGT -> {
                return ucmp(a.ulo, b.uhi) > 0 ? 1 : ucmp(a.uhi, b.ulo) <= 0 ? 0 : -1;
            }
            case JGE -> {
                return ucmp(a.ulo, b.uhi) >= 0 ? 1 : ucmp(a.uhi, b.ulo) < 0 ? 0 : -1;
            }
            case JLT -> {
                return ucmp(a.uhi, b.ulo) < 0 ? 1 : ucmp(a.ulo, b.uhi) >= 0 ? 0 : -1;
            }
            case JLE -> {
                return ucmp(a.uhi, b.ulo) <= 0 ? 1 : ucmp(a.ulo, b.uhi) > 0 ? 0 : -1;
            }
            case JSGT -> {
                return a.slo > b.shi ? 1 : a.shi <= b.slo ? 0 : -1;
            }
            case JSGE -> {
                return a.slo >= b.shi ? 1 : a.shi < b.slo ? 0 : -1;
            }
            case JSLT -> {
                return a.shi < b.slo ? 1 : a.slo >= b.shi ? 0 : -1;
            }
            case JSLE -> {
                return a.shi <= b.slo ? 1 : a.slo > b.shi ? 0 : -1;
            }
            default -> {
                return -1;
            }
        }
    }

    /** Narrows both operands assuming {@code a op b} holds. Returns the inputs when nothing is learned. */
    static Pair refine(Scalar as, Scalar bs, int op, boolean w32) {
        View a = view(as, w32);
        View b = view(bs, w32);
        long aslo = a.slo, ashi = a.shi, aulo = a.ulo, auhi = a.uhi, bslo = b.slo, bshi = b.shi, bulo = b.ulo, buhi = b.uhi;
        Tnum at = a.t, bt = b.t;
        long umax = w32 ? 0xffffffffL : -1L;
        switch (op) {
            case JEQ -> {
                aslo = bslo = Math.max(aslo, bslo);
                ashi = bshi = Math.min(ashi, bshi);
                aulo = bulo = Scalar.umax64(aulo, bulo);
                auhi = buhi = Scalar.umin64(auhi, buhi);
                at = bt = at.intersect(bt);
            }
            case JNE -> {
                // only a constant on one side can trim an end of the other's range
                if (b.t.isConst()) {
                    long v = b.t.value();
                    if (aulo == v && aulo != auhi) {
                        aulo++;
                    } else if (auhi == v && aulo != auhi) {
                        auhi--;
                    }
                    long sv = w32 ? (int) v : v;
                    if (aslo == sv && aslo != ashi) {
                        aslo++;
                    } else if (ashi == sv && aslo != ashi) {
                        ashi--;
                    }
                }
                if (a.t.isConst()) {
                    long v = a.t.value();
                    if (bulo == v && bulo != buhi) {
                        bulo++;
                    } else if (buhi == v && bulo != buhi) {
                        buhi--;
                    }
                    long sv = w32 ? (int) v : v;
                    if (bslo == sv && bslo != bshi) {
                        bslo++;
                    } else if (bshi == sv && bslo != bshi) {
                        bshi--;
                    }
                }
            }
            case JSET -> { // the non-constant side learns a bit when the constant has exactly one
                if (b.t.isConst() && Long.bitCount(b.t.value()) == 1) {
                    at = at.or(b.t);
                } else if (a.t.isConst() && !b.t.isConst() && Long.bitCount(a.t.value()) == 1) {
                    bt = bt.or(a.t);
                }
            }
            case JNSET -> { // the non-constant side has none of the constant's bits
                if (b.t.isConst()) {
                    at = at.and(new Tnum(~b.t.value() & umax, 0));
                } else if (a.t.isConst()) {
                    bt = bt.and(new Tnum(~a.t.value() & umax, 0));
                }
            }
            case JGT -> { // a > b
                if (ucmp(b.ulo, umax) < 0) {
                    aulo = Scalar.umax64(aulo, b.ulo + 1);
                }
                if (a.uhi != 0) {
                    buhi = Scalar.umin64(buhi, a.uhi - 1);
                }
            }
            case JGE -> {
                aulo = Scalar.umax64(aulo, b.ulo);
                buhi = Scalar.umin64(buhi, a.uhi);
            }
            case JLT -> {
                if (b.uhi != 0) {
                    auhi = Scalar.umin64(auhi, b.uhi - 1);
                }
                if (ucmp(a.ulo, umax) < 0) {
                    bulo = Scalar.umax64(bulo, a.ulo + 1);
                }
            }
            case JLE -> {
                auhi = Scalar.umin64(auhi, b.uhi);
                bulo = Scalar.umax64(bulo, a.ulo);
            }
            case JSGT -> {
                long smaxv = w32 ? Integer.MAX_VALUE : Long.MAX_VALUE;
                long sminv = w32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
                if (b.slo < smaxv) {
                    aslo = Math.max(aslo, b.slo + 1);
                }
                if (a.shi > sminv) {
                    bshi = Math.min(bshi, a.shi - 1);
                }
            }
            case JSGE -> {
                aslo = Math.max(aslo, b.slo);
                bshi = Math.min(bshi, a.shi);
            }
            case JSLT -> {
                long smaxv = w32 ? Integer.MAX_VALUE : Long.MAX_VALUE;
                long sminv = w32 ? Integer.MIN_VALUE : Long.MIN_VALUE;
                if (b.shi > sminv) {
                    ashi = Math.min(ashi, b.shi - 1);
                }
                if (a.slo < smaxv) {
                    bslo = Math.max(bslo, a.slo + 1);
                }
            }
            case JSLE -> {
                ashi = Math.min(ashi, b.shi);
                bslo = Math.max(bslo, a.slo);
            }
            default -> {
            }
        }
        Scalar na = rebuild(as, w32, aslo, ashi, aulo, auhi, at);
        Scalar nb = rebuild(bs, w32, bslo, bshi, bulo, buhi, bt);
        if (na.isEmpty() || nb.isEmpty()) {
            return new Pair(as, bs); // contradictory: keep what we had (sound)
        }
        return new Pair(na, nb);
    }

    private static Scalar rebuild(Scalar s, boolean w32, long slo, long shi, long ulo, long uhi, Tnum t) {
        if (w32) {
            return new Scalar(s.var().withSubreg(t), s.smin(), s.smax(), s.umin(), s.umax(),
                    (int) slo, (int) shi, (int) ulo, (int) uhi).sync();
        }
        return new Scalar(t, slo, shi, ulo, uhi, s.s32min(), s.s32max(), s.u32min(), s.u32max()).sync();
    }
}
