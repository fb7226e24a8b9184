package dev.cgbpf.engine.maps;

import static dev.cgbpf.engine.maps.LruNodes.ACTIVE;
import static dev.cgbpf.engine.maps.LruNodes.FREE;
import static dev.cgbpf.engine.maps.LruNodes.INACTIVE;
import static dev.cgbpf.engine.maps.LruNodes.LOCAL_FREE;
import static dev.cgbpf.engine.maps.LruNodes.LOCAL_PENDING;

/**
 * struct bpf_lru (kernel/bpf/bpf_lru_list.c): which element an LRU hash hands out for a new key,
 * and so which key it evicts when full. Every element is a node, on exactly one list.
 *
 * <p>The common LRU (the default): one global active/inactive/free list, and per CPU a local
 * free list and a pending list. An update takes a node from its CPU's local free list; when that
 * is empty, the CPU's pending nodes are flushed to the global list (referenced ones to the active
 * list), the global list rotated, and up to target_free nodes moved to the local free list: free
 * ones first, then by shrinking the inactive list from its tail (evicting those keys). With
 * nothing left anywhere, a node is stolen from the CPUs' local lists in turn (free first, then
 * the oldest pending one, unreferenced first). The new node waits on the CPU's pending list.
 *
 * <p>BPF_F_NO_COMMON_LRU: one such list per possible CPU holding max_entries / CPUs nodes, no
 * local lists; an update takes a free node of its CPU's list (else shrinks four) onto the
 * inactive list; no stealing, so a CPU's list full of referenced nodes still gives one up.
 *
 * <p>All of it is what the kernel does on one CPU at a time; the kernel's lock failures (the
 * pending_free marks of rqspinlock) cannot happen in the engine, which serializes map operations.
 */
final class BpfLru {
    /** LOCAL_FREE_TARGET: the most nodes one refill moves to a CPU's local free list (and LOCAL_NR_SCANS). */
    static final int LOCAL_FREE_TARGET = 128;
    /** PERCPU_FREE_TARGET: nodes a per-CPU list shrinks at once (and PERCPU_NR_SCANS). */
    static final int PERCPU_FREE_TARGET = 4;

    private final LruNodes n;
    private final boolean percpu;
    private final int cpus;
    private final LruList.DelFromHtab delFromHtab;
    /** the common LRU, or one per CPU */
    private final LruList[] lists;
    private final int[] localFree;
    private final int[] localPending;
    private final int[] nextSteal;
    /** lru->target_free: clamp(nodes / CPUs / 2, 1, LOCAL_FREE_TARGET) */
    private final int targetFree;

    /** bpf_lru_init and bpf_lru_populate of {@code nodes} elements over {@code cpus} possible CPUs. */
    BpfLru(int nodes, boolean percpu, int cpus, LruList.DelFromHtab delFromHtab) {
        this.percpu = percpu;
        this.cpus = cpus;
        this.delFromHtab = delFromHtab;
        this.n = new LruNodes(nodes, percpu ? 3 * cpus : 3 + 2 * cpus);
        this.targetFree = Math.max(1, Math.min(nodes / cpus / 2, LOCAL_FREE_TARGET));
        if (percpu) {
            lists = new LruList[cpus];
            for (int c = 0; c < cpus; c++) {
                lists[c] = new LruList(n, PERCPU_FREE_TARGET, delFromHtab);
            }
            localFree = localPending = nextSteal = new int[0];
            populatePercpu(nodes);
        } else {
            lists = new LruList[] {new LruList(n, LOCAL_FREE_TARGET, delFromHtab)};
            localFree = new int[cpus];
            localPending = new int[cpus];
            nextSteal = new int[cpus];
            for (int c = 0; c < cpus; c++) {
                localFree[c] = n.newHead();
                localPending[c] = n.newHead();
                nextSteal[c] = c;
            }
            for (int i = 0; i < nodes; i++) {
                lists[0].populate(i);
            }
        }
    }

