package dev.cgbpf.engine.verifier;

/**
 * One reference a helper handed out (struct bpf_reference_state): its id, which the registers
 * holding it carry as {@link RegState#refObjId}, and the instruction that acquired it, which the
 * kernel names when the program exits without releasing it ("Unreleased reference id=2
 * alloc_insn=7").
 */
record AcquiredRef(int id, int insnIdx) {
    static final AcquiredRef[] NONE = new AcquiredRef[0];
}
