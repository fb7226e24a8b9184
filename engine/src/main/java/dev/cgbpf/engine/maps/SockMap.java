package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.interp.AddressSpace;

/**
 * BPF_MAP_TYPE_SOCKMAP (net/core/sock_map.c, struct bpf_stab): an array of sockets indexed by a
 * u32 key. Update: flags past BPF_EXIST EINVAL, an index past the end E2BIG, BPF_NOEXIST on a
 * filled slot EEXIST, BPF_EXIST on an empty one ENOENT. Delete: an index past the end or an empty
 * slot EINVAL (not ENOENT). The next key walks indexes as an array's does.
 */
public final class SockMap extends SockMapBase {
    private final Psock[] slots;

    private SockMap(MapSpec spec, AddressSpace space) {
        super(spec, space);
        this.slots = new Psock[spec.maxEntries()];
    }

    /** sock_map_alloc: the shared checks and a 4-byte key, all EINVAL. */
    static SockMap createSockMap(MapSpec spec, AddressSpace space) throws BpfException {
        if (!sharedCreateChecks(spec) || spec.keySize() != 4) {
            throw badSpec(spec, "key_size 4");
        }
        checkMemory(spec, 8L * Integer.toUnsignedLong(spec.maxEntries())); // a pointer per slot
        return new SockMap(spec, space);
    }

    private boolean inRange(int i) {
        return Integer.compareUnsigned(i, spec.maxEntries()) < 0;
    }

    @Override
    synchronized Psock sockAt(byte[] key) {
        int i = ArrayMap.index(key);
        return inRange(i) ? slots[i] : null;
    }

    @Override
    public int updateSock(byte[] key, Psock sk, long flags) {
        if (Long.compareUnsigned(flags, BPF_EXIST) > 0) {
            return EINVAL;
        }
        int i = ArrayMap.index(key);
        if (!inRange(i)) {
            return E2BIG;
        }
        Psock old;
        synchronized (this) {
            old = slots[i];
            int err = existenceErrno(old, flags);
            if (err != 0) {
                return err;
            }
            slots[i] = sk;
        }
        relink(sk, old);
        return 0;
    }

    /** sock_map_delete_elem: EINVAL past the end and for an empty slot. */
    @Override
    public int deleteElem(byte[] key) {
        int i = ArrayMap.index(key);
        if (!inRange(i)) {
            return EINVAL;
        }
        Psock old;
        synchronized (this) {
            old = slots[i];
            slots[i] = null;
        }
        if (old == null) {
            return EINVAL;
        }
        old.unlink(this);
        return 0;
    }

    /** sock_map_get_next_key: array_map_get_next_key's walk over every index, filled or not. */
    @Override
    public byte[] nextKey(byte[] key) {
        return ArrayMap.nextIndexKey(key, spec.maxEntries());
    }

    @Override
    void removeSock(Psock sk) {
        for (int i = 0; i < slots.length; i++) {
            boolean held;
            synchronized (this) {
                held = slots[i] == sk;
                if (held) {
                    slots[i] = null;
                }
            }
            if (held) {
                sk.unlink(this);
            }
        }
    }

    @Override
    void removeAll() {
        for (int i = 0; i < slots.length; i++) {
            Psock old;
            synchronized (this) {
                old = slots[i];
                slots[i] = null;
            }
            if (old != null) {
                old.unlink(this);
            }
        }
    }
}
