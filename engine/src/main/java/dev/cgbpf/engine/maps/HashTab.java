package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.Region;

/**
 * BPF_MAP_TYPE_HASH and BPF_MAP_TYPE_PERCPU_HASH (kernel/bpf/hashtab.c) with preallocated
 * elements, as the kernel does by default: {@code max_entries} value slots exist from the start
 * and a full table refuses a new key with E2BIG (replacing an existing key still works).
 * BPF_NOEXIST on a present key is EEXIST, BPF_EXIST on an absent one ENOENT, delete of an absent
 * key ENOENT.
 *
 * <p>Iteration order (get_next_key) is insertion order, oldest first; the kernel's is bucket
 * order of a seeded jhash and not reproducible, so nothing may depend on it. Like the kernel, an
 * absent (or null) key yields the first key, and the last key ENOENT. An update of a present
 * key rewrites its value in place and keeps its position (the kernel swaps in a fresh element;
 * a program holding the old value pointer sees the new value here). A per-CPU hash keeps a value
 * per possible CPU (EngineMap): programs read and write CPU 0's, the syscall all of them.
 */
public final class HashTab extends EngineMap {
    /** HTAB_CREATE_FLAG_MASK minus the LRU-only BPF_F_NO_COMMON_LRU. */
    static final int CREATE_FLAGS = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | ACCESS_FLAGS | BPF_F_ZERO_SEED;
    /** KMALLOC_MAX_SIZE - sizeof(struct htab_elem) on x86-64: key_size + value_size must stay below. */
    static final long MAX_ELEM_BYTES = (4L << 20) - 48;

    private final KeyIndex index;
    private final int[] freeSlots;
    private int freeCount;

    private HashTab(MapSpec spec, AddressSpace space) {
        super(spec, space, spec.maxEntries());
        int n = spec.maxEntries();
        index = new KeyIndex(n);
        freeSlots = new int[n];
        for (int i = 0; i < n; i++) {
            freeSlots[i] = n - 1 - i;
        }
        freeCount = n;
    }

    /** htab_map_alloc_check, in its order. */
    static HashTab createHash(MapSpec spec, AddressSpace space) throws BpfException {
        boolean percpu = spec.type() == MapType.PERCPU_HASH;
        if ((spec.flags() & ~CREATE_FLAGS) != 0 || percpu && (spec.flags() & BPF_F_NUMA_NODE) != 0
                || spec.keySize() <= 0 || spec.valueSize() <= 0 || spec.maxEntries() <= 0) {
            throw new BpfException(Errno.EINVAL, "hash map needs key_size > 0, value_size > 0, max_entries > 0"
                    + " and known flags (got key_size " + spec.keySize() + ", value_size " + spec.valueSize()
                    + ", max_entries " + Integer.toUnsignedString(spec.maxEntries()) + ", flags 0x"
                    + Integer.toHexString(spec.flags()) + ")");
        }
        if ((long) spec.keySize() + spec.valueSize() >= MAX_ELEM_BYTES) {
            throw new BpfException(Errno.E2BIG, "hash map key_size + value_size " + ((long) spec.keySize()
                    + spec.valueSize()) + " is too big");
        }
        if (percpu) {
            checkPercpuValueSize(spec);
        }
        long perElem = Region.roundUp8(spec.valueSize()) + (long) Region.roundUp8(spec.keySize()) + 48;
        checkMemory(spec, perElem * spec.maxEntries());
        return new HashTab(spec, space);
    }

    @Override
    public synchronized int lookupIndex(byte[] key) {
        return index.get(key);
    }

    @Override
    public synchronized int updateElem(byte[] key, byte[] value, long flags) {
        if (Long.compareUnsigned(flags, BPF_EXIST) > 0) {
            return EINVAL;
        }
        int slot = index.get(key);
        if (slot >= 0) {
            if (flags == BPF_NOEXIST) {
                return EEXIST;
            }
            putValue(slot, value, false);
            return 0;
        }
        if (flags == BPF_EXIST) {
            return ENOENT;
        }
        if (freeCount == 0) {
            return E2BIG;
        }
        int s = freeSlots[--freeCount];
        putValue(s, value, true);
        index.add(key, s);
        return 0;
    }

    @Override
    public synchronized int deleteElem(byte[] key) {
        int s = index.remove(key);
        if (s < 0) {
            return ENOENT;
        }
        freeSlots[freeCount++] = s;
        return 0;
    }

    @Override
    public synchronized byte[] nextKey(byte[] key) {
        return index.next(key);
    }

    public synchronized int size() {
        return index.size();
    }
}
