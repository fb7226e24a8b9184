package dev.cgbpf.engine.interp;

/**
 * The program's context (what r1 points to at entry), one implementation per program type:
 * loads and stores at an offset and size, checked as the kernel's {@code is_valid_access} checks
 * them (the engine has no verifier yet, so the check happens at run time and a bad access is a
 * {@link Fault}). A load may yield a pointer value, e.g. {@code __sk_buff.data} for types with
 * direct packet access.
 */
public interface ProgContext {
    /** Size of the context struct in bytes. */
    int size();

    /** The zero-extended value of {@code size} bytes at {@code offset}. */
    long load(int offset, int size);

    void store(int offset, int size, long value);

    /**
     * For compiled programs (the kernel's convert_ctx_access): per offset, the read sizes whose
     * value is the little-endian bytes of {@link #image()} at that offset, zero-extended, and which
     * the context's access rule allows (bit 0, 1, 2, 3 for 1, 2, 4, 8 bytes), at most
     * {@link #size()} entries; such a read may skip {@link #load}. Empty (the default): every read
     * goes through {@link #load}. The array is shared and must not be changed.
     */
    default byte[] directReads() {
        return NO_DIRECT_READS;
    }

    /** The image the {@link #directReads()} read, or null when there are none. */
    default byte[] image() {
        return null;
    }

    /** No direct reads. */
    byte[] NO_DIRECT_READS = new byte[0];

    /** The packet LD_ABS/LD_IND read, or null for contexts without one (the instructions fault). */
    Packet packet();

    /**
     * Further run-local regions the context's pointer fields lead to (a packet for direct access, a
     * bpf_sock), each in its own slot below {@link AddressSpace#RUN_SLOTS}; the machine maps them.
     */
    default java.util.List<Region> regions() {
        return java.util.List.of();
    }
}
