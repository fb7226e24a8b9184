package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Region;

/**
 * BPF_MAP_TYPE_LRU_HASH and BPF_MAP_TYPE_LRU_PERCPU_HASH (kernel/bpf/hashtab.c, the htab_lru_*
 * ops): a preallocated hash whose every update takes a node from its {@link BpfLru} first, which
 * may evict the least recently used key when the map is full, and then checks the flags, so that
 * even a refused update (EEXIST, ENOENT) or the update of a present key can evict another key.
 * An update of a present key moves it to a new node marked referenced (the per-CPU LRU hash
 * rewrites the present node in place and marks it). A program's lookup marks the node it finds
 * referenced (htab_lru_map_lookup_elem), the syscall's does not (map_lookup_elem_sys_only).
 *
 * <p>Every operation runs on the engine's CPU ({@link BaseHelpers#ENGINE_CPU}); the kernel's
 * answers are the same when its caller stays on that CPU. get_next_key is in insertion order
 * ({@link KeyIndex}).
 */
public final class LruHashTab extends EngineMap {
    /** BPF_F_NO_COMMON_LRU: one LRU list per CPU instead of the common one. */
    static final int BPF_F_NO_COMMON_LRU = 0x2;
    /** HTAB_CREATE_FLAG_MASK */
    private static final int CREATE_FLAGS = HashTab.CREATE_FLAGS | BPF_F_NO_COMMON_LRU;

    private static final int ENOMEM = -Errno.ENOMEM.number();

    private final KeyIndex index;
    private final BpfLru lru;
    private final boolean percpuValues;

    private LruHashTab(MapSpec spec, AddressSpace space, int cpus) {
        super(spec, space, spec.maxEntries());
        index = new KeyIndex(spec.maxEntries());
        percpuValues = spec.type() == MapType.LRU_PERCPU_HASH;
        lru = new BpfLru(spec.maxEntries(), (spec.flags() & BPF_F_NO_COMMON_LRU) != 0, cpus, index::removeSlot);
    }

    /**
     * htab_map_alloc_check in its order, then htab_map_alloc's sizing: with BPF_F_NO_COMMON_LRU,
     * max_entries is rounded up to a multiple of the possible CPUs (down when that overflows), so
     * that every CPU's list has a node, and the map's max_entries (bpf_map_info) is the rounded one.
     */
    static LruHashTab createLruHash(MapSpec spec, AddressSpace space) throws BpfException {
        int flags = spec.flags();
        boolean commonLru = (flags & BPF_F_NO_COMMON_LRU) == 0;
        if ((flags & ~CREATE_FLAGS) != 0) {
            throw new BpfException(Errno.EINVAL, "LRU hash map flags 0x" + Integer.toHexString(flags));
        }
        if ((flags & BPF_F_NO_PREALLOC) != 0) {
            throw new BpfException(Errno.ENOTSUPP, "an LRU hash map is always preallocated (BPF_F_NO_PREALLOC)");
        }
        if ((flags & BPF_F_NUMA_NODE) != 0 && (spec.type() == MapType.LRU_PERCPU_HASH || !commonLru)) {
            throw new BpfException(Errno.EINVAL, "BPF_F_NUMA_NODE with per-CPU values or per-CPU LRU lists");
        }
        if (spec.keySize() == 0 || spec.valueSize() == 0 || spec.maxEntries() == 0) {
            throw new BpfException(Errno.EINVAL, "LRU hash map needs key_size, value_size and max_entries above 0");
        }
        if (Integer.toUnsignedLong(spec.keySize()) + Integer.toUnsignedLong(spec.valueSize()) >= HashTab.MAX_ELEM_BYTES) {
            throw new BpfException(Errno.E2BIG, "LRU hash map key_size + value_size is too big");
        }
        if (spec.type() == MapType.LRU_PERCPU_HASH) {
            checkPercpuValueSize(spec);
        }
        int cpus = PossibleCpus.count();
        long max = Integer.toUnsignedLong(spec.maxEntries());
        if (!commonLru) {
            long up = (max + cpus - 1) / cpus * cpus;
            max = (up & 0xffffffffL) < max ? max / cpus * cpus : up;
        }
        if (max > 1L << 31) {
            throw new BpfException(Errno.E2BIG, "LRU hash map max_entries " + max + " is above 2^31");
        }
        MapSpec sized = new MapSpec(spec.name(), spec.type(), spec.keySize(), spec.valueSize(), (int) max, flags);
        long perElem = Region.roundUp8(spec.valueSize()) + (long) Region.roundUp8(spec.keySize()) + 48;
        checkMemory(sized, perElem * max);
        return new LruHashTab(sized, space, cpus);
    }

    /** htab_lru_map_lookup_elem, a program's lookup: marks the node referenced. */
    @Override
    public synchronized int lookupIndex(byte[] key) {
        int i = index.get(key);
        if (i >= 0) {
            lru.setRef(i);
        }
        return i;
    }

    /** htab_lru_map_lookup_elem_sys: the syscall's lookup leaves the reference bit alone. */
    @Override
    public synchronized int lookupIndexSysOnly(byte[] key) {
        return index.get(key);
    }

    @Override
    public synchronized int updateElem(byte[] key, byte[] value, long flags) {
        if (Long.compareUnsigned(flags, BPF_EXIST) > 0) {
            return EINVAL;
        }
        return percpuValues ? updatePercpu(key, value, flags) : update(key, value, flags);
    }

    /** htab_lru_map_update_elem */
    private int update(byte[] key, byte[] value, long flags) {
        int node = lru.popFree(BaseHelpers.ENGINE_CPU);
        if (node < 0) {
            return ENOMEM;
        }
        int old = index.get(key);
        int err = checkFlags(old, flags);
        if (err != 0) {
            lru.pushFree(node);
            return err;
        }
        putValue(node, value, true);
        if (old >= 0) {
            lru.setRef(node);
            index.remove(key);
        }
        index.add(key, node);
        if (old >= 0) {
            lru.pushFree(old);
        }
        return 0;
    }

    /** __htab_lru_percpu_map_update_elem: BPF_EXIST takes no node; a present key's node is rewritten in place. */
    private int updatePercpu(byte[] key, byte[] value, long flags) {
        int node = -1;
        if (flags != BPF_EXIST) {
            node = lru.popFree(BaseHelpers.ENGINE_CPU);
            if (node < 0) {
                return ENOMEM;
            }
        }
        int old = index.get(key);
        int err = checkFlags(old, flags);
        if (err == 0 && old >= 0) {
            lru.setRef(old);
            putValue(old, value, false);
        } else if (err == 0) {
            putValue(node, value, true);
            index.add(key, node);
            node = -1;
        }
        if (node >= 0) {
            lru.pushFree(node);
        }
        return err;
    }

    /** check_flags */
    private static int checkFlags(int old, long flags) {
        if (old >= 0 && flags == BPF_NOEXIST) {
            return EEXIST;
        }
        return old < 0 && flags == BPF_EXIST ? ENOENT : 0;
    }

    /** htab_lru_map_delete_elem */
    @Override
    public synchronized int deleteElem(byte[] key) {
        int node = index.remove(key);
        if (node < 0) {
            return ENOENT;
        }
        lru.pushFree(node);
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