    /** bpf_percpu_lru_populate: CPU 0 gets the first nodes / CPUs nodes, CPU 1 the next, and so on. */
    private void populatePercpu(int nodes) {
        int each = nodes / cpus;
        int i = 0;
        for (int c = 0; c < cpus && i < nodes; c++) {
            do {
                n.setCpu(i, c);
                lists[c].populate(i);
                i++;
            } while (i < nodes && i % each != 0);
        }
    }

    void setRef(int node) {
        n.setRef(node);
    }

    /** bpf_lru_pop_free on {@code cpu}: a node for a new element, or -1 (the update's ENOMEM). */
    int popFree(int cpu) {
        return percpu ? percpuPopFree(cpu) : commonPopFree(cpu);
    }

    private int percpuPopFree(int cpu) {
        LruList l = lists[cpu];
        l.rotate();
        int free = l.head(FREE);
        if (n.empty(free)) {
            l.shrink(PERCPU_FREE_TARGET, free, FREE);
        }
        if (n.empty(free)) {
            return -1;
        }
        int node = n.next(free);
        n.clearRef(node);
        l.move(node, INACTIVE);
        return node;
    }

    private int commonPopFree(int cpu) {
        int node = localPopFree(cpu);
        if (node < 0) {
            popFreeToLocal(cpu);
            node = localPopFree(cpu);
        }
        if (node < 0) {
            int first = nextSteal[cpu];
            int steal = first;
            do {
                node = localPopFree(steal);
                if (node < 0) {
                    node = localPopPending(steal);
                }
                steal = (steal + 1) % cpus;
            } while (node < 0 && steal != first);
            nextSteal[cpu] = steal;
            if (node < 0) {
                return -1;
            }
        }
        // __local_list_add_pending
        n.setCpu(node, cpu);
        n.setType(node, LOCAL_PENDING);
        n.clearRef(node);
        n.add(node, localPending[cpu]);
        return node;
    }

    private int localPopFree(int cpu) {
        int head = localFree[cpu];
        if (n.empty(head)) {
            return -1;
        }
        int node = n.next(head);
        n.del(node);
        return node;
    }

    /** __local_list_pop_pending: the oldest pending node, unreferenced ones first, its element evicted. */
    private int localPopPending(int cpu) {
        int head = localPending[cpu];
        for (boolean force : new boolean[] {false, true}) {
            for (int node = n.prev(head); node != head; node = n.prev(node)) {
                if ((force || !n.ref(node)) && delFromHtab.del(node)) {
                    n.del(node);
                    return node;
                }
            }
        }
        return -1;
    }

    /**
     * bpf_lru_list_pop_free_to_local: the CPU's pending nodes go to the global list (oldest first,
     * so they keep their order), the global list rotates, and target_free nodes move to the CPU's
     * local free list, shrinking the inactive list for what the free list lacks.
     */
    private void popFreeToLocal(int cpu) {
        LruList l = lists[0];
        int pending = localPending[cpu];
        for (int node = n.prev(pending); node != pending; ) {
            int before = n.prev(node);
            l.moveIn(node, n.ref(node) ? ACTIVE : INACTIVE);
            node = before;
        }
        l.rotate();
        int free = l.head(FREE);
        int moved = 0;
        while (moved < targetFree && !n.empty(free)) {
            l.moveToFree(n.next(free), localFree[cpu], LOCAL_FREE);
            moved++;
        }
        if (moved < targetFree) {
            l.shrink(targetFree - moved, localFree[cpu], LOCAL_FREE);
        }
    }

    /** bpf_lru_push_free: the node of a deleted, replaced or unused element is free again. */
    void pushFree(int node) {
        if (percpu) {
            lists[n.cpu(node)].move(node, FREE);
        } else if (n.type(node) == LOCAL_PENDING) {
            n.setType(node, LOCAL_FREE);
            n.clearRef(node);
            n.move(node, localFree[n.cpu(node)]);
        } else {
            lists[0].move(node, FREE);
        }
    }
}
