package dev.cgbpf.engine.verifier;

import java.util.Arrays;

/**
 * The ids of an already-verified state paired with those of the current one while the two are
 * compared (the kernel's struct bpf_idmap). Ids stand for relations: copies of one maybe-null or
 * packet pointer, holders of one acquired reference, scalars known to be equal. A relation the
 * old state relied on must hold in the current one too.
 *
 * <p>Pointer and reference ids must pair one to one ({@link #check}, check_ids): releasing a
 * reference or null-checking a pointer acts on every holder of its id, so two old ids merged
 * into one current id would make one act reach registers the old path kept apart. Scalar ids only
 * need every old id to map to one current id ({@link #checkScalar}): current scalars tied together
 * where the old ones were free are a narrower case of what was verified. (The kernel compares the
 * ids of precise scalars one to one and ignores those of imprecise ones; the engine tracks no
 * precision and takes this rule, sound for every scalar.)
 */
final class IdMap {
    private int[] oldIds = new int[16];
    private int[] curIds = new int[16];
    private int n;

    /** check_ids: both ids zero, or both set and paired with each other alone. */
    boolean check(int oldId, int curId) {
        if ((oldId == 0) != (curId == 0)) {
            return false;
        }
        if (oldId == 0) {
            return true;
        }
        for (int i = 0; i < n; i++) {
            if (oldIds[i] == oldId) {
                return curIds[i] == curId;
            }
            if (curIds[i] == curId) {
                return false;
            }
        }
        add(oldId, curId);
        return true;
    }

    /**
     * A scalar's id: an old relation must be one relation now; an unrelated old scalar asks
     * nothing. A copy moved by a constant ({@link RegState#ADD_CONST}) must be moved by the same
     * constant, and relates through the id without the flag.
     */
    boolean checkScalar(int oldId, int curId, int oldOff, int curOff) {
        if (oldId == 0) {
            return true;
        }
        if (curId == 0 || (oldId & RegState.ADD_CONST) != (curId & RegState.ADD_CONST)) {
            return false;
        }
        if ((oldId & RegState.ADD_CONST) != 0 && oldOff != curOff) {
            return false;
        }
        oldId &= ~RegState.ADD_CONST;
        curId &= ~RegState.ADD_CONST;
        for (int i = 0; i < n; i++) {
            if (oldIds[i] == oldId) {
                return curIds[i] == curId;
            }
        }
        add(oldId, curId);
        return true;
    }

    private void add(int oldId, int curId) {
        if (n == oldIds.length) {
            oldIds = Arrays.copyOf(oldIds, 2 * n);
            curIds = Arrays.copyOf(curIds, 2 * n);
        }
        oldIds[n] = oldId;
        curIds[n] = curId;
        n++;
    }
}
