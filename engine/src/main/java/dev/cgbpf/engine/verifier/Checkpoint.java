package dev.cgbpf.engine.verifier;

/**
 * A state remembered at a prune point (the kernel's explored states). It becomes {@code safe}
 * when every path that went through it has reached exit; from then on a later state
 * {@link VerifierState#within within} it needs no further exploration. While paths through it
 * are still pending, an identical later state on the same path is an infinite loop.
 */
final class Checkpoint {
    final int insn;
    final VerifierState state;
    final Checkpoint parent;
    /** hash of every frame's registers: most loop checks end here, which keeps long loops linear */
    final int regsHash;
    int pending = 1;
    boolean safe;
    /** how often this checkpoint pruned a later state, and how often it was compared in vain */
    int hits;
    int misses;

    Checkpoint(int insn, VerifierState state, Checkpoint parent) {
        this.insn = insn;
        this.state = state;
        this.parent = parent;
        this.regsHash = state.regsHash();
    }

    /** One path below this checkpoint finished without error. */
    static void pathDone(Checkpoint c) {
        while (c != null) {
            if (--c.pending > 0) {
                return;
            }
            c.safe = true;
            c = c.parent;
        }
    }

    boolean isAncestorOf(Checkpoint c) {
        for (Checkpoint p = c; p != null; p = p.parent) {
            if (p == this) {
                return true;
            }
        }
        return false;
    }
}
