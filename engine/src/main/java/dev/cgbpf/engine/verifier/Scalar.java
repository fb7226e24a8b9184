package dev.cgbpf.engine.verifier;

import static java.lang.Long.compareUnsigned;

/**
 * What the verifier knows about a number: known bits ({@link Tnum}) plus signed and unsigned
 * bounds of the full 64-bit register and of its low 32 bits, as the kernel's bpf_reg_state keeps
 * them. Every constructor path ends in {@link #sync}, the counterpart of reg_bounds_sync, so the
 * five views stay consistent. Unsigned bounds live in signed Java types and compare unsigned.
 */
public record Scalar(Tnum var, long smin, long smax, long umin, long umax,
                     int s32min, int s32max, int u32min, int u32max) {

    public static final Scalar UNKNOWN = new Scalar(Tnum.UNKNOWN, Long.MIN_VALUE, Long.MAX_VALUE, 0, -1L,
            Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1);

    public static Scalar constant(long v) {
        return new Scalar(Tnum.constant(v), v, v, v, v, (int) v, (int) v, (int) v, (int) v);
    }

    /** An unknown value that fits {@code size} bytes unsigned (a narrow load). */
    public static Scalar unsignedOfSize(int size) {
        if (size >= 8) {
            return UNKNOWN;
        }
        long max = (1L << (size * 8)) - 1;
        return fromUnsigned(0, max);
    }

    public static Scalar fromUnsigned(long min, long max) {
        return new Scalar(Tnum.range(min, max), Long.MIN_VALUE, Long.MAX_VALUE, min, max,
                Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1).sync();
    }

    public static Scalar fromSigned(long min, long max) {
        return new Scalar(Tnum.UNKNOWN, min, max, 0, -1L, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1).sync();
    }

    public boolean isConst() {
        return var.isConst();
    }

    public long constValue() {
        return var.value();
    }

    public boolean isSubregConst() {
        return var.subreg().isConst();
    }

    /** True when nothing is known at all. */
    public boolean isUnknown() {
        return var.isUnknown() && smin == Long.MIN_VALUE && smax == Long.MAX_VALUE && umin == 0 && umax == -1L;
    }

    Scalar with64(Tnum v, long smin, long smax, long umin, long umax) {
        return new Scalar(v, smin, smax, umin, umax, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1).sync();
    }

    /** A 32-bit result: the low half described by the given bounds, the upper 32 bits zero. */
    static Scalar zext32(Tnum v, int s32min, int s32max, int u32min, int u32max) {
        Tnum t = v.subreg();
        Scalar s = new Scalar(t, Long.MIN_VALUE, Long.MAX_VALUE, 0, -1L, s32min, s32max, u32min, u32max).sync32();
        // zero extension: the 64-bit value is the unsigned 32-bit value
        long lo = Integer.toUnsignedLong(s.u32min);
        long hi = Integer.toUnsignedLong(s.u32max);
        return new Scalar(s.var, lo, hi, lo, hi, s.s32min, s.s32max, s.u32min, s.u32max).sync();
    }

    /** Just the low 32 bits, zero-extended (what a 32-bit mov or a zext does). */
    public Scalar zext() {
        return zext32(var, s32min, s32max, u32min, u32max);
    }

    private Scalar sync32() {
        Tnum sub = var.subreg();
        int s32lo = s32min, s32hi = s32max, u32lo = u32min, u32hi = u32max;
        // from known bits
        u32lo = umax32(u32lo, (int) sub.value());
        u32hi = umin32(u32hi, (int) (sub.value() | sub.mask()));
        s32lo = Math.max(s32lo, (int) (sub.value() | (sub.mask() & 0x80000000L)));
        s32hi = Math.min(s32hi, (int) (sub.value() | (sub.mask() & 0x7fffffffL)));
        // signed and unsigned views agree when the sign is known
        if ((u32lo ^ u32hi) >= 0) { // same sign bit in unsigned range
            s32lo = Math.max(s32lo, u32lo);
            s32hi = Math.min(s32hi, u32hi);
        }
        if ((s32lo ^ s32hi) >= 0) {
            u32lo = umax32(u32lo, s32lo);
            u32hi = umin32(u32hi, s32hi);
        }
        Tnum t = sub.intersect(Tnum.range(Integer.toUnsignedLong(u32lo), Integer.toUnsignedLong(u32hi)));
        return new Scalar(var.withSubreg(t), smin, smax, umin, umax, s32lo, s32hi, u32lo, u32hi);
    }

    /** reg_bounds_sync: propagate knowledge among tnum, 64-bit and 32-bit bounds. */
    Scalar sync() {
        Scalar s = this;
        for (int round = 0; round < 2; round++) {
            s = s.sync64().deduce32From64().sync32().deduce64From32();
        }
        return s;
    }

    private Scalar sync64() {
        long slo = Math.max(smin, var.value() | (var.mask() & Long.MIN_VALUE));
        long shi = Math.min(smax, var.value() | (var.mask() & Long.MAX_VALUE));
        long ulo = umax64(umin, var.umin());
        long uhi = umin64(umax, var.umax());
        if ((ulo ^ uhi) >= 0) {
            slo = Math.max(slo, ulo);
            shi = Math.min(shi, uhi);
        }
        if ((slo ^ shi) >= 0) {
            ulo = umax64(ulo, slo);
            uhi = umin64(uhi, shi);
        }
        Tnum t = var.intersect(Tnum.range(ulo, uhi));
        return new Scalar(t, slo, shi, ulo, uhi, s32min, s32max, u32min, u32max);
    }

    /** When the upper 32 bits do not vary over the range, the low halves bound the subregister. */
    private Scalar deduce32From64() {
        int u32lo = u32min, u32hi = u32max, s32lo = s32min, s32hi = s32max;
        if ((umin >>> 32) == (umax >>> 32)) {
            u32lo = umax32(u32lo, (int) umin);
            u32hi = umin32(u32hi, (int) umax);
            if (((int) umin ^ (int) umax) >= 0) {
                s32lo = Math.max(s32lo, (int) umin);
                s32hi = Math.min(s32hi, (int) umax);
            }
        }
        if ((smin >> 32) == (smax >> 32)) {
            if (((int) smin ^ (int) smax) >= 0) {
                s32lo = Math.max(s32lo, (int) smin);
                s32hi = Math.min(s32hi, (int) smax);
            }
        }
        if (smin >= Integer.MIN_VALUE && smax <= Integer.MAX_VALUE) {
            s32lo = Math.max(s32lo, (int) smin);
            s32hi = Math.min(s32hi, (int) smax);
        }
        if (u32lo == u32min && u32hi == u32max && s32lo == s32min && s32hi == s32max) {
            return this;
        }
        return new Scalar(var, smin, smax, umin, umax, s32lo, s32hi, u32lo, u32hi);
    }

    /**
     * The subregister bounds tighten the full register: a value's low half lies in
     * [u32min, u32max], so replacing the low half of each 64-bit bound by those limits keeps every
     * value (__reg_deduce_mixed_bounds). When the upper 32 bits are known, more follows.
     */
    private Scalar deduce64From32() {
        long lo32 = Integer.toUnsignedLong(u32min);
        long hi32 = Integer.toUnsignedLong(u32max);
        long mixedUmin = umax64(umin, (umin & 0xffffffff00000000L) | lo32);
        long mixedUmax = umin64(umax, (umax & 0xffffffff00000000L) | hi32);
        long mixedSmin = Math.max(smin, (smin & 0xffffffff00000000L) | lo32);
        long mixedSmax = Math.min(smax, (smax & 0xffffffff00000000L) | hi32);
        Scalar m = this;
        if (mixedUmin != umin || mixedUmax != umax || mixedSmin != smin || mixedSmax != smax) {
            m = new Scalar(var, mixedSmin, mixedSmax, mixedUmin, mixedUmax, s32min, s32max, u32min, u32max);
        }
        return m.deduceKnownUpper();
    }

    /** When the upper 32 bits are known, the subregister bounds give the full register's. */
    private Scalar deduceKnownUpper() {
        Tnum hi = new Tnum(var.value() & 0xffffffff00000000L, var.mask() & 0xffffffff00000000L);
        if (!hi.isConst()) {
            return this;
        }
        long base = hi.value();
        long ulo = base | Integer.toUnsignedLong(u32min);
        long uhi = base | Integer.toUnsignedLong(u32max);
        long nulo = umax64(umin, ulo), nuhi = umin64(umax, uhi);
        long slo = smin, shi = smax;
        if ((nulo ^ nuhi) >= 0) {
            slo = Math.max(slo, nulo);
            shi = Math.min(shi, nuhi);
        }
        if (nulo == umin && nuhi == umax && slo == smin && shi == smax) {
            return this;
        }
        return new Scalar(var, slo, shi, nulo, nuhi, s32min, s32max, u32min, u32max);
    }

    /** True when the bounds contradict each other: no value satisfies them (a dead branch). */
    public boolean isEmpty() {
        return smin > smax || compareUnsigned(umin, umax) > 0 || s32min > s32max
                || Integer.compareUnsigned(u32min, u32max) > 0;
    }

    static long umin64(long a, long b) {
        return compareUnsigned(a, b) <= 0 ? a : b;
    }

    static long umax64(long a, long b) {
        return compareUnsigned(a, b) >= 0 ? a : b;
    }

    static int umin32(int a, int b) {
        return Integer.compareUnsigned(a, b) <= 0 ? a : b;
    }

    static int umax32(int a, int b) {
        return Integer.compareUnsigned(a, b) >= 0 ? a : b;
    }

    /** True when every value this admits is also admitted by {@code old} (state pruning). */
    public boolean within(Scalar old) {
        return old.smin <= smin && smax <= old.smax && compareUnsigned(old.umin, umin) <= 0
                && compareUnsigned(umax, old.umax) <= 0 && old.s32min <= s32min && s32max <= old.s32max
                && Integer.compareUnsigned(old.u32min, u32min) <= 0 && Integer.compareUnsigned(u32max, old.u32max) <= 0
                && old.var.contains(var);
    }
}
