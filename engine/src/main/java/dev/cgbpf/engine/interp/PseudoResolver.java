package dev.cgbpf.engine.interp;

/**
 * Turns an LD_IMM64 with a pseudo source (src_reg != 0) into the 64-bit value the program sees,
 * as the kernel's resolve_pseudo_ldimm64 does at load: PSEUDO_MAP_FD becomes the map object's
 * address, PSEUDO_MAP_VALUE the address of the map's value plus the offset in the second slot.
 * Throws {@link Fault} for a reference it cannot resolve.
 */
@FunctionalInterface
public interface PseudoResolver {
    long resolve(int src, int imm, int nextImm);

    /** For programs without map references: every pseudo load is refused. */
    PseudoResolver NONE = (src, imm, nextImm) -> {
        throw new Fault("ld_imm64 with src " + src + " has nothing to refer to");
    };
}
