package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BpfMapOps;
import dev.cgbpf.engine.interp.Region;

import java.util.Arrays;

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
public abstract sealed class EngineMap implements BpfMapOps permits ArrayMap, HashTab, LruHashTab, CgroupStorageMap, RingBufMap,
        QueueStackMap, FdArrayMap, SockMapBase {
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

    /** PCPU_MIN_UNIT_SIZE: a per-CPU value, rounded up to 8 bytes, may not be larger. */
    static final long PERCPU_MAX_VALUE_SIZE = 32768;

    /** The engine keeps map memory on the Java heap; bigger maps fail with ENOMEM. */
    public static final long MAX_ENGINE_BYTES = 256L << 20;

    static final int ENOENT = -Errno.ENOENT.number();
    static final int EEXIST = -Errno.EEXIST.number();
    static final int EINVAL = -Errno.EINVAL.number();
    static final int E2BIG = -Errno.E2BIG.number();

    protected final MapSpec spec;
    protected final AddressSpace space;
    protected final Region values;
    /**
     * Values per element: every possible CPU's for a per-CPU array or hash (the value of CPU c of
     * element i is slot i * cpus + c, so one element's CPUs lie side by side as the syscall
     * carries them), else 1.
     */
    private final int cpus;
    private final Region object;
    private int refs = 1;
    private int id;
    /** BPF_MAP_FREEZE was done: the syscall side may no longer write; programs still may. */
    private volatile boolean frozen;

    EngineMap(MapSpec spec, AddressSpace space, int valueElements) {
        this.spec = spec;
        this.space = space;
        this.cpus = valuesPerElement(spec.type());
        String label = "map[" + (spec.name() == null ? "" : spec.name()) + "]";
        this.values = Region.mapValues(space.reserveSlot(), this, label + ".value", spec.valueSize(),
                valueElements * cpus);
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
        // bpf_map_flags_access_ok, among the first checks of every type's alloc_check that takes the
        // two flags (the others refuse them as unknown flags): EINVAL either way
        if ((spec.flags() & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) == (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) {
            throw new BpfException(Errno.EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together");
        }
        return switch (spec.type()) {
            case ARRAY, PERCPU_ARRAY -> ArrayMap.createArray(spec, space);
            case HASH, PERCPU_HASH -> HashTab.createHash(spec, space);
            case LRU_HASH, LRU_PERCPU_HASH -> LruHashTab.createLruHash(spec, space);
            case CGROUP_STORAGE, PERCPU_CGROUP_STORAGE -> CgroupStorageMap.createStorage(spec, space);
            case RINGBUF -> RingBufMap.createRingBuf(spec, space);
            case QUEUE, STACK -> QueueStackMap.createQueueStack(spec, space);
            case PROG_ARRAY -> ProgArrayMap.createProgArray(spec, space);
            case CGROUP_ARRAY -> CgroupArrayMap.createCgroupArray(spec, space);
            case SOCKMAP -> SockMap.createSockMap(spec, space);
            case SOCKHASH -> SockHash.createSockHash(spec, space);
            case PERF_EVENT_ARRAY -> PerfEventArrayMap.createPerfEventArray(spec, space);
            default -> throw new BpfException(Errno.EINVAL,
                    "map type " + spec.type().scenarioName() + " is not implemented by the engine yet");
        };
    }

    /** A per-CPU array's or hash's value, rounded up to 8 bytes, is at most PCPU_MIN_UNIT_SIZE: else E2BIG. */
    static void checkPercpuValueSize(MapSpec spec) throws BpfException {
        if (Integer.toUnsignedLong(spec.valueSize()) > PERCPU_MAX_VALUE_SIZE) {
            throw new BpfException(Errno.E2BIG, "per-CPU value_size " + Integer.toUnsignedString(spec.valueSize())
                    + " rounds up past " + PERCPU_MAX_VALUE_SIZE);
        }
    }

    /**
     * How many values an element of this type keeps in the values region: one per possible CPU for
     * a per-CPU array or hash (the per-CPU cgroup storage keeps its own regions), else one.
     */
    private static int valuesPerElement(MapType type) {
        return type == MapType.PERCPU_ARRAY || type == MapType.PERCPU_HASH || type == MapType.LRU_PERCPU_HASH
                ? PossibleCpus.count() : 1;
    }

    /** The engine's memory limit, for a map whose elements take {@code bytes} for each value they keep. */
    static void checkMemory(MapSpec spec, long bytes) throws BpfException {
        long total = bytes * valuesPerElement(spec.type());
        if (total > MAX_ENGINE_BYTES) {
            throw new BpfException(Errno.ENOMEM, "map '" + spec.name() + "' needs " + total
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
        return spec.type().percpu() ? Region.roundUp8(spec.valueSize()) * cpus : spec.valueSize();
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

    /** The value a program sees: of a per-CPU map, the engine's CPU's (BaseHelpers.ENGINE_CPU, 0). */
    @Override
    public long valueAddress(int index) {
        return values.elementAddress(index * cpus);
    }

    /**
     * bpf_map_lookup_percpu_elem: CPU {@code cpu}'s value of element {@code index}, 0 (NULL) for
     * a CPU at or past nr_cpu_ids (the possible CPUs, numbered from 0 on the hosts the engine
     * mirrors).
     */
    @Override
    public long percpuValueAddress(int index, int cpu) {
        return Integer.compareUnsigned(cpu, cpus) < 0 ? values.elementAddress(index * cpus + cpu) : 0;
    }

    /**
     * A copy of the value of element {@code index} as the syscall's lookup returns it: of a per-CPU
     * map every CPU's, each round_up(value_size, 8) bytes with its padding, as the kernel's
     * copy_map_value_long copies them.
     */
    public byte[] valueOf(int index) {
        int stride = Region.roundUp8(spec.valueSize());
        byte[] out = new byte[syscallValueSize()];
        System.arraycopy(values.bytes(), index * cpus * stride, out, 0, out.length);
        return out;
    }

    /**
     * Stores the value of element {@code index}. Its length tells who writes: the syscall's value
     * of a per-CPU map ({@link #syscallValueSize}) sets every CPU's; a program's (value_size
     * bytes) sets the engine's CPU's alone, and for a new element ({@code fresh}) zeroes the
     * other CPUs' as the kernel's pcpu_init_value does. The two lengths differ unless both ways
     * write the same bytes (one CPU, value_size a multiple of 8).
     */
    void putValue(int index, byte[] value, boolean fresh) {
        int stride = Region.roundUp8(spec.valueSize());
        int at = index * cpus * stride;
        if (spec.type().percpu() && value.length == syscallValueSize()) {
            System.arraycopy(value, 0, values.bytes(), at, value.length);
            return;
        }
        if (fresh && cpus > 1) {
            Arrays.fill(values.bytes(), at + stride, at + cpus * stride, (byte) 0);
        }
        System.arraycopy(value, 0, values.bytes(), at, spec.valueSize());
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
