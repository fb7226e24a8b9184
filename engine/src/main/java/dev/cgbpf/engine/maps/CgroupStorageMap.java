package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.Region;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * BPF_MAP_TYPE_CGROUP_STORAGE and BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE (kernel/bpf/local_storage.c):
 * one value per (cgroup, attach type), or per cgroup alone when the key is a bare u64
 * {@code cgroup_inode_id}. There are no elements until a program using the map is attached: the
 * attach allocates the storage of (the cgroup attached to, the attach type) unless the map already
 * holds one for that key, so programs of one map attached to one cgroup share it.
 *
 * <p>As the running kernel (6.18) shows it: a storage outlives the detach of its programs and goes
 * only with its cgroup (cgroup_bpf_release) or the map; user space may look up and update (flags
 * BPF_ANY or BPF_EXIST; a missing key is ENOENT) but not delete (EINVAL); get_next_key walks the
 * storages newest first and answers ENOENT for a key it does not hold. The key's padding is
 * ignored. A per-CPU storage holds one value per possible CPU; programs of the engine run on CPU
 * 0, and the syscall side sees every CPU's value rounded up to 8 bytes.
 */
public final class CgroupStorageMap extends EngineMap {
    /** BPF_LOCAL_STORAGE_MAX_VALUE_SIZE as this kernel computes it (found by bisecting map creation). */
    static final int MAX_VALUE_SIZE = 65407;
    /** PCPU_MIN_UNIT_SIZE: the per-CPU flavour's bound. */
    static final int MAX_PERCPU_VALUE_SIZE = 32768;
    /** LOCAL_STORAGE_CREATE_FLAG_MASK: NUMA node and the access flags. */
    static final int CREATE_FLAGS = BPF_F_NUMA_NODE | ACCESS_FLAGS;
    static final int KEY_WITH_TYPE = 16;
    static final int KEY_CGROUP_ONLY = 8;
    static final long BPF_F_LOCK = 4;

    private final int cpus;
    private final boolean percpu;
    /** Every storage ever made, by index (the index {@link #lookupIndex} hands out); freed ones are null. */
    private final List<Storage> storages = new ArrayList<>();

    /** One storage: its key and its memory (one element per CPU). */
    private record Storage(long cgroupId, int attachType, Region region) {
    }

    private CgroupStorageMap(MapSpec spec, AddressSpace space, int cpus) {
        super(spec, space, 0);
        this.percpu = spec.type() == MapType.PERCPU_CGROUP_STORAGE;
        this.cpus = percpu ? cpus : 1;
    }

    /** cgroup_storage_map_alloc's checks, in its order. */
    static CgroupStorageMap createStorage(MapSpec spec, AddressSpace space) throws BpfException {
        boolean percpu = spec.type() == MapType.PERCPU_CGROUP_STORAGE;
        if (spec.keySize() != KEY_WITH_TYPE && spec.keySize() != KEY_CGROUP_ONLY) {
            throw new BpfException(Errno.EINVAL, "cgroup storage key_size must be 16 (struct bpf_cgroup_storage_key)"
                    + " or 8 (cgroup id only), got " + spec.keySize());
        }
        if (spec.valueSize() == 0) {
            throw new BpfException(Errno.EINVAL, "cgroup storage value_size must not be 0");
        }
        int max = percpu ? MAX_PERCPU_VALUE_SIZE : MAX_VALUE_SIZE;
        if (Integer.compareUnsigned(spec.valueSize(), max) > 0) {
            throw new BpfException(Errno.E2BIG, "cgroup storage value_size " + Integer.toUnsignedString(spec.valueSize())
                    + " is above " + max);
        }
        if ((spec.flags() & ~CREATE_FLAGS) != 0) {
            throw new BpfException(Errno.EINVAL, "cgroup storage flags 0x" + Integer.toHexString(spec.flags())
                    + " are not allowed");
        }
        if (spec.maxEntries() != 0) {
            throw new BpfException(Errno.EINVAL, "cgroup storage max_entries must be 0 (storages are per cgroup), got "
                    + Integer.toUnsignedString(spec.maxEntries()));
        }
        return new CgroupStorageMap(spec, space, PossibleCpus.count());
    }

    public boolean percpu() {
        return percpu;
    }

    /** True when the key is the bare cgroup id, so one storage serves every attach type of a cgroup. */
    public boolean sharedAcrossAttachTypes() {
        return spec.keySize() == KEY_CGROUP_ONLY;
    }

    /**
     * bpf_cgroup_storages_alloc for one attach: the storage for (cgroup, type) is made unless it
     * exists. Idempotent.
     */
    public synchronized void allocate(long cgroupId, AttachType type) {
        if (find(cgroupId, keyType(type)) >= 0) {
            return;
        }
        String label = "map[" + (spec.name() == null ? "" : spec.name()) + "].storage";
        Region r = Region.mapValues(space.reserveSlot(), this, label, spec.valueSize(), cpus);
        space.install(r);
        storages.add(new Storage(cgroupId, keyType(type), r));
    }

