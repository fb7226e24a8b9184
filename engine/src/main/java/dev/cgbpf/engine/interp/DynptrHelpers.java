package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.backend.Errno;

/**
 * The dynptr helpers bpf_base_func_proto gives every program type: bpf_dynptr_from_mem (197),
 * bpf_ringbuf_reserve_dynptr (198), bpf_ringbuf_submit_dynptr (199),
 * bpf_ringbuf_discard_dynptr (200), bpf_dynptr_read (201), bpf_dynptr_write (202) and
 * bpf_dynptr_data (203), with the kernel's answers (kernel/bpf/helpers.c, ringbuf.c).
 *
 * <p>The dynptr is the program's 16 stack bytes, laid out as the kernel's struct bpf_dynptr_kern:
 * the data address at +0, at +8 the size in the low 24 bits with the kind above bit 28 (1 local,
 * 2 ring buffer) and at +12 the offset into the data. A failed constructor leaves it null (all
 * zeros), which every other helper answers with -EINVAL (read, write) or NULL (data). The
 * verifier has made sure the program never reads or writes these bytes itself.
 */
final class DynptrHelpers {
    static final int DYNPTR_FROM_MEM = 197;
    static final int RINGBUF_RESERVE_DYNPTR = 198;
    static final int RINGBUF_SUBMIT_DYNPTR = 199;
    static final int RINGBUF_DISCARD_DYNPTR = 200;
    static final int DYNPTR_READ = 201;
    static final int DYNPTR_WRITE = 202;
    static final int DYNPTR_DATA = 203;

    /** DYNPTR_MAX_SIZE: the size bits of bpf_dynptr_kern.size */
    private static final long MAX_SIZE = (1L << 24) - 1;
    private static final int TYPE_SHIFT = 28;
    private static final int TYPE_LOCAL = 1;
    private static final int TYPE_RINGBUF = 2;
    private static final long EINVAL = -Errno.EINVAL.number();
    private static final long E2BIG = -Errno.E2BIG.number();

    private DynptrHelpers() {
    }

    static HelperTable.Builder addTo(HelperTable.Builder b) {
        return b.add(DYNPTR_FROM_MEM, DynptrHelpers::fromMem)
                .add(RINGBUF_RESERVE_DYNPTR, DynptrHelpers::reserve)
                .add(RINGBUF_SUBMIT_DYNPTR, (m, ptr, flags, r3, r4, r5) -> commit(m, ptr, false))
                .add(RINGBUF_DISCARD_DYNPTR, (m, ptr, flags, r3, r4, r5) -> commit(m, ptr, true))
                .add(DYNPTR_READ, DynptrHelpers::read)
                .add(DYNPTR_WRITE, DynptrHelpers::write)
                .add(DYNPTR_DATA, DynptrHelpers::data);
    }

    /** The dynptr's fields as the program's stack holds them. */
    private record Kern(long data, int size, int type, int offset) {
        static Kern at(Machine m, long ptr) {
            long sizeWord = m.load(ptr + 8, 4);
            return new Kern(m.load(ptr, 8), (int) (sizeWord & MAX_SIZE), (int) (sizeWord >>> TYPE_SHIFT) & 7,
                    (int) m.load(ptr + 12, 4));
        }

        /** bpf_dynptr_check_off_len: {@code len} bytes at {@code off} lie inside the dynptr. */
        boolean fits(long off, long len) {
            return len <= size && off <= size - len;
        }
    }

    /** bpf_dynptr_init */
    private static void init(Machine m, long ptr, long data, int type, long size) {
        m.store(ptr, 8, data);
        m.store(ptr + 8, 4, size | (long) type << TYPE_SHIFT);
        m.store(ptr + 12, 4, 0);
    }

    /** bpf_dynptr_set_null */
    private static void setNull(Machine m, long ptr) {
        m.store(ptr, 8, 0);
        m.store(ptr + 8, 8, 0);
    }

