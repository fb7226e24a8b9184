package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.interp.AddressSpace;

/**
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY (kernel/bpf/arraymap.c, perf_event_array_map_ops): perf events,
 * put in from user space as fds of perf_event_open(2), for bpf_perf_event_output and
 * bpf_perf_event_read(_value). A lookup from user space is ENOTSUPP: the kernel shows nothing
 * there. The kernel also empties the slots that were filled through a map file when that file is
 * closed (perf_event_fd_array_release); the engine's scenarios close their map fds only at the
 * end, where every slot goes anyway.
 */
public final class PerfEventArrayMap extends FdArrayMap<PerfEventRing> {
    private PerfEventArrayMap(MapSpec spec, AddressSpace space) {
        super(spec, space);
    }

    static PerfEventArrayMap createPerfEventArray(MapSpec spec, AddressSpace space) throws BpfException {
        checkCreate(spec);
        return new PerfEventArrayMap(spec, space);
    }

    /**
     * The event a helper reaches with {@code flags}' index (BPF_F_INDEX_MASK), BPF_F_CURRENT_CPU
     * standing for {@code currentCpu}: the event, or the helper's answer as a negative errno
     * in {@link Lookup#errno}: -E2BIG past the end, -ENOENT for an empty slot.
     */
    public Lookup event(long flags, int currentCpu) {
        long index = flags & BPF_F_INDEX_MASK;
        if (index == BPF_F_INDEX_MASK) {
            index = currentCpu;
        }
        if (index >= Integer.toUnsignedLong(spec.maxEntries())) {
            return new Lookup(null, E2BIG);
        }
        PerfEventRing e = at((int) index);
        return e == null ? new Lookup(null, ENOENT) : new Lookup(e, 0);
    }

    /** BPF_F_INDEX_MASK, which is also BPF_F_CURRENT_CPU. */
    public static final long BPF_F_INDEX_MASK = 0xffffffffL;

    /** What {@link #event} found: an event, or a negative errno. */
    public record Lookup(PerfEventRing event, int errno) {
    }

    @Override
    void drop(PerfEventRing e) {
        // the ring lives while anything (a slot, a handle) still references it
    }

    @Override
    public byte[] sysLookup(byte[] key) throws BpfException {
        throw new BpfException(Errno.ENOTSUPP, "perf event array '" + spec.name() + "' shows nothing to user space");
    }
}
