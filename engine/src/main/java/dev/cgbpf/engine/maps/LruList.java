package dev.cgbpf.engine.maps;

import static dev.cgbpf.engine.maps.LruNodes.ACTIVE;
import static dev.cgbpf.engine.maps.LruNodes.INACTIVE;

/**
 * One struct bpf_lru_list (kernel/bpf/bpf_lru_list.c): the active, inactive and free lists, the
 * active and inactive counts and the inactive list's rotation cursor. The map's LRU has one (the
 * common LRU) or one per possible CPU (BPF_F_NO_COMMON_LRU). New entries go first on a list;
 * the tail is the oldest, where rotation and shrinking start.
 */
final class LruList {
    /** Removes the element of a node from the hash table (htab_lru_map_delete_node); false when it is not there. */
    interface DelFromHtab {
        boolean del(int node);
    }

    private final LruNodes n;
    private final int nrScans;
    private final DelFromHtab delFromHtab;
    /** lists[BPF_LRU_LIST_T_ACTIVE], [INACTIVE], [FREE]: their heads */
    private final int[] lists = new int[3];
    private final int[] counts = new int[2];
    /** next_inactive_rotation: a node of the inactive list or its head */
    private int nextInactiveRotation;

    LruList(LruNodes nodes, int nrScans, DelFromHtab delFromHtab) {
        this.n = nodes;
        this.nrScans = nrScans;
        this.delFromHtab = delFromHtab;
        for (int t = 0; t < 3; t++) {
            lists[t] = nodes.newHead();
        }
        nextInactiveRotation = lists[INACTIVE];
    }

    int head(byte type) {
        return lists[type];
    }

    private void countInc(byte type) {
        if (type < counts.length) {
            counts[type]++;
        }
    }

    private void countDec(byte type) {
        if (type < counts.length) {
            counts[type]--;
        }
    }

    /** A node coming from this list's free list at populate time. */
    void populate(int node) {
        n.setType(node, LruNodes.FREE);
        n.clearRef(node);
        n.add(node, lists[LruNodes.FREE]);
    }

    /** __bpf_lru_node_move_to_free: onto {@code freeHead} (this free list or a CPU's local one), as {@code type}. */
    void moveToFree(int node, int freeHead, byte type) {
        if (node == nextInactiveRotation) {
            nextInactiveRotation = n.prev(node);
        }
        countDec(n.type(node));
        n.setType(node, type);
        n.move(node, freeHead);
    }

    /** __bpf_lru_node_move_in: from a CPU's local list onto this one, its reference bit cleared. */
    void moveIn(int node, byte type) {
        countInc(type);
        n.setType(node, type);
        n.clearRef(node);
        n.move(node, lists[type]);
    }

    /** __bpf_lru_node_move: between (or within) this list's active, inactive and free lists. */
    void move(int node, byte type) {
        if (n.type(node) != type) {
            countDec(n.type(node));
            countInc(type);
            n.setType(node, type);
        }
        n.clearRef(node);
        if (node == nextInactiveRotation) {
            nextInactiveRotation = n.prev(node);
        }
        n.move(node, lists[type]);
    }

    /**
     * __bpf_lru_list_rotate: when the inactive list is shorter than the active one, the active
     * list's tail (up to nr_scans nodes) goes back first on the active list if referenced, else
     * to the inactive list; then the inactive list is rotated.
     */
    void rotate() {
        if (counts[INACTIVE] < counts[ACTIVE]) {
            rotateActive();
        }
        rotateInactive();
    }

    private void rotateActive() {
        int active = lists[ACTIVE];
        int first = n.next(active);
        int i = 0;
        for (int node = n.prev(active); node != active; ) {
            int before = n.prev(node);
            move(node, n.ref(node) ? ACTIVE : INACTIVE);
            if (++i == nrScans || node == first) {
                break;
            }
            node = before;
        }
    }

    /**
     * __bpf_lru_list_rotate_inactive: from the rotation cursor towards the head, round once,
     * referenced nodes go to the active list; the cursor stays where the walk stopped, so that
     * the next rotation goes on from there.
     */
    private void rotateInactive() {
        int inactive = lists[INACTIVE];
        if (n.empty(inactive)) {
            return;
        }
        int last = n.next(nextInactiveRotation);
        if (last == inactive) {
            last = n.next(last);
        }
        int cur = nextInactiveRotation;
        int next = inactive;
        int i = 0;
        while (i < nrScans) {
            if (cur == inactive) {
                cur = n.prev(cur);
                continue;
            }
            next = n.prev(cur);
            if (n.ref(cur)) {
                move(cur, ACTIVE);
            }
            if (cur == last) {
                break;
            }
            cur = next;
            i++;
        }
        nextInactiveRotation = next;
    }

    /**
     * __bpf_lru_list_shrink: takes up to {@code target} unreferenced nodes from the inactive
     * list's tail (referenced ones met on the way go to the active list), evicting their
     * elements; when none, evicts one node regardless of its bit, the inactive list's oldest or
     * else the active list's. Returns how many nodes went to {@code freeHead}.
     */
    int shrink(int target, int freeHead, byte type) {
        int done = shrinkInactive(target, freeHead, type);
        if (done > 0) {
            return done;
        }
        int force = n.empty(lists[INACTIVE]) ? lists[ACTIVE] : lists[INACTIVE];
        for (int node = n.prev(force); node != force; node = n.prev(node)) {
            if (delFromHtab.del(node)) {
                moveToFree(node, freeHead, type);
                return 1;
            }
        }
        return 0;
    }

    private int shrinkInactive(int target, int freeHead, byte type) {
        int inactive = lists[INACTIVE];
        int done = 0;
        int i = 0;
        for (int node = n.prev(inactive); node != inactive; ) {
            int before = n.prev(node);
            if (n.ref(node)) {
                move(node, ACTIVE);
            } else if (delFromHtab.del(node)) {
                moveToFree(node, freeHead, type);
                if (++done == target) {
                    break;
                }
            }
            if (++i == nrScans) {
                break;
            }
            node = before;
        }
        return done;
    }
}
