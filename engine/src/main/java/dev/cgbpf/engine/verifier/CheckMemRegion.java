package dev.cgbpf.engine.verifier;

/**
 * check_mem_region_access for PTR_TO_MEM (ring buffer records) and for helper accesses of zero
 * bytes: every byte the access may touch, for the smallest and the largest variable offset, lies
 * inside the region's {@code memSize} bytes.
 */
final class CheckMemRegion {
    private CheckMemRegion() {
    }

    /** A load or store through a ring buffer pointer; the loaded value is an unknown scalar. */
    static RegState access(int regno, RegState reg, int off, int size, boolean write) throws VerifierError {
        check(regno, reg, off, size, reg.range(), false, "memory, mem_size=");
        return write ? null : RegState.UNKNOWN;
    }

    /**
     * {@code off} already includes the register's fixed offset; {@code what} names the region in
     * __check_mem_access's message ("memory, mem_size=", "map value, value_size=").
     */
    static void check(int regno, RegState reg, int off, int size, int memSize, boolean zeroSizeAllowed, String what)
            throws VerifierError {
        Scalar v = reg.val();
        if (v.smin() < 0 && (v.smin() == Long.MIN_VALUE || off + v.smin() != (int) (off + v.smin())
                || v.smin() + off < 0)) {
            throw VerifierError.eacces("R" + regno + " min value is negative, either use unsigned index or do a if (index >=0) check.");
        }
        if (!fits(v.smin() + off, size, memSize, zeroSizeAllowed)) {
            throw VerifierError.eacces(outside(what, v.smin() + off, size, memSize) + "\nR" + regno
                    + " min value is outside of the allowed memory range");
        }
        if (Long.compareUnsigned(v.umax(), DoCheck.MAX_VAR_OFF) >= 0) {
            throw VerifierError.eacces("R" + regno + " unbounded memory access, make sure to bounds check any such access");
        }
        if (!fits(v.umax() + off, size, memSize, zeroSizeAllowed)) {
            throw VerifierError.eacces(outside(what, v.umax() + off, size, memSize) + "\nR" + regno
                    + " max value is outside of the allowed memory range");
        }
    }

    /** __check_mem_access: the offset is printed as the kernel's int. */
    private static boolean fits(long off, int size, int memSize, boolean zeroSizeAllowed) {
        int o = (int) off;
        boolean sizeOk = size > 0 || size == 0 && zeroSizeAllowed;
        return o >= 0 && sizeOk && (long) o + size <= Integer.toUnsignedLong(memSize);
    }

    private static String outside(String what, long off, int size, int memSize) {
        return "invalid access to " + what + Integer.toUnsignedString(memSize) + " off=" + (int) off
                + " size=" + size;
    }
}
