package dev.cgbpf.engine.interp;

/**
 * A ring buffer map (BPF_MAP_TYPE_RINGBUF) as the ring buffer helpers reach it
 * ({@link RingBufHelpers}): records are reserved in the map's data {@link Region}, written by the
 * program (or by bpf_ringbuf_output), then committed or discarded. Implemented by the engine's
 * {@code dev.cgbpf.engine.maps.RingBufMap}.
 *
 * <p>kernel: kernel/bpf/ringbuf.c (__bpf_ringbuf_reserve, bpf_ringbuf_commit, bpf_ringbuf_query)
 */
public interface RingBufOps extends BpfMapOps {
    /**
     * __bpf_ringbuf_reserve: room for a record of {@code size} bytes after the producer position,
     * its header marked busy; the address of the record's first data byte, or 0 (NULL) when the
     * size is too large or the ring has no room.
     */
    long reserve(long size);

    /**
     * bpf_ringbuf_commit: the record at {@code sample} (an address {@link #reserve} returned) is
     * no longer busy, and marked discarded when {@code discard}. The wakeup flags have nothing to
     * wake in the engine: its reader asks for records when it wants them.
     */
    void commit(long sample, boolean discard);

    /** bpf_ringbuf_query: BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS; 0 for other flags. */
    long query(long flags);
}
