package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.Region;

/**
 * BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c): a u32 index key, every
 * element always present and zero-initialised. Update with BPF_NOEXIST is EEXIST, an index past
 * the end is E2BIG on update and ENOENT on lookup, delete is EINVAL; the next key after the last
 * is ENOENT and after an out-of-range or absent key it is index 0. A per-CPU array keeps a value
 * per possible CPU (EngineMap): programs read and write CPU 0's, the syscall all of them.
 */
public final class ArrayMap extends EngineMap {
    /** ARRAY_CREATE_FLAG_MASK as the running kernel accepts it for plain arrays. */
    static final int CREATE_FLAGS = BPF_F_NUMA_NODE | ACCESS_FLAGS | BPF_F_MMAPABLE | BPF_F_INNER_MAP;

    private ArrayMap(MapSpec spec, AddressSpace space) {
        super(spec, space, spec.maxEntries());
    }

    /** array_map_alloc_check, in its order. */
    static ArrayMap createArray(MapSpec spec, AddressSpace space) throws BpfException {
        boolean percpu = spec.type() == MapType.PERCPU_ARRAY;
        if (spec.maxEntries() == 0 || spec.keySize() != 4 || spec.valueSize() == 0
                || (spec.flags() & ~CREATE_FLAGS) != 0
                || percpu && (spec.flags() & (BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_INNER_MAP)) != 0) {
            throw new BpfException(Errno.EINVAL, "array map needs key_size 4, value_size > 0, max_entries > 0"
                    + " and known flags (got key_size " + spec.keySize() + ", value_size "
                    + Integer.toUnsignedString(spec.valueSize()) + ", max_entries "
                    + Integer.toUnsignedString(spec.maxEntries()) + ", flags 0x" + Integer.toHexString(spec.flags()) + ")");
        }
        if (percpu) {
            checkPercpuValueSize(spec);
        }
        long stride = Region.roundUp8(spec.valueSize()) & 0xffffffffL;
        checkMemory(spec, stride * Integer.toUnsignedLong(spec.maxEntries()));
        return new ArrayMap(spec, space);
    }

    /** The u32 index of a 4-byte key (host order, little-endian). */
    static int index(byte[] key) {
        return (key[0] & 0xff) | (key[1] & 0xff) << 8 | (key[2] & 0xff) << 16 | (key[3] & 0xff) << 24;
    }

    private boolean inRange(int index) {
        return Integer.compareUnsigned(index, spec.maxEntries()) < 0;
    }

    @Override
    public int lookupIndex(byte[] key) {
        int i = index(key);
        return inRange(i) ? i : -1;
    }

    /** -1 for a per-CPU array: the compiler's inlined lookup knows one value per element only. */
    @Override
    public int arrayMaxEntries() {
        return spec.type() == MapType.PERCPU_ARRAY ? -1 : spec.maxEntries();
    }

    @Override
    public int lookupIndex32(int key) {
        return inRange(key) ? key : -1;
    }

    @Override
    public synchronized int updateElem(byte[] key, byte[] value, long flags) {
        if (Long.compareUnsigned(flags, BPF_EXIST) > 0) {
            return EINVAL;
        }
        int i = index(key);
        if (!inRange(i)) {
            return E2BIG;
        }
        if (flags == BPF_NOEXIST) {
            return EEXIST;
        }
        putValue(i, value, false);
        return 0;
    }

    @Override
    public int deleteElem(byte[] key) {
        return EINVAL;
    }

    @Override
    public byte[] nextKey(byte[] key) {
        return nextIndexKey(key, spec.maxEntries());
    }

    /**
     * array_map_get_next_key: the index after {@code key}'s, index 0 for no key or one past the
     * end, null after the last.
     */
    static byte[] nextIndexKey(byte[] key, int maxEntries) {
        int next = 0;
        if (key != null) {
            int i = index(key);
            if (Integer.compareUnsigned(i, maxEntries) < 0) {
                if (i == maxEntries - 1) {
                    return null;
                }
                next = i + 1;
            }
        }
        return new byte[] {(byte) next, (byte) (next >>> 8), (byte) (next >>> 16), (byte) (next >>> 24)};
    }

    /** Not of a per-CPU array, which has no map_direct_value_addr. */
    @Override
    public long directValueAddress(int offset) {
        if (spec.type() == MapType.PERCPU_ARRAY || offset < 0 || offset >= spec.valueSize()) {
            return -Errno.EINVAL.number();
        }
        return valueAddress(0) + offset;
    }
}
