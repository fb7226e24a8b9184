package dev.cgbpf.engine.conformance;

import java.math.BigInteger;

/**
 * A deliberately plain model of RFC 9669 arithmetic, written apart from the engine (arbitrary
 * precision integers, explicit wrap-around) so that the conformance expectations do not share
 * the interpreter's code or shortcuts. Used only to compute expected values.
 */
final class RfcReference {
    private RfcReference() {
    }

    private static final BigInteger TWO = BigInteger.valueOf(2);

    static BigInteger modulus(int bits) {
        return TWO.pow(bits);
    }

    /** The unsigned value of the low {@code bits} bits of v. */
    static BigInteger unsigned(long v, int bits) {
        BigInteger all = new BigInteger(Long.toUnsignedString(v));
        return all.mod(modulus(bits));
    }

    /** The two's-complement signed value of the low {@code bits} bits of v. */
    static BigInteger signed(long v, int bits) {
        BigInteger u = unsigned(v, bits);
        return u.testBit(bits - 1) ? u.subtract(modulus(bits)) : u;
    }

    /** Wraps an exact result to {@code bits} bits, then zero-extends it into the 64-bit register. */
    static long wrap(BigInteger exact, int bits) {
        return exact.mod(modulus(bits)).longValue();
    }

    /**
     * dst OP src for the ALU/ALU64 binary operations, {@code bits} 32 or 64. Division by zero is
     * 0, modulo by zero leaves dst (cut to the operation width), shift counts are taken modulo the
     * width; signed division truncates toward zero and the remainder takes the dividend's sign.
     */
    static long alu(String op, int bits, long dst, long src) {
        BigInteger ud = unsigned(dst, bits);
        BigInteger us = unsigned(src, bits);
        BigInteger sd = signed(dst, bits);
        BigInteger ss = signed(src, bits);
        int count = us.mod(BigInteger.valueOf(bits)).intValue();
        BigInteger r = switch (op) {
            case "+=" -> ud.add(us);
            case "-=" -> ud.subtract(us);
            case "*=" -> ud.multiply(us);
            case "/=" -> us.signum() == 0 ? BigInteger.ZERO : ud.divide(us);
            case "s/=" -> ss.signum() == 0 ? BigInteger.ZERO : sd.divide(ss);
            case "%=" -> us.signum() == 0 ? ud : ud.mod(us);
            case "s%=" -> ss.signum() == 0 ? ud : sd.remainder(ss);
            case "|=" -> ud.or(us);
            case "&=" -> ud.and(us);
            case "^=" -> ud.xor(us);
            case "<<=" -> ud.shiftLeft(count);
            case ">>=" -> ud.shiftRight(count);
            case "s>>=" -> sd.shiftRight(count);
            default -> throw new IllegalArgumentException(op);
        };
        return wrap(r, bits);
    }

    /** The condition of a conditional jump on {@code bits}-bit operands. */
    static boolean cond(String op, int bits, long a, long b) {
        BigInteger ua = unsigned(a, bits);
        BigInteger ub = unsigned(b, bits);
        BigInteger sa = signed(a, bits);
        BigInteger sb = signed(b, bits);
        return switch (op) {
            case "==" -> ua.equals(ub);
            case "!=" -> !ua.equals(ub);
            case ">" -> ua.compareTo(ub) > 0;
            case ">=" -> ua.compareTo(ub) >= 0;
            case "<" -> ua.compareTo(ub) < 0;
            case "<=" -> ua.compareTo(ub) <= 0;
            case "s>" -> sa.compareTo(sb) > 0;
            case "s>=" -> sa.compareTo(sb) >= 0;
            case "s<" -> sa.compareTo(sb) < 0;
            case "s<=" -> sa.compareTo(sb) <= 0;
            case "&" -> ua.and(ub).signum() != 0;
            default -> throw new IllegalArgumentException(op);
        };
    }

    /** The low {@code bytes} bytes of v in reversed order, zero-extended. */
    static long reverseBytes(long v, int bytes) {
        long out = 0;
        for (int i = 0; i < bytes; i++) {
            long b = (v >>> (8 * i)) & 0xff;
            out |= b << (8 * (bytes - 1 - i));
        }
        return out;
    }

    /** The low {@code bits} bits of v, sign-extended to 64 bits. */
    static long signExtend(long v, int bits) {
        return signed(v, bits).longValue();
    }

    /** {@code n} bytes of {@code frame} from {@code at} as a big-endian number. */
    static long bigEndian(byte[] frame, int at, int n) {
        BigInteger v = BigInteger.ZERO;
        for (int i = 0; i < n; i++) {
            v = v.shiftLeft(8).add(BigInteger.valueOf(frame[at + i] & 0xff));
        }
        return v.longValue();
    }

    /** {@code n} bytes of v from byte {@code at} of its little-endian image, zero-extended. */
    static long littleEndianSlice(long v, int at, int n) {
        return unsigned(v >>> (8 * at), 8 * n).longValue();
    }
}