    /** long bpf_dynptr_from_mem(data, u32 size, u64 flags, ptr): -E2BIG for a size past 2^24 - 1, -EINVAL for any flag. */
    static long fromMem(Machine m, long data, long size, long flags, long ptr, long r5) {
        long len = size & 0xffffffffL;
        long err = len > MAX_SIZE ? E2BIG : flags != 0 ? EINVAL : 0;
        if (err != 0) {
            setNull(m, ptr);
            return err;
        }
        init(m, ptr, data, TYPE_LOCAL, len);
        return 0;
    }

    /**
     * long bpf_ringbuf_reserve_dynptr(map, u32 size, u64 flags, ptr): -EINVAL for any flag,
     * -E2BIG past the dynptr size limit, -EINVAL again when the ring has no room or the record
     * could never fit (not bpf_ringbuf_output's -EAGAIN: measured on 6.18); the dynptr is null
     * on every failure and still has to be submitted or discarded.
     */
    static long reserve(Machine m, long map, long size, long flags, long ptr, long r5) {
        RingBufOps ring = RingBufHelpers.ring(m, map, "bpf_ringbuf_reserve_dynptr#198");
        long len = size & 0xffffffffL;
        long err = flags != 0 ? EINVAL : len > MAX_SIZE ? E2BIG : 0;
        long sample = err == 0 ? ring.reserve(len) : 0;
        if (err == 0 && sample == 0) {
            err = EINVAL;
        }
        if (err != 0) {
            setNull(m, ptr);
            return err;
        }
        init(m, ptr, sample, TYPE_RINGBUF, len);
        return 0;
    }

    /** bpf_ringbuf_submit/discard_dynptr(ptr, flags): nothing for a null dynptr; the dynptr is null afterwards. */
    static long commit(Machine m, long ptr, boolean discard) {
        Kern d = Kern.at(m, ptr);
        if (d.data() == 0) {
            return 0;
        }
        RingBufHelpers.commit(m, d.data(), discard);
        setNull(m, ptr);
        return 0;
    }

    /** long bpf_dynptr_read(dst, u32 len, src, u32 offset, u64 flags): -EINVAL for a null dynptr or a flag, -E2BIG out of range. */
    static long read(Machine m, long dst, long len, long src, long offset, long flags) {
        Kern d = Kern.at(m, src);
        long n = len & 0xffffffffL;
        long off = offset & 0xffffffffL;
        if (d.data() == 0 || flags != 0) {
            return EINVAL;
        }
        if (!d.fits(off, n)) {
            return E2BIG;
        }
        copy(m, d.data() + d.offset() + off, dst, (int) n);
        return 0;
    }

    /**
     * long bpf_dynptr_write(dst, u32 offset, src, u32 len, u64 flags): -EINVAL for a null dynptr,
     * -E2BIG out of range, then -EINVAL for a flag (checked per kind, after the range).
     */
    static long write(Machine m, long dst, long offset, long src, long len, long flags) {
        Kern d = Kern.at(m, dst);
        long n = len & 0xffffffffL;
        long off = offset & 0xffffffffL;
        if (d.data() == 0) {
            return EINVAL;
        }
        if (!d.fits(off, n)) {
            return E2BIG;
        }
        if (flags != 0) {
            return EINVAL;
        }
        copy(m, src, d.data() + d.offset() + off, (int) n);
        return 0;
    }

    /** void *bpf_dynptr_data(ptr, u32 offset, u32 len): the address, or NULL for a null dynptr or out of range. */
    static long data(Machine m, long ptr, long offset, long len, long r4, long r5) {
        Kern d = Kern.at(m, ptr);
        long off = offset & 0xffffffffL;
        if (d.data() == 0 || !d.fits(off, len & 0xffffffffL)) {
            return 0;
        }
        return d.data() + d.offset() + off;
    }

    /** memmove of {@code len} bytes (source and destination may overlap). */
    private static void copy(Machine m, long from, long to, int len) {
        if (len == 0) {
            return;
        }
        m.writeBytes(to, m.readBytes(from, len));
    }
}
