package dev.cgbpf.engine.verifier;

import java.util.Arrays;

/**
 * Reference tracking (the kernel's acquire_reference, release_reference and
 * check_reference_leak): a helper that hands out an object the program must give back (a socket
 * from bpf_sk_lookup_*, a ring buffer record from bpf_ringbuf_reserve) adds an {@link AcquiredRef}
 * to the path's state and tags R0 with its id; the release helper drops it and every copy of the
 * pointer, in any register or spill slot, stops being a pointer. A path may not end, nor do
 * anything that can end it early, while it still holds one.
 */
final class CheckReferences {
    private CheckReferences() {
    }

    /** acquire_reference: a new id (from the id generator the maybe-null pointers share) for {@code insnIdx}. */
    static int acquire(VerifierEnv env, VerifierState st, int insnIdx) {
        int id = env.nextId();
        AcquiredRef[] refs = Arrays.copyOf(st.refs, st.refs.length + 1);
        refs[refs.length - 1] = new AcquiredRef(id, insnIdx);
        st.refs = refs;
        return id;
    }

    /**
     * release_reference: false when the path holds no such reference. Registers that carried it
     * become unknown scalars (mark_reg_invalid for a loader allowed to leak pointers, as root is),
     * so a later use is "R6 invalid mem access 'scalar'".
     */
    static boolean release(VerifierState st, int refObjId) {
        if (!drop(st, refObjId)) {
            return false;
        }
        st.mapAllRegs(r -> r.refObjId() == refObjId ? RegState.UNKNOWN : r);
        return true;
    }

    /**
     * The NULL branch of a check on an acquired pointer (mark_ptr_or_null_regs): the helper handed
     * out nothing, so there is nothing to release. Only an acquired pointer has a reference with
     * its own id (a pointer cast of a referenced socket gets a fresh id), as in the kernel.
     */
    static void nullBranch(VerifierState st, int id) {
        drop(st, id);
    }

    private static boolean drop(VerifierState st, int id) {
        for (int i = 0; i < st.refs.length; i++) {
            if (st.refs[i].id() == id) {
                AcquiredRef[] refs = new AcquiredRef[st.refs.length - 1];
                System.arraycopy(st.refs, 0, refs, 0, i);
                System.arraycopy(st.refs, i + 1, refs, i, refs.length - i);
                st.refs = refs;
                return true;
            }
        }
        return false;
    }

    /**
     * check_resource_leak: {@code prefix} ("BPF_EXIT instruction in main prog", "BPF_LD_[ABS|IND]")
     * may not happen while the path holds a reference. The kernel names every unreleased one on a
     * line of its own, then the reason (EINVAL).
     */
    static void checkLeak(VerifierState st, String prefix) throws VerifierError {
        if (st.refs.length == 0) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        for (AcquiredRef r : st.refs) {
            sb.append("Unreleased reference id=").append(r.id()).append(" alloc_insn=").append(r.insnIdx()).append('\n');
        }
        throw VerifierError.einval(sb.append(prefix).append(" would lead to reference leak").toString());
    }
}
