package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.interp.AddressSpace;

/**
 * The arrays whose values user space writes as fds and the map keeps as objects (kernel/bpf/
 * arraymap.c, fd_array_map_*): a u32 index key, a 4-byte value (the fd), every slot empty at
 * first. The syscall side turns the fd into the object ({@code map_fd_get_ptr}) and hands it to
 * {@link #put}; programs never see the values (the verifier gives these maps to one helper each).
 *
 * <p>Element commands as the kernel answers them: update only with BPF_ANY (EINVAL), an index
 * past the end E2BIG on update and delete; delete of an empty slot ENOENT; the next key walks
 * indexes as a plain array's does. Each filled slot holds a reference on its object, dropped
 * when the slot is overwritten or deleted, and for all slots when the last user reference (fd or
 * pin) to the map goes (the kernel's map_release_uref), which breaks a program holding the map
 * that holds the program.
 *
 * @param <T> what a slot holds
 */
public abstract sealed class FdArrayMap<T> extends EngineMap permits ProgArrayMap, CgroupArrayMap, PerfEventArrayMap {
    /** The flags 6.18 lets through at creation of these arrays (measured: not BPF_F_INNER_MAP, unlike a plain array). */
    static final int CREATE_FLAGS = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY;

    private final Object[] slots;
    private int users = 1;

    FdArrayMap(MapSpec spec, AddressSpace space) {
        super(spec, space, 0);
        this.slots = new Object[spec.maxEntries()];
    }

    /** kernel: fd_array_map_alloc_check, then array_map_alloc_check. */
    static void checkCreate(MapSpec spec) throws BpfException {
        if (spec.valueSize() != 4 || spec.maxEntries() == 0 || spec.keySize() != 4
                || (spec.flags() & ~CREATE_FLAGS) != 0) {
            throw new BpfException(Errno.EINVAL, spec.type().scenarioName() + " map needs key_size 4, value_size 4"
                    + " (an fd), max_entries > 0 and known flags (got key_size " + spec.keySize() + ", value_size "
                    + Integer.toUnsignedString(spec.valueSize()) + ", max_entries "
                    + Integer.toUnsignedString(spec.maxEntries()) + ", flags 0x" + Integer.toHexString(spec.flags()) + ")");
        }
        // one reference per slot: the engine's limit counts eight bytes each, as the kernel's pointers
        checkMemory(spec, 8L * Integer.toUnsignedLong(spec.maxEntries()));
    }

    static int index(byte[] key) {
        return ArrayMap.index(key);
    }

    boolean inRange(int index) {
        return Integer.compareUnsigned(index, spec.maxEntries()) < 0;
    }

    /**
     * The checks of bpf_fd_array_map_update_elem before the fd is looked at: flags other than
     * BPF_ANY are EINVAL, an index past the end E2BIG. 0 or a negative errno.
     */
    public int checkUpdate(byte[] key, long flags) {
        if (flags != BPF_ANY) {
            return EINVAL;
        }
        return inRange(index(key)) ? 0 : E2BIG;
    }

    /** Fills the slot of {@code key} (checked by {@link #checkUpdate}) with {@code o}, whose reference it takes over. */
    public void put(byte[] key, T o) {
        Object old;
        synchronized (this) {
            int i = index(key);
            old = slots[i];
            slots[i] = o;
        }
        if (old != null) {
            drop(cast(old));
        }
    }

    /** The object in slot {@code index} (below max_entries), or null. */
    T at(int index) {
        Object o;
        synchronized (this) {
            o = slots[index];
        }
        return o == null ? null : cast(o);
    }

    @SuppressWarnings("unchecked")
    private T cast(Object o) {
        return (T) o;
    }

    /** Drops the slot's reference on an object it no longer holds. */
    abstract void drop(T o);

    /**
     * BPF_MAP_LOOKUP_ELEM from user space (bpf_fd_array_map_lookup_elem): what the map type shows
     * of a filled slot (map_fd_sys_lookup_elem), ENOENT for an empty one or an index past the end;
     * ENOTSUPP for a type that shows nothing.
     */
    public abstract byte[] sysLookup(byte[] key) throws BpfException;

    @Override
    public boolean helperAccessible() {
        return false;
    }

    @Override
    public int lookupIndex(byte[] key) {
        return -1; // no program reads the values: the verifier gives these maps to their one helper only
    }

    @Override
    public int updateElem(byte[] key, byte[] value, long flags) {
        return EINVAL; // an fd needs the syscall side, which calls checkUpdate and put
    }

    /** kernel: fd_array_map_delete_elem */
    @Override
    public int deleteElem(byte[] key) {
        int i = index(key);
        if (!inRange(i)) {
            return E2BIG;
        }
        Object old;
        synchronized (this) {
            old = slots[i];
            slots[i] = null;
        }
        if (old == null) {
            return ENOENT;
        }
        drop(cast(old));
        return 0;
    }

    /** kernel: array_map_get_next_key */
    @Override
    public byte[] nextKey(byte[] key) {
        return ArrayMap.nextIndexKey(key, spec.maxEntries());
    }

    /** One more user reference (an fd or a pin), besides the map reference it also is. */
    @Override
    public synchronized void retainUser() {
        retain();
        users++;
    }

    /** A user reference goes; the last one empties every slot (the kernel's map_release_uref). */
    @Override
    public void releaseUser() {
        boolean last;
        synchronized (this) {
            last = users > 0 && --users == 0;
        }
        if (last) {
            clearSlots();
        }
        release();
    }

    private void clearSlots() {
        for (int i = 0; i < slots.length; i++) {
            Object old;
            synchronized (this) {
                old = slots[i];
                slots[i] = null;
            }
            if (old != null) {
                drop(cast(old));
            }
        }
    }

    @Override
    protected void freed() {
        clearSlots();
    }
}
