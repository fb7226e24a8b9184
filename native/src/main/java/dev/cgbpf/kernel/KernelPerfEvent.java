package dev.cgbpf.kernel;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.PerfEvent;
import dev.cgbpf.engine.backend.PerfRecord;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * A perf event of the kernel backend ({@link PerfEventOpen}) and its ring, mapped as perf tools
 * map it: one metadata page (struct perf_event_mmap_page: data_head, u64 at 1024, written by the
 * kernel; data_tail, u64 at 1032, written by this reader) and {@link PerfEvent#DATA_PAGES} pages
 * of records, positions counting on past the end (offset = position modulo the data size), so a
 * record may wrap. data_head is read with acquire semantics before the records it covers, and
 * data_tail published with release after they are copied out, so that the kernel never reuses
 * bytes still being read.
 */
final class KernelPerfEvent implements PerfEvent {
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;
    private static final long DATA_HEAD = 1024;
    private static final long DATA_TAIL = 1032;

    private final Fd fd;
    private final int cpu;
    private final long page;
    private final long size;
    private final Pointer ring;
    private boolean closed;

    private KernelPerfEvent(Fd fd, int cpu, long page, Pointer ring) {
        this.fd = fd;
        this.cpu = cpu;
        this.page = page;
        this.size = page * DATA_PAGES;
        this.ring = ring;
    }

    static KernelPerfEvent open(int cpu) throws BpfException {
        Fd fd = PerfEventOpen.open(cpu);
        long page = LibC.INSTANCE.getpagesize();
        Pointer p = LibC.INSTANCE.mmap(null, page * (1 + DATA_PAGES), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
        if (p == null || Pointer.nativeValue(p) == -1L) {
            int errno = Native.getLastError();
            fd.close();
            throw SysErrno.exception(errno, "mmap of a perf event's ring: " + SysErrno.name(errno));
        }
        return new KernelPerfEvent(fd, cpu, page, p);
    }

    /** The event's fd, for a perf event array's update. */
    int fd() {
        return fd.get();
    }

    @Override
    public int cpu() {
        return cpu;
    }

    @Override
    public synchronized List<PerfRecord> read() {
        if (closed) {
            throw new IllegalStateException("perf event on CPU " + cpu + " is closed");
        }
        long head = ring.getLong(DATA_HEAD);
        VarHandle.acquireFence();
        long tail = ring.getLong(DATA_TAIL);
        List<PerfRecord> out = new ArrayList<>();
        while (tail < head) {
            byte[] hdr = bytes(tail, PerfRecord.HEADER);
            int recSize = PerfRecord.recordSize(hdr);
            if (recSize < PerfRecord.HEADER) {
                throw new IllegalStateException("perf record of " + recSize + " bytes on CPU " + cpu);
            }
            out.add(PerfRecord.of(hdr, bytes(tail + PerfRecord.HEADER, recSize - PerfRecord.HEADER)));
            tail += recSize;
        }
        VarHandle.releaseFence();
        ring.setLong(DATA_TAIL, tail);
        return out;
    }

    /** {@code n} bytes of the data area from position {@code pos}, across its end if need be. */
    private byte[] bytes(long pos, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = ring.getByte(page + ((pos + i) & (size - 1)));
        }
        return b;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            LibC.INSTANCE.munmap(ring, page * (1 + DATA_PAGES));
            fd.close();
        }
    }

    @Override
    public String toString() {
        return "kernel perf event on CPU " + cpu + " (" + fd + ")";
    }
}
