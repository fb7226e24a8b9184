package dev.cgbpf.engine.verifier;

import java.util.Arrays;

/**
 * The abstract machine state on one path (struct bpf_verifier_state with its single frame):
 * eleven registers and the 512-byte stack. Each stack byte has a slot type (STACK_INVALID,
 * STACK_MISC, STACK_ZERO, STACK_SPILL); an 8-byte slot holding a spilled register keeps its
 * {@link RegState}.
 */
final class VerifierState {
    static final int MAX_BPF_STACK = 512;
    static final byte STACK_INVALID = 0, STACK_MISC = 1, STACK_ZERO = 2, STACK_SPILL = 3;

    final RegState[] regs = new RegState[11];
    /** byte i is fp-512+i */
    final byte[] stype = new byte[MAX_BPF_STACK];
    /** slot k covers fp-512+8k .. fp-512+8k+7 */
    final RegState[] spill = new RegState[MAX_BPF_STACK / 8];
    /** bytes of the slot the spill covers, from its lowest address (8, or 1..4 for a narrow scalar spill) */
    final byte[] spillSize = new byte[MAX_BPF_STACK / 8];
    /**
     * References acquired on this path and not yet released (the kernel's acquired_refs, kept per
     * path, not per frame). Treated as immutable: a change makes a new array.
     */
    AcquiredRef[] refs = AcquiredRef.NONE;
    Checkpoint checkpoint;

    VerifierState copy() {
        VerifierState s = new VerifierState();
        System.arraycopy(regs, 0, s.regs, 0, regs.length);
        System.arraycopy(stype, 0, s.stype, 0, stype.length);
        System.arraycopy(spill, 0, s.spill, 0, spill.length);
        System.arraycopy(spillSize, 0, s.spillSize, 0, spillSize.length);
        s.refs = refs;
        s.checkpoint = checkpoint;
        return s;
    }

    boolean hasIds() {
        for (RegState r : regs) {
            if (r != null && (r.id() != 0 || r.refObjId() != 0)) {
                return true;
            }
        }
        for (RegState r : spill) {
            if (r != null && (r.id() != 0 || r.refObjId() != 0)) {
                return true;
            }
        }
        return false;
    }

    boolean sameAs(VerifierState o) {
        return Arrays.equals(regs, o.regs) && Arrays.equals(stype, o.stype) && Arrays.equals(spill, o.spill)
                && Arrays.equals(spillSize, o.spillSize) && Arrays.equals(refs, o.refs);
    }

    /** The stack part of {@link #within}. */
    boolean stackWithin(VerifierState old) {
        for (int k = 0; k < spill.length; k++) {
            if (!slotWithin(k, old)) {
                return false;
            }
        }
        return true;
    }

    /** True when this state is covered by the already-verified {@code old}: every path from it is safe. */
    boolean within(VerifierState old) {
        if (hasIds() || old.hasIds() || !Arrays.equals(refs, old.refs)) {
            return false; // ids (and references) are not mapped between paths: no pruning
        }
        return withinNoIds(old);
    }

    /** {@link #within} for states known to carry no ids. */
    boolean withinNoIds(VerifierState old) {
        for (int i = 0; i < regs.length; i++) {
            if (!regs[i].within(old.regs[i])) {
                return false;
            }
        }
        for (int k = 0; k < spill.length; k++) {
            if (!slotWithin(k, old)) {
                return false;
            }
        }
        return true;
    }

    private boolean slotWithin(int k, VerifierState old) {
        RegState os = old.spill[k];
        RegState cs = spill[k];
        if (os != null) {
            return cs != null && cs.within(os) && spillSize[k] == old.spillSize[k]
                    && Arrays.equals(stype, 8 * k, 8 * k + 8, old.stype, 8 * k, 8 * k + 8);
        }
        for (int i = 8 * k; i < 8 * k + 8; i++) {
            byte o = old.stype[i];
            byte c = stype[i];
            if (o == STACK_ZERO && c != STACK_ZERO) {
                return false;
            }
            if ((o == STACK_MISC || o == STACK_INVALID) && c == STACK_SPILL && cs != null && !cs.isScalar()) {
                return false;
            }
        }
        return true;
    }
}
