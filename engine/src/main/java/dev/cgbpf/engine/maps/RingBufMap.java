package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Region;
import dev.cgbpf.engine.interp.RingBufOps;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): a multi-producer, single-consumer ring of
 * variable-length records. max_entries is the data area's size, a power of 2 and a multiple of
 * the page size; key_size and value_size are 0; the only creation flag is BPF_F_NUMA_NODE. It has
 * no elements: every element command answers ENOTSUPP.
 *
 * <p>A record is an 8-byte header (u32 len with BUSY and DISCARD in its top bits, u32 pg_off)
 * and the data, rounded up to 8 bytes; the producer position may run at most size - 1 bytes
 * ahead of the consumer's. Positions only grow; a record's place is its position masked.
 *
 * <p>The kernel maps the data pages twice in a row so that a record wrapping past the end reads
 * straight through. The engine's data region is twice the size for the same reason, but the two
 * halves are not one memory: a record is written and read where it starts, which is all the
 * producer and the consumer ({@link #consume}) ever do. (Stale bytes a program may read in a
 * fresh record can differ from the kernel's for that reason; no program of cgbpf reads them.)
 * User space reads the records with {@link #consume} instead of mmap(2).
 */
public final class RingBufMap extends EngineMap implements RingBufOps {
    /** RINGBUF_CREATE_FLAG_MASK of 6.18 (the overwrite mode came with 6.19). */
    static final int CREATE_FLAGS = BPF_F_NUMA_NODE;
    /** PAGE_SIZE of x86-64. */
    static final int PAGE_SIZE = 4096;
    public static final int HDR_SZ = 8;
    public static final int BUSY_BIT = 1 << 31;
    public static final int DISCARD_BIT = 1 << 30;
    /** RINGBUF_MAX_RECORD_SZ: UINT_MAX / 4. */
    static final long MAX_RECORD_SZ = 0xffffffffL / 4;
    /**
     * Pages of struct bpf_ringbuf before the data: the kernel's own fields, the consumer page and
     * the producer page (RINGBUF_PGOFF + RINGBUF_POS_PAGES); a header's pg_off counts from there.
     */
    static final int META_PAGES = 3;
    /** enum { BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS }: bpf_ringbuf_query's flags. */
    static final int RB_AVAIL_DATA = 0;
    static final int RB_RING_SIZE = 1;
    static final int RB_CONS_POS = 2;
    static final int RB_PROD_POS = 3;
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final Region data;
    private final long mask;
    private long consumerPos;
    private long producerPos;

    private RingBufMap(MapSpec spec, AddressSpace space) {
        super(spec, space, 0);
        this.mask = Integer.toUnsignedLong(spec.maxEntries()) - 1;
        String label = "map[" + (spec.name() == null ? "" : spec.name()) + "].data";
        this.data = Region.ringData(space.reserveSlot(), this, label, Math.multiplyExact(2, spec.maxEntries()));
        space.install(data);
    }

    /** ringbuf_map_alloc's checks, in its order. */
    static RingBufMap createRingBuf(MapSpec spec, AddressSpace space) throws BpfException {
        if ((spec.flags() & ~CREATE_FLAGS) != 0) {
            throw new BpfException(Errno.EINVAL, "ring buffer map flags 0x" + Integer.toHexString(spec.flags())
                    + ": only BPF_F_NUMA_NODE is allowed");
        }
        long size = Integer.toUnsignedLong(spec.maxEntries());
        if (spec.keySize() != 0 || spec.valueSize() != 0 || Long.bitCount(size) != 1 || size % PAGE_SIZE != 0) {
            throw new BpfException(Errno.EINVAL, "ring buffer map needs key_size 0, value_size 0 and a max_entries"
                    + " that is a power of 2 and a multiple of " + PAGE_SIZE + " (got key_size " + spec.keySize()
                    + ", value_size " + Integer.toUnsignedString(spec.valueSize()) + ", max_entries " + size + ")");
        }
        checkMemory(spec, 2 * size);
        return new RingBufMap(spec, space);
    }

    @Override
    protected void freed() {
        space.release(data);
    }

    /** The verifier lets only the ring buffer helpers take this map. */
    @Override
    public boolean helperAccessible() {
        return false;
    }

    // ---- element commands: a ring buffer has none ----

    @Override
    public int elementCommandsErrno() {
        return -Errno.ENOTSUPP.number();
    }

    @Override
    public int lookupIndex(byte[] key) {
        return -1;
    }

    @Override
    public int updateElem(byte[] key, byte[] value, long flags) {
        return elementCommandsErrno();
    }

    @Override
    public int deleteElem(byte[] key) {
        return elementCommandsErrno();
    }

    @Override
    public byte[] nextKey(byte[] key) {
        return null;
    }

    // ---- the producer side: the helpers ----

    @Override
    public synchronized long reserve(long size) {
        if (Long.compareUnsigned(size, MAX_RECORD_SZ) > 0) {
            return 0;
        }
        long len = (size + HDR_SZ + 7) & ~7L;
        if (len > mask + 1) {
            return 0;
        }
        long newProducerPos = producerPos + len;
        // the producer may run at most size - 1 bytes ahead of the consumer
        if (newProducerPos - consumerPos > mask) {
            return 0;
        }
        int at = (int) (producerPos & mask);
        INTS.set(data.bytes(), at, (int) size | BUSY_BIT);
        INTS.set(data.bytes(), at + 4, META_PAGES + (at / PAGE_SIZE));
        producerPos = newProducerPos;
        return data.base() + at + HDR_SZ;
    }

    @Override
    public synchronized void commit(long sample, boolean discard) {
        long at = sample - data.base() - HDR_SZ;
        int len = at >= 0 && at <= mask ? (int) INTS.get(data.bytes(), (int) at) : 0;
        if ((len & BUSY_BIT) == 0) {
            throw new Fault("no reserved record of map '" + spec.name() + "' at "
                    + data.name() + "+" + (at + HDR_SZ));
        }
        int committed = len ^ BUSY_BIT;
        INTS.set(data.bytes(), (int) at, discard ? committed | DISCARD_BIT : committed);
    }

    @Override
    public synchronized long query(long flags) {
        return switch ((int) flags == flags ? (int) flags : -1) {
            case RB_AVAIL_DATA -> producerPos - consumerPos;
            case RB_RING_SIZE -> mask + 1;
            case RB_CONS_POS -> consumerPos;
            case RB_PROD_POS -> producerPos;
            default -> 0;
        };
    }

    // ---- the consumer side: what the daemon does with mmap(2) on the kernel ----

    /** Bytes between the consumer and the producer position (records, discarded and busy ones included). */
    public synchronized long pending() {
        return producerPos - consumerPos;
    }

    /**
     * Reads up to {@code max} records past the consumer position, in order, and moves the
     * consumer position past each: a record still reserved (BUSY) ends the batch, a discarded one
     * is passed over (and not counted), as a kernel ring's reader does. Each record's data goes to
     * {@code handler} once the position has moved. Returns the number of records handed over.
     */
    public int consume(Consumer<byte[]> handler, int max) {
        List<byte[]> records = new ArrayList<>();
        synchronized (this) {
            while (records.size() < max && consumerPos < producerPos) {
                int at = (int) (consumerPos & mask);
                int len = (int) INTS.get(data.bytes(), at);
                if ((len & BUSY_BIT) != 0) {
                    break;
                }
                int size = len & ~(BUSY_BIT | DISCARD_BIT);
                if ((len & DISCARD_BIT) == 0) {
                    records.add(Arrays.copyOfRange(data.bytes(), at + HDR_SZ, at + HDR_SZ + size));
                }
                consumerPos += (size + HDR_SZ + 7) & ~7L;
            }
        }
        records.forEach(handler);
        return records.size();
    }
}
