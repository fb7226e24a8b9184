package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.BpfMapOps;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.maps.PerfEventArrayMap;
import dev.cgbpf.engine.maps.PerfEventRing;

/**
 * The perf event helpers of the cgroup program types, on a perf event array
 * ({@link PerfEventArrayMap}): bpf_perf_event_output (25) in its two 6.18 forms, the skb one of
 * cgroup_skb (net/core/filter.c, bpf_skb_event_output: the upper 32 bits of flags are a number
 * of packet bytes appended to the data) and the plain one of the other types (kernel/trace/
 * bpf_trace.c, bpf_event_output_data), and bpf_perf_event_read (22). Their answers, in the
 * kernel's order: -EINVAL for flags outside BPF_F_INDEX_MASK (and, skb, BPF_F_CTXLEN_MASK);
 * skb: -EFAULT for more packet bytes than the packet has; then the slot (BPF_F_CURRENT_CPU is
 * the running CPU's): -E2BIG past the end, -ENOENT empty; then the event: output -EOPNOTSUPP
 * when it is not on the running CPU, read -EINVAL (perf_event_read_local of a per-CPU event).
 *
 * <p>Programs run on {@link BaseHelpers#ENGINE_CPU}. The engine's events are all
 * BPF_OUTPUT software events that never count: bpf_perf_event_read answers 0 for one on the
 * running CPU (measured: what the kernel answers for such an event, which outputs do not count).
 */
final class PerfEventHelpers {
    static final int PERF_EVENT_READ = 22;
    static final int PERF_EVENT_OUTPUT = 25;
    static final int PERF_EVENT_READ_VALUE = 55;
    /** sizeof(struct bpf_perf_event_value): counter, enabled, running. */
    static final int PERF_EVENT_VALUE_SIZE = 24;
    /** BPF_F_CTXLEN_MASK: the skb variant's packet byte count, in flags' upper 32 bits. */
    static final long BPF_F_CTXLEN_MASK = 0xfffffL << 32;
    private static final byte[] NONE = new byte[0];

    private PerfEventHelpers() {
    }

    /** bpf_event_output_data(ctx, map, flags, data, size): the data as the sample's raw bytes. */
    static long output(Machine m, long ctx, long map, long flags, long data, long size) {
        if ((flags & ~PerfEventArrayMap.BPF_F_INDEX_MASK) != 0) {
            return -Errnos.EINVAL;
        }
        return write(m, map, flags, meta(m, data, size), NONE);
    }

    /** bpf_skb_event_output(skb, map, flags, meta, meta_size): the meta data, then the packet's first bytes. */
    static long skbOutput(Machine m, long skb, long map, long flags, long data, long size) {
        if (!(m.ctx() instanceof CgroupSkbCtx ctx)) {
            throw new Fault("bpf_perf_event_output needs the __sk_buff context of a cgroup_skb program");
        }
        if ((flags & ~(BPF_F_CTXLEN_MASK | PerfEventArrayMap.BPF_F_INDEX_MASK)) != 0) {
            return -Errnos.EINVAL;
        }
        byte[] packet = ctx.packetBytes();
        long skbSize = (flags & BPF_F_CTXLEN_MASK) >>> 32;
        if (skbSize > packet.length) {
            return -Errnos.EFAULT;
        }
        byte[] head = new byte[(int) skbSize];
        System.arraycopy(packet, 0, head, 0, head.length);
        return write(m, map, flags, meta(m, data, size), head);
    }

    /** bpf_perf_event_read(map, flags): the counter (0: outputs do not count), or a negative errno. */
    static long read(Machine m, long map, long flags, long r3, long r4, long r5) {
        PerfEventRing event = counter(m, map, flags, "bpf_perf_event_read#22");
        return event == null ? lastErrno(m, map, flags) : 0;
    }

    /**
     * get_map_perf_counter: the event whose counter the program may read, or null (then
     * {@link #lastErrno} says why): flags above the index, the slot (E2BIG, ENOENT), then
     * perf_event_read_local's -EINVAL for a per-CPU event of another CPU.
     */
    private static PerfEventRing counter(Machine m, long map, long flags, String helper) {
        PerfEventArrayMap a = array(m, map, helper);
        if ((flags & ~PerfEventArrayMap.BPF_F_INDEX_MASK) != 0) {
            return null;
        }
        PerfEventRing e = a.event(flags, BaseHelpers.ENGINE_CPU).event();
        return e != null && e.cpu() == BaseHelpers.ENGINE_CPU ? e : null;
    }

    /** Why {@link #counter} found no event to read. */
    private static long lastErrno(Machine m, long map, long flags) {
        if ((flags & ~PerfEventArrayMap.BPF_F_INDEX_MASK) != 0) {
            return -Errnos.EINVAL;
        }
        PerfEventArrayMap.Lookup l = array(m, map, "bpf_perf_event_read").event(flags, BaseHelpers.ENGINE_CPU);
        return l.event() == null ? l.errno() : -Errnos.EINVAL;
    }

    /**
     * bpf_perf_event_read_value(map, flags, buf, size): 0 with buf the counter (0: outputs do not
     * count) and the times the event was enabled and running (both the time since it was opened:
     * a CPU's software event runs all the time); or -EINVAL for a size other than struct
     * bpf_perf_event_value's, before anything else, and then bpf_perf_event_read's answers, with
     * buf zeroed.
     */
    static long readValue(Machine m, long map, long flags, long buf, long size, long r5) {
        PerfEventRing event = size == PERF_EVENT_VALUE_SIZE ? counter(m, map, flags, "bpf_perf_event_read_value#55") : null;
        for (int i = 0; i < size; i++) {
            m.store(buf + i, 1, 0);
        }
        if (event == null) {
            return size == PERF_EVENT_VALUE_SIZE ? lastErrno(m, map, flags) : -Errnos.EINVAL;
        }
        long enabled = event.enabledNs();
        m.store(buf + 8, 8, enabled);
        m.store(buf + 16, 8, enabled);
        return 0;
    }

    private static byte[] meta(Machine m, long data, long size) {
        // ARG_CONST_SIZE_OR_ZERO, checked by the verifier: a size the program's memory holds
        return size == 0 ? NONE : m.readBytes(data, (int) size);
    }

    private static long write(Machine m, long map, long flags, byte[] meta, byte[] extra) {
        PerfEventArrayMap.Lookup l = array(m, map, "bpf_perf_event_output#25").event(flags, BaseHelpers.ENGINE_CPU);
        PerfEventRing event = l.event();
        if (event == null) {
            return l.errno();
        }
        if (event.cpu() != BaseHelpers.ENGINE_CPU) {
            return -Errnos.EOPNOTSUPP;
        }
        return event.output(meta, extra);
    }

    private static PerfEventArrayMap array(Machine m, long map, String helper) {
        BpfMapOps ops = m.mapObject(map).map();
        if (!(ops instanceof PerfEventArrayMap a)) {
            throw new Fault("cannot pass map_type " + ops.spec().type().value() + " into func " + helper);
        }
        return a;
    }
}
