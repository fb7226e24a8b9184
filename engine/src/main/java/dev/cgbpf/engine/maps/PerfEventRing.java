package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.PerfEvent;
import dev.cgbpf.engine.backend.PerfRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * An engine perf event of type PERF_TYPE_SOFTWARE / PERF_COUNT_SW_BPF_OUTPUT on one CPU and its
 * ring of records, as the kernel's perf ring buffer (kernel/events/ring_buffer.c) fills it for
 * bpf_perf_event_output: {@link PerfEvent#DATA_PAGES} pages of data, positions counting on past
 * the end, a record written at the head when the space between head and the reader's tail
 * holds it (CIRC_SPACE: at most the size less one byte, so a record the whole ring's size never
 * fits). A sample is a perf_event_header then, for PERF_SAMPLE_RAW, a u32 size and the raw
 * data, the size rounded so that size field and data end on 8 bytes; the padding is skipped,
 * not written (perf_output_skip), so it shows what the ring held there before. A record that
 * does not fit is lost: -ENOSPC to the program, and the next record that fits is preceded by a
 * PERF_RECORD_LOST (the event's id, then the number lost).
 */
public final class PerfEventRing {
    /** The page size of the engine's ring: x86-64's. */
    public static final int PAGE_SIZE = 4096;
    /** PERF_RECORD_LOST */
    public static final int LOST = 2;
    /** PERF_RECORD_MISC_KERNEL: the sample's registers are the kernel's (perf_fetch_caller_regs in bpf_event_output). */
    static final int MISC_KERNEL = 1;
    private static final int ENOSPC = -Errno.ENOSPC.number();

    private final int cpu;
    private final long id;
    /** When the event was opened (enabled, and running from then on: a CPU's software event always runs). */
    private final long openedNs = System.nanoTime();
    private final byte[] data = new byte[PAGE_SIZE * PerfEvent.DATA_PAGES];
    private long head;
    private long tail;
    private long lost;

    private PerfEventRing(int cpu, long id) {
        this.cpu = cpu;
        this.id = id;
    }

    /**
     * perf_event_open(2) of the event on {@code cpu}: EINVAL for a CPU number at or past
     * nr_cpu_ids (the engine's: the host's possible CPUs, all online).
     *
     * @param id the event's id, as PERF_RECORD_LOST carries it
     */
    public static PerfEventRing open(int cpu, long id) throws BpfException {
        if (cpu < 0 || cpu >= PossibleCpus.count()) {
            throw new BpfException(Errno.EINVAL, "perf_event_open on CPU " + cpu + " of " + PossibleCpus.count());
        }
        return new PerfEventRing(cpu, id);
    }

    /** The engine's CPUs: the host's possible ones, all taken as online. */
    public static int cpus() {
        return PossibleCpus.count();
    }

    /** Nanoseconds the event has been enabled, and running, since it was opened. */
    public long enabledNs() {
        return System.nanoTime() - openedNs;
    }

    /** The CPU the event counts on (event->oncpu for an enabled per-CPU event). */
    public int cpu() {
        return cpu;
    }

    /**
     * perf_event_output of a PERF_SAMPLE_RAW sample whose raw data is {@code meta} then
     * {@code extra} (the skb variant's packet bytes; empty otherwise): 0, or -ENOSPC when the
     * record does not fit.
     */
    public synchronized int output(byte[] meta, byte[] extra) {
        int raw = meta.length + extra.length;
        int rawSize = ((raw + 4 + 7) & ~7) - 4;
        int size = PerfRecord.HEADER + 4 + rawSize;
        int lostSize = lost > 0 ? PerfRecord.HEADER + 16 : 0;
        long space = (tail - head - 1) & (data.length - 1);
        if (size + lostSize > space) {
            lost++;
            return ENOSPC;
        }
        if (lost > 0) {
            header(LOST, 0, lostSize);
            putLong(id);
            putLong(lost);
            lost = 0;
        }
        header(PerfRecord.SAMPLE, MISC_KERNEL, size);
        putInt(rawSize);
        put(meta);
        put(extra);
        head += rawSize - raw; // the padding is skipped, not written
        return 0;
    }

    /** The records since the last read, oldest first; the tail moves past them. */
    public synchronized List<PerfRecord> read() {
        List<PerfRecord> out = new ArrayList<>();
        while (tail < head) {
            byte[] hdr = bytes(tail, PerfRecord.HEADER);
            int size = PerfRecord.recordSize(hdr);
            out.add(PerfRecord.of(hdr, bytes(tail + PerfRecord.HEADER, size - PerfRecord.HEADER)));
            tail += size;
        }
        return out;
    }

    private void header(int type, int misc, int size) {
        putInt(type);
        putByte(misc);
        putByte(misc >>> 8);
        putByte(size);
        putByte(size >>> 8);
    }

    private void putLong(long v) {
        putInt((int) v);
        putInt((int) (v >>> 32));
    }

    private void putInt(int v) {
        for (int i = 0; i < 4; i++) {
            putByte(v >>> (8 * i));
        }
    }

    private void put(byte[] b) {
        for (byte x : b) {
            putByte(x);
        }
    }

    private void putByte(int v) {
        data[(int) (head & (data.length - 1))] = (byte) v;
        head++;
    }

    /** {@code n} bytes of the ring from position {@code pos}, across its end if need be. */
    private byte[] bytes(long pos, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = data[(int) ((pos + i) & (data.length - 1))];
        }
        return b;
    }
}
