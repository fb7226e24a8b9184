package dev.cgbpf.engine.verifier;

import java.util.BitSet;

/**
 * The helpers whose prototype says gpl_only, among those the engine's program types may call:
 * a program under a license that is not GPL-compatible is refused them. Measured on Linux 6.18
 * by HelperGplOnlyTest (native/), which keeps this list and the kernel in step.
 */
final class HelperGplOnly {
    private static final BitSet IDS = new BitSet();

    static {
        for (int id : new int[] {6, 22, 25, 35, 55, 112, 113, 114, 115, 158, 165, 169, 170, 171, 172, 175, 176, 177, 191}) {
            IDS.set(id);
        }
    }

    private HelperGplOnly() {
    }

    static boolean contains(int helperId) {
        return IDS.get(helperId);
    }
}
