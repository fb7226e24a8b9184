package dev.cgbpf.engine.maps;

/**
 * The struct bpf_lru_node of every element of an LRU hash (kernel/bpf/bpf_lru_list.h) and the
 * heads of the lists they move between, as one set of circular doubly-linked lists (the kernel's
 * list_head): indices below {@code nodes} are elements, the rest list heads. A node remembers the
 * list type it is on, its reference bit and its CPU (whose local list, or per-CPU LRU list, it
 * belongs to).
 */
final class LruNodes {
    /** enum bpf_lru_list_type */
    static final byte ACTIVE = 0;
    static final byte INACTIVE = 1;
    static final byte FREE = 2;
    static final byte LOCAL_FREE = 3;
    static final byte LOCAL_PENDING = 4;

    private final int nodes;
    private final int[] next;
    private final int[] prev;
    private final byte[] type;
    private final boolean[] ref;
    private final int[] cpu;
    private int heads;

    LruNodes(int nodes, int maxHeads) {
        this.nodes = nodes;
        next = new int[nodes + maxHeads];
        prev = new int[nodes + maxHeads];
        type = new byte[nodes];
        ref = new boolean[nodes];
        cpu = new int[nodes];
    }

    /** A new empty list (INIT_LIST_HEAD): its head's index. */
    int newHead() {
        int h = nodes + heads++;
        next[h] = h;
        prev[h] = h;
        return h;
    }

    boolean isHead(int i) {
        return i >= nodes;
    }

    int next(int i) {
        return next[i];
    }

    int prev(int i) {
        return prev[i];
    }

    boolean empty(int head) {
        return next[head] == head;
    }

    /** list_add: {@code node} right after {@code head}, the list's first entry. */
    void add(int node, int head) {
        int first = next[head];
        next[node] = first;
        prev[node] = head;
        prev[first] = node;
        next[head] = node;
    }

    /** list_del */
    void del(int node) {
        next[prev[node]] = next[node];
        prev[next[node]] = prev[node];
    }

    /** list_move: off its list and first on {@code head}'s. */
    void move(int node, int head) {
        del(node);
        add(node, head);
    }

    byte type(int node) {
        return type[node];
    }

    void setType(int node, byte t) {
        type[node] = t;
    }

    boolean ref(int node) {
        return ref[node];
    }

    /** bpf_lru_node_set_ref: what a program's lookup (and an update of a present key) does. */
    void setRef(int node) {
        ref[node] = true;
    }

    void clearRef(int node) {
        ref[node] = false;
    }

    int cpu(int node) {
        return cpu[node];
    }

    void setCpu(int node, int c) {
        cpu[node] = c;
    }
}
