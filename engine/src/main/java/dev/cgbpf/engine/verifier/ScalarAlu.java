package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;

/**
 * Scalar ALU arithmetic over {@link Scalar}s for 64-bit and 32-bit operations, with the kernel's
 * (kernel/bpf/verifier.c adjust_scalar_min_max_vals) precision where it matters for agreement:
 * add/sub/mul/and/or/xor/shifts/neg/end are tracked, div and mod give an unknown value (the
 * kernel does the same, even for two constants: asked of 6.18). Never more precise than the
 * kernel: a tighter range would let the engine skip a branch the kernel explores (and rejects).
 */
final class ScalarAlu {
    private ScalarAlu() {
    }

    /** A bounded interval at one width: signed [slo, shi] and unsigned [ulo, uhi]. */
    private record Range(long slo, long shi, long ulo, long uhi) {
    }

    private static Range view(Scalar s, boolean alu32) {
        if (alu32) {
            return new Range(s.s32min(), s.s32max(), Integer.toUnsignedLong(s.u32min()), Integer.toUnsignedLong(s.u32max()));
        }
        return new Range(s.smin(), s.smax(), s.umin(), s.umax());
    }

    static Scalar compute(int op, Scalar dst, Scalar src, boolean alu32) {
        Tnum a = alu32 ? dst.var().subreg() : dst.var();
        Tnum b = alu32 ? src.var().subreg() : src.var();
        Range d = view(dst, alu32);
        Range s = view(src, alu32);
        int bits = alu32 ? 32 : 64;
        Tnum t;
        Range r;
        switch (op) {
            case ADD -> {
                t = a.add(b);
                boolean sok = sAddOk(d.slo, s.slo, bits) && sAddOk(d.shi, s.shi, bits);
                r = sok ? new Range(d.slo + s.slo, d.shi + s.shi, 0, 0) : unboundedSigned(bits);
                boolean uok = uAddOk(d.uhi, s.uhi, bits);
                r = withUnsigned(r, uok ? d.ulo + s.ulo : 0, uok ? d.uhi + s.uhi : umaxOf(bits));
            }
            case SUB -> {
                t = a.sub(b);
                boolean sok = sSubOk(d.slo, s.shi, bits) && sSubOk(d.shi, s.slo, bits);
                r = sok ? new Range(d.slo - s.shi, d.shi - s.slo, 0, 0) : unboundedSigned(bits);
                boolean uok = Long.compareUnsigned(d.ulo, s.uhi) >= 0;
                r = withUnsigned(r, uok ? d.ulo - s.uhi : 0, uok ? d.uhi - s.ulo : umaxOf(bits));
            }
            case MUL -> {
                t = a.mul(b);
                boolean uok = uMulOk(d.uhi, s.uhi, bits);
                Range u = uok ? new Range(0, 0, d.ulo * s.ulo, d.uhi * s.uhi) : new Range(0, 0, 0, umaxOf(bits));
                long[] p = new long[4];
                boolean sok = sMulOk(d.slo, s.slo, bits, p, 0) && sMulOk(d.slo, s.shi, bits, p, 1)
                        && sMulOk(d.shi, s.slo, bits, p, 2) && sMulOk(d.shi, s.shi, bits, p, 3);
                r = sok ? new Range(Math.min(Math.min(p[0], p[1]), Math.min(p[2], p[3])),
                        Math.max(Math.max(p[0], p[1]), Math.max(p[2], p[3])), u.ulo, u.uhi)
                        : withUnsigned(unboundedSigned(bits), u.ulo, u.uhi);
            }
            case AND -> {
                t = a.and(b);
                r = withUnsigned(unboundedSigned(bits), t.umin(), Long.compareUnsigned(d.uhi, s.uhi) <= 0 ? d.uhi : s.uhi);
                if (d.slo >= 0 && s.slo >= 0) {
                    r = new Range(0, Math.min(d.shi, s.shi), r.ulo, r.uhi);
                }
            }
            case OR -> {
                t = a.or(b);
                r = withUnsigned(unboundedSigned(bits), Long.compareUnsigned(d.ulo, s.ulo) >= 0 ? d.ulo : s.ulo,
                        t.umax() & umaxOf(bits));
            }
            case XOR -> {
                t = a.xor(b);
                r = withUnsigned(unboundedSigned(bits), t.umin(), t.umax() & umaxOf(bits));
            }
            case LSH, RSH, ARSH -> {
                if (!b.isConst() || Long.compareUnsigned(b.value(), bits) >= 0) {
                    // is_safe_to_compute_dst_reg_range says no: the kernel gives up before zero-extending
                    return Scalar.UNKNOWN;
                }
                int k = (int) b.value();
                if (op == LSH) {
                    t = a.lsh(k);
                    // the kernel's overflow test is a bit stricter than necessary: umax <= 2^(bits-1-k)
                    boolean ok = k < bits && Long.compareUnsigned(d.uhi, 1L << (bits - 1 - k)) <= 0;
                    r = withUnsigned(unboundedSigned(bits), ok ? d.ulo << k : 0, ok ? d.uhi << k : umaxOf(bits));
                } else if (op == RSH) {
                    t = a.rsh(k);
                    r = withUnsigned(unboundedSigned(bits), d.ulo >>> k, d.uhi >>> k);
                } else {
                    t = a.arsh(k, bits);
                    r = new Range(d.slo >> k, d.shi >> k, 0, umaxOf(bits));
                }
            }
            case NEG -> {
                Scalar zero = Scalar.constant(0);
                return compute(SUB, zero, dst, alu32);
            }
            default -> { // DIV, MOD: unknown, all 64 bits even for a 32-bit op (the kernel returns before zext)
                return Scalar.UNKNOWN;
            }
        }
        return build(t, r, alu32);
    }

