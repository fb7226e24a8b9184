package dev.cgbpf.engine.verifier;

/**
 * One 8-byte stack slot of a dynptr (the kernel keeps this in the slot's spilled_ptr: its
 * dynptr.type, dynptr.first_slot, id and ref_obj_id). A dynptr is 16 bytes, two slots: the one at
 * the lower address is the first. {@code id} names the dynptr (its bpf_dynptr_data slices carry it);
 * {@code refObjId} is the reference a ring buffer dynptr holds until it is submitted or discarded.
 */
record DynptrSlot(Kind kind, boolean first, int id, int refObjId) {

    /** enum bpf_dynptr_type, the kinds a cgroup program can make (log names from dynptr_type_str). */
    enum Kind {
        /** BPF_DYNPTR_TYPE_LOCAL: over a map value (bpf_dynptr_from_mem) */
        LOCAL,
        /** BPF_DYNPTR_TYPE_RINGBUF: over a reserved ring buffer record (bpf_ringbuf_reserve_dynptr) */
        RINGBUF;

        /** dynptr_type_refcounted: the dynptr holds a reference to give back. */
        boolean refcounted() {
            return this == RINGBUF;
        }
    }

    /** stacksafe: the same slot of the same kind of dynptr, with matching references. */
    boolean sameAs(DynptrSlot old, IdMap ids) {
        return kind == old.kind && first == old.first && ids.check(old.refObjId, refObjId);
    }
}
