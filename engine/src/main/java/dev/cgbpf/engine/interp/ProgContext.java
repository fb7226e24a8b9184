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