    private static Scalar build(Tnum t, Range r, boolean alu32) {
        if (alu32) {
            return Scalar.zext32(t, (int) r.slo, (int) r.shi, (int) r.ulo, (int) r.uhi);
        }
        return new Scalar(t, r.slo, r.shi, r.ulo, r.uhi, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1).sync();
    }

    private static Range unboundedSigned(int bits) {
        return bits == 32 ? new Range(Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 0xffffffffL)
                : new Range(Long.MIN_VALUE, Long.MAX_VALUE, 0, -1L);
    }

    private static Range withUnsigned(Range r, long ulo, long uhi) {
        return new Range(r.slo, r.shi, ulo, uhi);
    }

    private static long umaxOf(int bits) {
        return bits == 32 ? 0xffffffffL : -1L;
    }

    private static boolean sAddOk(long a, long b, int bits) {
        if (bits == 32) {
            long r = a + b;
            return r >= Integer.MIN_VALUE && r <= Integer.MAX_VALUE;
        }
        long r = a + b;
        return ((a ^ r) & (b ^ r)) >= 0;
    }

    private static boolean sSubOk(long a, long b, int bits) {
        if (bits == 32) {
            long r = a - b;
            return r >= Integer.MIN_VALUE && r <= Integer.MAX_VALUE;
        }
        long r = a - b;
        return ((a ^ b) & (a ^ r)) >= 0;
    }

    private static boolean uAddOk(long a, long b, int bits) {
        if (bits == 32) {
            return a + b <= 0xffffffffL;
        }
        return Long.compareUnsigned(a + b, a) >= 0;
    }

    private static boolean uMulOk(long a, long b, int bits) {
        if (bits == 32) {
            return a <= 0xffffffffL && b <= 0xffffffffL && Long.compareUnsigned(a * b, 0xffffffffL) <= 0
                    && (a == 0 || Long.divideUnsigned(a * b, a) == b);
        }
        // unsigned high word of the product: Java 17 has only the signed one
        long hi = Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
        return hi == 0;
    }

    private static boolean sMulOk(long a, long b, int bits, long[] out, int i) {
        if (bits == 32) {
            long r = a * b;
            out[i] = r;
            return r >= Integer.MIN_VALUE && r <= Integer.MAX_VALUE;
        }
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        out[i] = lo;
        return (hi == 0 && lo >= 0) || (hi == -1 && lo < 0);
    }

    /** BPF_END / bswap of a scalar: constants are swapped, other values keep only their width. */
    static Scalar endian(Scalar v, int width, boolean swap, boolean alu64Bswap) {
        if (v.isConst()) {
            long x = v.constValue();
            long r = switch (width) {
                case 16 -> swap ? Short.toUnsignedLong(Short.reverseBytes((short) x)) : x & 0xffff;
                case 32 -> swap ? Integer.toUnsignedLong(Integer.reverseBytes((int) x)) : x & 0xffffffffL;
                default -> swap ? Long.reverseBytes(x) : x;
            };
            return Scalar.constant(r);
        }
        if (width == 64) {
            return swap ? Scalar.UNKNOWN : v;
        }
        if (!swap) {
            Scalar masked = compute(AND, v, Scalar.constant(width == 16 ? 0xffff : 0xffffffffL), false);
            return masked;
        }
        return Scalar.unsignedOfSize(width / 8);
    }

    /** movsx: sign-extends the low {@code bits} of {@code v}. */
    static Scalar signExtend(Scalar v, int bits, boolean to32) {
        if (v.isConst()) {
            long x = v.constValue();
            long r = bits == 8 ? (byte) x : bits == 16 ? (short) x : (int) x;
            return to32 ? Scalar.constant(r & 0xffffffffL) : Scalar.constant(r);
        }
        long lo = -(1L << (bits - 1));
        long hi = (1L << (bits - 1)) - 1;
        Scalar s = Scalar.fromSigned(lo, hi);
        return to32 ? s.zext() : s;
    }
}
