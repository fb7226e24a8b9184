package dev.cgbpf.engine.interp;

/**
 * A queue or stack map (BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK) as bpf_map_push_elem,
 * bpf_map_pop_elem and bpf_map_peek_elem reach it ({@link QueueStackHelpers}), and as the syscall
 * side's lookup (a peek), update (a push) and lookup-and-delete (a pop) do. Elements have no key:
 * a queue hands out its oldest element, a stack its newest. Implemented by the engine's
 * {@code dev.cgbpf.engine.maps.QueueStackMap}.
 *
 * <p>kernel: kernel/bpf/queue_stack_maps.c (map_push_elem, map_pop_elem, map_peek_elem)
 */
public interface QueueStackOps extends BpfMapOps {
    /**
     * Adds {@code value} (value_size bytes). 0, or -EINVAL for flags other than BPF_ANY and
     * BPF_EXIST, or -E2BIG when the map is full and {@code flags} is not BPF_EXIST (which makes
     * room by dropping the oldest element).
     */
    int push(byte[] value, long flags);

    /**
     * Copies the element a pop would take into {@code into} (value_size bytes) and, with
     * {@code delete}, takes it out. 0, or -ENOENT when the map is empty, {@code into} then
     * zeroed (the helpers hand the program those zeros).
     */
    int get(byte[] into, boolean delete);
}
