package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.interp.AddressSpace;

import java.nio.ByteBuffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * BPF_MAP_TYPE_SOCKHASH (net/core/sock_map.c, struct bpf_shtab): sockets by a key of any size up
 * to MAX_BPF_STACK. Update: flags past BPF_EXIST EINVAL, BPF_NOEXIST on a present key EEXIST,
 * BPF_EXIST on an absent one ENOENT, a new key in a full map E2BIG. Delete of an absent key
 * ENOENT. The next key walks in insertion order (the kernel's is bucket order; as for
 * {@link HashTab}, nothing may depend on it); an absent key yields the first.
 */
public final class SockHash extends SockMapBase {
    /** MAX_BPF_STACK: a longer key is E2BIG. */
    static final int MAX_KEY_SIZE = 512;
    /** U32_MAX / sizeof(struct bpf_shtab_bucket): more buckets than this are EINVAL. */
    static final long MAX_BUCKETS = 0xffffffffL / 16;

    private final Map<ByteBuffer, Psock> elems = new LinkedHashMap<>();

    private SockHash(MapSpec spec, AddressSpace space) {
        super(spec, space);
    }

    /** sock_hash_alloc, in its order: the shared checks and a key, EINVAL; a long key E2BIG; then the buckets. */
    static SockHash createSockHash(MapSpec spec, AddressSpace space) throws BpfException {
        if (!sharedCreateChecks(spec) || spec.keySize() == 0) {
            throw badSpec(spec, "a key_size");
        }
        if (Integer.toUnsignedLong(spec.keySize()) > MAX_KEY_SIZE) {
            throw new BpfException(Errno.E2BIG, "sockhash key_size " + Integer.toUnsignedString(spec.keySize())
                    + " is above MAX_BPF_STACK (" + MAX_KEY_SIZE + ")");
        }
        long max = Integer.toUnsignedLong(spec.maxEntries());
        long buckets = Long.highestOneBit(max) == max ? max : Long.highestOneBit(max) << 1; // roundup_pow_of_two
        if (buckets > MAX_BUCKETS) {
            throw new BpfException(Errno.EINVAL, "sockhash max_entries " + max + " needs " + buckets + " buckets");
        }
        checkMemory(spec, (8L + 16 + spec.keySize()) * max); // an element: its socket, its list links, its key
        return new SockHash(spec, space);
    }

    private static ByteBuffer keyOf(byte[] key) {
        return ByteBuffer.wrap(key.clone());
    }

    @Override
    synchronized Psock sockAt(byte[] key) {
        return elems.get(ByteBuffer.wrap(key));
    }

    @Override
    public int updateSock(byte[] key, Psock sk, long flags) {
        if (Long.compareUnsigned(flags, BPF_EXIST) > 0) {
            return EINVAL;
        }
        Psock old;
        synchronized (this) {
            ByteBuffer k = keyOf(key);
            old = elems.get(k);
            int err = existenceErrno(old, flags);
            if (err != 0) {
                return err;
            }
            if (old == null && elems.size() >= spec.maxEntries()) {
                return E2BIG;
            }
            elems.put(k, sk);
        }
        relink(sk, old);
        return 0;
    }

    /** sock_hash_delete_elem: ENOENT for an absent key. */
    @Override
    public int deleteElem(byte[] key) {
        Psock old;
        synchronized (this) {
            old = elems.remove(ByteBuffer.wrap(key));
        }
        if (old == null) {
            return ENOENT;
        }
        old.unlink(this);
        return 0;
    }

    /** sock_hash_get_next_key: the key after {@code key}, the first for an absent or null one. */
    @Override
    public synchronized byte[] nextKey(byte[] key) {
        Iterator<ByteBuffer> it = elems.keySet().iterator();
        if (key != null && elems.containsKey(ByteBuffer.wrap(key))) {
            ByteBuffer k = ByteBuffer.wrap(key);
            while (!it.next().equals(k)) {
                // walk up to the key
            }
        }
        return it.hasNext() ? it.next().array().clone() : null;
    }

    @Override
    void removeSock(Psock sk) {
        int removed = 0;
        synchronized (this) {
            Iterator<Psock> it = elems.values().iterator();
            while (it.hasNext()) {
                if (it.next() == sk) {
                    it.remove();
                    removed++;
                }
            }
        }
        for (int i = 0; i < removed; i++) {
            sk.unlink(this);
        }
    }

    @Override
    void removeAll() {
        Psock[] held;
        synchronized (this) {
            held = elems.values().toArray(new Psock[0]);
            elems.clear();
        }
        for (Psock sk : held) {
            sk.unlink(this);
        }
    }
}
