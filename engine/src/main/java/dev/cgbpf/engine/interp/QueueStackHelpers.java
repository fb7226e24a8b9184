package dev.cgbpf.engine.interp;

/**
 * The queue and stack map helpers, which bpf_base_func_proto gives every program type:
 * bpf_map_push_elem (87), bpf_map_pop_elem (88) and bpf_map_peek_elem (89), with the kernel's
 * answers (queue_stack_maps.c): push is 0, -EINVAL for flags other than BPF_ANY and BPF_EXIST,
 * -E2BIG when full without BPF_EXIST; pop and peek are 0, or -ENOENT with the value zeroed when
 * the map is empty.
 *
 * <p>The verifier has made sure r1 is a queue or stack map and r2 points to value_size bytes the
 * program may read (push) or write (pop, peek); a fault here means it let something through.
 */
public final class QueueStackHelpers {
    public static final int MAP_PUSH_ELEM = 87;
    public static final int MAP_POP_ELEM = 88;
    public static final int MAP_PEEK_ELEM = 89;

    private QueueStackHelpers() {
    }

    /** Adds the three helpers to a table. */
    static HelperTable.Builder addTo(HelperTable.Builder b) {
        return b.add(MAP_PUSH_ELEM, QueueStackHelpers::push)
                .add(MAP_POP_ELEM, (m, map, value, r3, r4, r5) -> get(m, map, value, true))
                .add(MAP_PEEK_ELEM, (m, map, value, r3, r4, r5) -> get(m, map, value, false));
    }

    /** long bpf_map_push_elem(map, const void *value, u64 flags) */
    static long push(Machine m, long map, long value, long flags, long r4, long r5) {
        QueueStackOps q = queueStack(m, map, "bpf_map_push_elem#87");
        return q.push(m.readBytes(value, q.spec().valueSize()), flags);
    }

    /** long bpf_map_pop_elem(map, void *value) and long bpf_map_peek_elem(map, void *value) */
    static long get(Machine m, long map, long value, boolean delete) {
        QueueStackOps q = queueStack(m, map, delete ? "bpf_map_pop_elem#88" : "bpf_map_peek_elem#89");
        byte[] out = new byte[q.spec().valueSize()];
        int result = q.get(out, delete);
        // written byte by byte through Machine.store, which checks the region: the value may sit
        // on the stack, in a map value or in a packet
        for (int i = 0; i < out.length; i++) {
            m.store(value + i, 1, out[i] & 0xff);
        }
        return result;
    }

    private static QueueStackOps queueStack(Machine m, long map, String helper) {
        BpfMapOps ops = m.mapObject(map).map();
        if (!(ops instanceof QueueStackOps q)) {
            throw new Fault("cannot pass map_type " + ops.spec().type().value() + " into func " + helper);
        }
        return q;
    }
}
