package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BpfMapOps;
import dev.cgbpf.engine.interp.Region;

/**
 * A map of the engine, with the kernel's semantics and errnos. The values live in one
 * element-granular {@link Region} of the backend's address space, so a program gets a real
 * pointer from bpf_map_lookup_elem, and the map object itself is a region that LD_IMM64
 * PSEUDO_MAP_FD points at.
 *
 * <p>The element operations return 0 or a negative errno number, as the kernel's map ops do, so
 * that helpers hand them to programs unchanged; {@link #check} turns one into a
 * {@link BpfException} for the syscall side.
 *
 * <p>Lifetime: like a kernel map, a map lives while anyone holds a reference (its fd, each program
 * that uses it); the last {@link #release} unmaps its regions.
 */
public abstract sealed class EngineMap implements BpfMapOps permits ArrayMap, HashTab, CgroupStorageMap, RingBufMap,
        QueueStackMap, FdArrayMap {
    /** enum bpf_map_update flags and friends from include/uapi/linux/bpf.h. */
    public static final long BPF_ANY = 0;
    public static final long BPF_NOEXIST = 1;
    public static final long BPF_EXIST = 2;
    static final int BPF_F_NO_PREALLOC = 0x1;
    static final int BPF_F_NUMA_NODE = 0x4;
    static final int BPF_F_RDONLY = 0x8;
    static final int BPF_F_WRONLY = 0x10;
    static final int BPF_F_ZERO_SEED = 0x40;
    static final int BPF_F_RDONLY_PROG = 0x80;
    static final int BPF_F_WRONLY_PROG = 0x100;
    static final int BPF_F_MMAPABLE = 0x400;
    static final int BPF_F_INNER_MAP = 0x1000;
    static final int ACCESS_FLAGS = BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;

    /** The engine keeps map memory on the Java heap; bigger maps fail with ENOMEM. */
    public static final long MAX_ENGINE_BYTES = 256L << 20;

    static final int ENOENT = -Errno.ENOENT.number();
    static final int EEXIST = -Errno.EEXIST.number();
    static final int EINVAL = -Errno.EINVAL.number();
    static final int E2BIG = -Errno.E2BIG.number();

    protected final MapSpec spec;
    protected final AddressSpace space;
    protected final Region values;
    private final Region object;
    private int refs = 1;
    private int id;
    /** BPF_MAP_FREEZE was done: the syscall side may no longer write; programs still may. */
    private volatile boolean frozen;

    EngineMap(MapSpec spec, AddressSpace space, int valueElements) {
        this.spec = spec;
        this.space = space;
        String label = "map[" + (spec.name() == null ? "" : spec.name()) + "]";
        this.values = Region.mapValues(space.reserveSlot(), this, label + ".value", spec.valueSize(), valueElements);
        this.object = Region.mapObject(space.reserveSlot(), this, label);
        space.install(values);
        space.install(object);
    }

    /**
     * BPF_MAP_CREATE: validates the spec as the kernel's map_alloc_check does for the type.
     * The returned map holds one reference (its fd).
     */
    public static EngineMap create(MapSpec spec, AddressSpace space) throws BpfException {
        if ((spec.flags() & BPF_F_RDONLY) != 0 && (spec.flags() & BPF_F_WRONLY) != 0) {
            throw new BpfException(Errno.EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY together");
        }
        return switch (spec.type()) {
            case ARRAY -> ArrayMap.createArray(spec, space);
            case HASH -> HashTab.createHash(spec, space);
            case CGROUP_STORAGE, PERCPU_CGROUP_STORAGE -> CgroupStorageMap.createStorage(spec, space);
            case RINGBUF -> RingBufMap.createRingBuf(spec, space);
            case QUEUE, STACK -> QueueStackMap.createQueueStack(spec, space);
            case PROG_ARRAY -> ProgArrayMap.createProgArray(spec, space);
            case CGROUP_ARRAY -> CgroupArrayMap.createCgroupArray(spec, space);
            default -> throw new BpfException(Errno.EINVAL,
                    "map type " + spec.type().scenarioName() + " is not implemented by the engine yet");
        };
    }

    static void checkMemory(MapSpec spec, long bytes) throws BpfException {
        if (bytes > MAX_ENGINE_BYTES) {
            throw new BpfException(Errno.ENOMEM, "map '" + spec.name() + "' needs " + bytes
                    + " bytes, above the engine's limit of " + MAX_ENGINE_BYTES);
        }
    }

    @Override
    public MapSpec spec() {
        return spec;
    }

    /** The map id (bpf_map_info.id), 0 until the owner assigns one. */
    public synchronized int id() {
        return id;
    }

    /** Assigns the map id once, as the kernel's bpf_map_alloc_id does when the map is created. */
    public synchronized void assignId(int mapId) {
        if (id != 0 || mapId <= 0) {
            throw new IllegalStateException("map id " + id + " cannot become " + mapId);
        }
        id = mapId;
    }

    /** The address LD_IMM64 PSEUDO_MAP_FD loads. */
    public long objectAddress() {
        return object.base();
    }

    /** The address LD_IMM64 PSEUDO_MAP_VALUE loads (element 0 plus {@code offset}), or a negative errno. */
    public long directValueAddress(int offset) {
        return -Errno.EINVAL.number();
    }

    public synchronized void retain() {
        if (refs <= 0) {
            throw new IllegalStateException("map already freed");
        }
        refs++;
    }

    /**
     * One more user reference (kernel: bpf_map_inc_with_uref, an fd or a pin), on top of the map
     * reference it also is. Only maps that hold other objects tell the two apart.
     */
    public void retainUser() {
        retain();
    }

    /** Drops a user reference ({@link #retainUser}, or the fd {@link #create} made). */
    public void releaseUser() {
        release();
    }

    /** Drops one reference; the last one unmaps the map's memory. */
    public synchronized void release() {
        if (refs > 0 && --refs == 0) {
            space.release(values);
            space.release(object);
            freed();
        }
    }

    /** Called once when the last reference goes: subclasses unmap further regions. */
    protected void freed() {
    }

    @Override
    public boolean helperAccessible() {
        return true;
    }

    /** The value size BPF_MAP_LOOKUP/UPDATE_ELEM use on the syscall side (per-CPU maps: one value per CPU). */
    public int syscallValueSize() {
        return spec.valueSize();
    }

    // ---- element operations: 0 or -errno, as the kernel's map ops ----

    /**
     * 0, or the negative errno every element command of the syscall answers once the key and
     * value sizes passed (a map without elements: a ring buffer's ENOTSUPP).
     */
    public int elementCommandsErrno() {
        return 0;
    }

    @Override
    public abstract int lookupIndex(byte[] key);

    @Override
    public abstract int updateElem(byte[] key, byte[] value, long flags);

    @Override
    public abstract int deleteElem(byte[] key);

    /** The key after {@code key} (null: the first); null when there is none. */
    public abstract byte[] nextKey(byte[] key);

    @Override
    public long valueAddress(int index) {
        return values.elementAddress(index);
    }

    /** A copy of the value of element {@code index}. */
    public byte[] valueOf(int index) {
        byte[] out = new byte[spec.valueSize()];
        System.arraycopy(values.bytes(), index * Region.roundUp8(spec.valueSize()), out, 0, out.length);
        return out;
    }

    void putValue(int index, byte[] value) {
        System.arraycopy(value, 0, values.bytes(), index * Region.roundUp8(spec.valueSize()), spec.valueSize());
    }

    /** Throws the errno of a failed element operation as the syscall would return it. */
    public static void check(int result, String what) throws BpfException {
        if (result < 0) {
            throw BpfException.ofNumber(-result, what, null);
        }
    }

    /** Whether the syscall side may read (lookup, next key): not with BPF_F_WRONLY. */
    public boolean syscallCanRead() {
        return (spec.flags() & BPF_F_WRONLY) == 0;
    }

    /**
     * Whether the syscall side may write (update, delete, freeze): not with BPF_F_RDONLY, nor
     * once frozen (the kernel's map_get_sys_perms drops the fd's write permission then).
     */
    public boolean syscallCanWrite() {
        return (spec.flags() & BPF_F_RDONLY) == 0 && !frozen;
    }

    /**
     * BPF_MAP_FREEZE, after the syscall side's permission check: no more writes from user space.
     * False when another freeze got there first (the kernel's EBUSY under its freeze mutex).
     */
    public synchronized boolean freeze() {
        if (frozen) {
            return false;
        }
        frozen = true;
        return true;
    }

    /**
     * bpf_map_is_rdonly: frozen and created with BPF_F_RDONLY_PROG, so that what the map holds
     * now is what every program will read. The verifier reads strings (ARG_PTR_TO_CONST_STR) of
     * such a map at load time.
     */
    public boolean readOnlyForPrograms() {
        return frozen && (spec.flags() & BPF_F_RDONLY_PROG) != 0;
    }
}
