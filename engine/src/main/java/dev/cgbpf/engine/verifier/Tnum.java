package dev.cgbpf.engine.verifier;

/**
 * A tristate number (kernel/bpf/tnum.c's idea): each bit is known 0, known 1 or unknown.
 * {@code mask} has a 1 for every unknown bit; {@code value} holds the known 1 bits and is 0
 * wherever mask is 1. Arithmetic over-approximates: the result contains every value the
 * operation can produce from the inputs' members.
 */
public record Tnum(long value, long mask) {
    public static final Tnum UNKNOWN = new Tnum(0, -1L);

    public Tnum {
        value &= ~mask;
    }

    public static Tnum constant(long v) {
        return new Tnum(v, 0);
    }

    /** The smallest tnum containing every value of [min, max] (unsigned). */
    public static Tnum range(long min, long max) {
        long chi = min ^ max;
        int bits = 64 - Long.numberOfLeadingZeros(chi);
        if (bits > 63) {
            return UNKNOWN;
        }
        long delta = (1L << bits) - 1;
        return new Tnum(min & ~delta, delta);
    }

    public boolean isConst() {
        return mask == 0;
    }

    public boolean isUnknown() {
        return mask == -1L;
    }

    /** Unsigned minimum and maximum of the members. */
    public long umin() {
        return value;
    }

    public long umax() {
        return value | mask;
    }

    /** True when every member of {@code b} is a member of this. */
    public boolean contains(Tnum b) {
        if ((b.mask & ~mask) != 0) {
            return false;
        }
        return (b.value & ~mask) == value;
    }

    public boolean containsValue(long v) {
        return (v & ~mask) == value;
    }

    public Tnum add(Tnum b) {
        long sm = mask + b.mask;
        long sv = value + b.value;
        long sigma = sm + sv;
        long chi = sigma ^ sv;
        long mu = chi | mask | b.mask;
        return new Tnum(sv & ~mu, mu);
    }

    public Tnum sub(Tnum b) {
        long dv = value - b.value;
        long alpha = dv + mask;
        long beta = dv - b.mask;
        long chi = alpha ^ beta;
        long mu = chi | mask | b.mask;
        return new Tnum(dv & ~mu, mu);
    }

    public Tnum and(Tnum b) {
        long alpha = value | mask;
        long beta = b.value | b.mask;
        long v = value & b.value;
        return new Tnum(v, alpha & beta & ~v);
    }

    public Tnum or(Tnum b) {
        long v = value | b.value;
        long mu = mask | b.mask;
        return new Tnum(v, mu & ~v);
    }

    public Tnum xor(Tnum b) {
        long v = value ^ b.value;
        long mu = mask | b.mask;
        return new Tnum(v & ~mu, mu);
    }

    /** Long multiplication over the known/unknown bits; sound, not the tightest. */
    public Tnum mul(Tnum b) {
        Tnum a = this;
        long accV = a.value * b.value;
        Tnum accM = new Tnum(0, 0);
        Tnum bb = b;
        while (a.value != 0 || a.mask != 0) {
            if ((a.value & 1) != 0) {
                accM = accM.add(new Tnum(0, bb.mask));
            } else if ((a.mask & 1) != 0) {
                accM = accM.add(new Tnum(0, bb.value | bb.mask));
            }
            a = a.rsh(1);
            bb = bb.lsh(1);
        }
        return new Tnum(accV, 0).add(accM);
    }

    public Tnum lsh(int shift) {
        return new Tnum(value << shift, mask << shift);
    }

    public Tnum rsh(int shift) {
        return new Tnum(value >>> shift, mask >>> shift);
    }

    /** Arithmetic shift within {@code bits} (32 or 64) of width. */
    public Tnum arsh(int shift, int bits) {
        if (bits == 32) {
            return new Tnum(Integer.toUnsignedLong((int) value >> shift), Integer.toUnsignedLong((int) mask >> shift));
        }
        return new Tnum(value >> shift, mask >> shift);
    }

    public Tnum intersect(Tnum b) {
        long v = value | b.value;
        long mu = mask & b.mask;
        return new Tnum(v & ~mu, mu);
    }

    /** Keeps the low {@code size} bytes (zero-extends). */
    public Tnum cast(int size) {
        if (size >= 8) {
            return this;
        }
        long keep = (1L << (size * 8)) - 1;
        return new Tnum(value & keep, mask & keep);
    }

    public Tnum subreg() {
        return cast(4);
    }

    /** The tnum with the low 32 bits replaced by {@code lo}'s low 32 bits. */
    public Tnum withSubreg(Tnum lo) {
        long hiKeep = 0xffffffff00000000L;
        return new Tnum((value & hiKeep) | (lo.value & 0xffffffffL), (mask & hiKeep) | (lo.mask & 0xffffffffL));
    }

    public Tnum clearSubreg() {
        return new Tnum(value & 0xffffffff00000000L, mask & 0xffffffff00000000L);
    }

    public boolean isAligned(long size) {
        return size == 0 || ((value | mask) & (size - 1)) == 0;
    }

    /** The kernel's {@code (0x..; 0x..)} rendering. */
    @Override
    public String toString() {
        return "(0x" + Long.toHexString(value) + "; 0x" + Long.toHexString(mask) + ")";
    }
}