    /**
     * bpf_cgroup_storages_alloc for BPF_PROG_TEST_RUN: a zeroed storage of the run's own, in no
     * cgroup and not reachable by key; the caller releases it when the run ends.
     */
    public synchronized Region allocateForTestRun() {
        String label = "map[" + (spec.name() == null ? "" : spec.name()) + "].test_run_storage";
        Region r = Region.mapValues(space.reserveSlot(), this, label, spec.valueSize(), cpus);
        space.install(r);
        return r;
    }

    /** The end of a test run: its storage goes (bpf_cgroup_storages_free). */
    public synchronized void releaseTestRunStorage(Region r) {
        space.release(r);
    }

    /** cgroup_bpf_release: the cgroup is gone, and so are its storages. */
    public synchronized void freeCgroup(long cgroupId) {
        for (int i = 0; i < storages.size(); i++) {
            Storage s = storages.get(i);
            if (s != null && s.cgroupId == cgroupId) {
                space.release(s.region);
                storages.set(i, null);
            }
        }
    }

    /** What bpf_get_local_storage returns to a program attached to (cgroup, type): CPU 0's value; 0 if none. */
    public synchronized long storageAddress(long cgroupId, AttachType type) {
        int i = find(cgroupId, keyType(type));
        return i < 0 ? 0 : storages.get(i).region.elementAddress(0);
    }

    /** The storage key of (cgroup, type) in this map's key format. */
    public byte[] key(long cgroupId, AttachType type) {
        ByteBuffer b = ByteBuffer.allocate(spec.keySize()).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(cgroupId);
        if (!sharedAcrossAttachTypes()) {
            b.putInt(type.value());
        }
        return b.array();
    }

    private int keyType(AttachType type) {
        return sharedAcrossAttachTypes() ? 0 : type.value();
    }

    private int find(long cgroupId, int attachType) {
        for (int i = storages.size() - 1; i >= 0; i--) {
            Storage s = storages.get(i);
            if (s != null && s.cgroupId == cgroupId && s.attachType == attachType) {
                return i;
            }
        }
        return -1;
    }

    private int find(byte[] key) {
        ByteBuffer b = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN);
        long id = b.getLong();
        int type = sharedAcrossAttachTypes() ? 0 : b.getInt();
        return find(id, type);
    }

    @Override
    public synchronized int lookupIndex(byte[] key) {
        return find(key);
    }

    @Override
    public synchronized byte[] valueOf(int index) {
        Region r = storages.get(index).region;
        int stride = Region.roundUp8(spec.valueSize());
        byte[] out = new byte[syscallValueSize()];
        for (int cpu = 0; cpu < cpus; cpu++) {
            System.arraycopy(r.bytes(), cpu * stride, out, percpu ? cpu * stride : 0, spec.valueSize());
        }
        return out;
    }

    @Override
    public long valueAddress(int index) {
        return storages.get(index).region.elementAddress(0);
    }

    /** cgroup_storage_update_elem: BPF_ANY or BPF_EXIST only (BPF_F_LOCK needs a spin lock in the value). */
    @Override
    public synchronized int updateElem(byte[] key, byte[] value, long flags) {
        if ((flags & ~(BPF_F_LOCK | BPF_EXIST)) != 0 || (flags & BPF_F_LOCK) != 0) {
            return EINVAL;
        }
        int i = find(key);
        if (i < 0) {
            return ENOENT;
        }
        Region r = storages.get(i).region;
        int stride = Region.roundUp8(spec.valueSize());
        for (int cpu = 0; cpu < cpus; cpu++) {
            System.arraycopy(value, percpu ? cpu * stride : 0, r.bytes(), cpu * stride, spec.valueSize());
        }
        return 0;
    }

    @Override
    public int deleteElem(byte[] key) {
        return EINVAL;
    }

    /** Newest storage first; a key the map does not hold has no successor (ENOENT, unlike hash maps). */
    @Override
    public synchronized byte[] nextKey(byte[] key) {
        int from;
        if (key == null) {
            from = storages.size();
        } else {
            from = find(key);
            if (from < 0) {
                return null;
            }
        }
        for (int i = from - 1; i >= 0; i--) {
            Storage s = storages.get(i);
            if (s != null) {
                ByteBuffer b = ByteBuffer.allocate(spec.keySize()).order(ByteOrder.LITTLE_ENDIAN);
                b.putLong(s.cgroupId);
                if (!sharedAcrossAttachTypes()) {
                    b.putInt(s.attachType);
                }
                return b.array();
            }
        }
        return null;
    }

    @Override
    public boolean helperAccessible() {
        return false;
    }

    @Override
    public int syscallValueSize() {
        return percpu ? Region.roundUp8(spec.valueSize()) * cpus : spec.valueSize();
    }

    @Override
    protected synchronized void freed() {
        for (int i = 0; i < storages.size(); i++) {
            Storage s = storages.get(i);
            if (s != null) {
                space.release(s.region);
                storages.set(i, null);
            }
        }
    }
}
