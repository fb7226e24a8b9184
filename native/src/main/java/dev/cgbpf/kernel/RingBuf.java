package dev.cgbpf.kernel;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;

import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * The user-space consumer of a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF), as libbpf's
 * ring_buffer does it, through two mappings of the map fd:
 * <ul>
 * <li>offset 0, one page, read-write: the consumer position (u64 at offset 0), which only this
 *     reader writes;</li>
 * <li>offset one page, read-only: the producer page (the producer position, u64 at offset 0),
 *     then the data area, which the kernel maps twice in a row so that a record that wraps past
 *     the end reads as one contiguous range.</li>
 * </ul>
 * Each record starts with an 8-byte header: a u32 length whose bit 31 is BUSY (reserved, not yet
 * committed) and bit 30 DISCARD (committed as discarded), then the u32 page offset the kernel
 * uses to find the map; the next record starts at the header plus the length rounded up to 8.
 * Positions only grow; the data offset is the position modulo the (power-of-two) data size.
 *
 * <p>Ordering: the producer position is read with acquire semantics before any record it covers,
 * a record's length with acquire before its bytes, and the consumer position is published with
 * release after the record was copied out, so that the kernel never reuses bytes still being read
 * (kernel: the smp_load_acquire / smp_store_release pairs of ringbuf_process_ring).
 *
 * <p>One thread consumes; {@link #await} (poll(2) on the map fd, POLLIN when data is there) and
 * {@link #consume} are not safe against a concurrent {@link #close}.
 */
public final class RingBuf implements AutoCloseable {
    static final int HEADER = 8;
    static final int BUSY = 1 << 31;
    static final int DISCARD = 1 << 30;
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;
    private static final long MAP_FAILED = -1L;
    private static final short POLLIN = 1;

    private final int fd;
    private final long size;
    private final long page;
    private final Pointer consumer;
    private final Pointer producer;
    private final Pointer data;
    private boolean closed;

    private RingBuf(int fd, long size, long page, Pointer consumer, Pointer producer) {
        this.fd = fd;
        this.size = size;
        this.page = page;
        this.consumer = consumer;
        this.producer = producer;
        this.data = producer.share(page);
    }

    /**
     * Maps the ring buffer of {@code mapFd} (which the caller keeps open for {@link #await}).
     *
     * @param dataSize the map's max_entries: the data area's size, a power of two multiple of the page size
     */
    public static RingBuf map(int mapFd, int dataSize) throws BpfException {
        long page = LibC.INSTANCE.getpagesize();
        if (dataSize <= 0 || Integer.bitCount(dataSize) != 1 || dataSize % page != 0) {
            throw new BpfException(Errno.EINVAL, "ring buffer size " + dataSize
                    + " is not a power of two multiple of the page size " + page);
        }
        Pointer cons = mmap(page, PROT_READ | PROT_WRITE, mapFd, 0, "consumer page");
        Pointer prod;
        try {
            prod = mmap(page + 2L * dataSize, PROT_READ, mapFd, page, "producer page and data");
        } catch (BpfException e) {
            LibC.INSTANCE.munmap(cons, page);
            throw e;
        }
        return new RingBuf(mapFd, dataSize, page, cons, prod);
    }

    private static Pointer mmap(long len, int prot, int fd, long off, String what) throws BpfException {
        Pointer p = LibC.INSTANCE.mmap(null, len, prot, MAP_SHARED, fd, off);
        if (p == null || Pointer.nativeValue(p) == MAP_FAILED) {
            int errno = Native.getLastError();
            throw new BpfException(SysErrno.name(errno), "mmap of the ring buffer's " + what + ": " + SysErrno.name(errno), null);
        }
        return p;
    }

    /** The data area's size in bytes. */
    public long size() {
        return size;
    }

    /** Bytes committed or reserved by the producer and not yet consumed. */
    public long pending() {
        return producerPos() - consumerPos();
    }

    private long producerPos() {
        long p = producer.getLong(0);
        VarHandle.acquireFence();
        return p;
    }

    private long consumerPos() {
        return consumer.getLong(0);
    }

    /**
     * Waits up to {@code timeoutMs} (negative: without a limit) for data: poll(2) on the map fd.
     * The kernel wakes a poller per committed record unless the program asked for no wakeup; the
     * caller consumes and waits again, so a missed wakeup costs at most one timeout.
     *
     * @return true when data is there (or may be: EINTR)
     */
    public boolean await(int timeoutMs) throws BpfException {
        if (pending() > 0) {
            return true;
        }
        byte[] pfd = new byte[8];
        pfd[0] = (byte) fd;
        pfd[1] = (byte) (fd >> 8);
        pfd[2] = (byte) (fd >> 16);
        pfd[3] = (byte) (fd >> 24);
        pfd[4] = (byte) POLLIN;
        int n = LibC.INSTANCE.poll(pfd, 1, timeoutMs);
        if (n < 0) {
            int errno = Native.getLastError();
            if (SysErrno.name(errno).equals("EINTR")) {
                return true;
            }
            throw new BpfException(SysErrno.name(errno), "poll on the ring buffer: " + SysErrno.name(errno), null);
        }
        return n > 0;
    }

    /**
     * Hands every committed record to {@code handler} (a fresh copy of its bytes), in order, up
     * to {@code max} records, skipping discarded ones, and stops at the first record still being
     * written (BUSY). The consumer position advances after each record.
     *
     * @return the records handed over
     */
    public int consume(Consumer<byte[]> handler, int max) {
        if (closed) {
            throw new IllegalStateException("ring buffer reader is closed");
        }
        int n = 0;
        long cons = consumerPos();
        long prod = producerPos();
        while (n < max) {
            if (cons >= prod) {
                prod = producerPos();
                if (cons >= prod) {
                    break;
                }
            }
            long off = cons & (size - 1);
            int hdr = data.getInt(off);
            VarHandle.acquireFence();
            if ((hdr & BUSY) != 0) {
                break;
            }
            int len = hdr & ~(BUSY | DISCARD);
            if ((hdr & DISCARD) == 0) {
                // the data area is mapped twice in a row: a record that wraps reads straight through
                handler.accept(data.getByteArray(off + HEADER, len));
                n++;
            }
            cons += roundUp8(len + HEADER);
            VarHandle.releaseFence();
            consumer.setLong(0, cons);
        }
        return n;
    }

    static long roundUp8(long v) {
        return (v + 7) & ~7L;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.INSTANCE.munmap(producer, page + 2 * size);
            LibC.INSTANCE.munmap(consumer, page);
        }
    }
}
