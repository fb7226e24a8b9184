package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.backend.Errno;

/**
 * The ring buffer helpers, which bpf_base_func_proto gives every program type:
 * bpf_ringbuf_output (130), bpf_ringbuf_reserve (131), bpf_ringbuf_submit (132),
 * bpf_ringbuf_discard (133) and bpf_ringbuf_query (134), with the kernel's answers (ringbuf.c):
 * output refuses unknown flags with -EINVAL and a full ring with -EAGAIN; reserve gives NULL for
 * any flag, a size above RINGBUF_MAX_RECORD_SZ or no room; submit and discard return 0.
 *
 * <p>The verifier has made sure of the arguments (a ring buffer map in r1, a reserved record
 * passed once to submit or discard); a fault here means it let something through.
 */
public final class RingBufHelpers {
    public static final int RINGBUF_OUTPUT = 130;
    public static final int RINGBUF_RESERVE = 131;
    public static final int RINGBUF_SUBMIT = 132;
    public static final int RINGBUF_DISCARD = 133;
    public static final int RINGBUF_QUERY = 134;
    /** BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP: the only flags bpf_ringbuf_output accepts. */
    static final long WAKEUP_FLAGS = 1 | 2;
    private static final long EINVAL = -Errno.EINVAL.number();
    private static final long EAGAIN = -Errno.EAGAIN.number();

    private RingBufHelpers() {
    }

    /** Adds the five helpers to a table. */
    static HelperTable.Builder addTo(HelperTable.Builder b) {
        return b.add(RINGBUF_OUTPUT, RingBufHelpers::output)
                .add(RINGBUF_RESERVE, RingBufHelpers::reserve)
                .add(RINGBUF_SUBMIT, (m, sample, flags, r3, r4, r5) -> commit(m, sample, false))
                .add(RINGBUF_DISCARD, (m, sample, flags, r3, r4, r5) -> commit(m, sample, true))
                .add(RINGBUF_QUERY, (m, map, flags, r3, r4, r5) -> ring(m, map, "bpf_ringbuf_query#134").query(flags));
    }

    /** long bpf_ringbuf_output(map, data, size, flags): reserve, copy, submit; 0 or a negative errno. */
    static long output(Machine m, long map, long data, long size, long flags, long r5) {
        RingBufOps ring = ring(m, map, "bpf_ringbuf_output#130");
        if ((flags & ~WAKEUP_FLAGS) != 0) {
            return EINVAL;
        }
        long sample = ring.reserve(size);
        if (sample == 0) {
            return EAGAIN;
        }
        // reserve succeeded, so size is below the ring's size and fits an int
        m.writeBytes(sample, size == 0 ? new byte[0] : m.readBytes(data, (int) size));
        ring.commit(sample, false);
        return 0;
    }

    /** void *bpf_ringbuf_reserve(map, size, flags): the record's address or NULL. */
    static long reserve(Machine m, long map, long size, long flags, long r4, long r5) {
        RingBufOps ring = ring(m, map, "bpf_ringbuf_reserve#131");
        return flags != 0 ? 0 : ring.reserve(size);
    }

    /** bpf_ringbuf_submit / bpf_ringbuf_discard(sample, flags): always 0 (the kernel's RET_VOID). */
    static long commit(Machine m, long sample, boolean discard) {
        Region r = m.region(sample, 0, true);
        if (r.kind() != Region.Kind.RINGBUF_DATA || !(r.map() instanceof RingBufOps ring)) {
            throw new Fault("R1 is not a ring buffer record (" + r.describe(sample - r.base()) + ")");
        }
        ring.commit(sample, discard);
        return 0;
    }

    static RingBufOps ring(Machine m, long map, String helper) {
        BpfMapOps ops = m.mapObject(map).map();
        if (!(ops instanceof RingBufOps ring)) {
            throw new Fault("cannot pass map_type " + ops.spec().type().value() + " into func " + helper);
        }
        return ring;
    }
}
