package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.Machine;

/**
 * What BPF_MAP_TYPE_SOCKMAP and BPF_MAP_TYPE_SOCKHASH share (net/core/sock_map.c): values are
 * sockets ({@link Psock}), put in from user space as fds (the syscall side turns the fd into the
 * socket and calls {@link #updateSock}) or by a sock_ops program with bpf_sock_map_update and
 * bpf_sock_hash_update. A value_size of 4 or 8 only says how wide the fd is on update; a lookup
 * from user space shows the socket's cookie (8 bytes) and is ENOSPC for a 4-byte value. A program's
 * lookup gets the socket itself, a referenced PTR_TO_SOCKET. Closing a socket takes it out.
 */
public abstract sealed class SockMapBase extends EngineMap permits SockMap, SockHash {
    /** SOCK_CREATE_FLAG_MASK. */
    static final int CREATE_FLAGS = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY;
    static final int ENOSPC = -Errno.ENOSPC.number();

    SockMapBase(MapSpec spec, AddressSpace space) {
        super(spec, space, 0);
    }

    /** The checks sock_map_alloc and sock_hash_alloc share: max_entries, value_size 4 or 8, flags. */
    static boolean sharedCreateChecks(MapSpec spec) {
        return spec.maxEntries() != 0 && (spec.valueSize() == 4 || spec.valueSize() == 8)
                && (spec.flags() & ~CREATE_FLAGS) == 0;
    }

    static BpfException badSpec(MapSpec spec, String need) {
        return new BpfException(Errno.EINVAL, spec.type().scenarioName() + " map needs " + need
                + ", value_size 4 or 8, max_entries > 0 and known flags (got key_size " + spec.keySize()
                + ", value_size " + Integer.toUnsignedString(spec.valueSize()) + ", max_entries "
                + Integer.toUnsignedString(spec.maxEntries()) + ", flags 0x" + Integer.toHexString(spec.flags()) + ")");
    }

    /** The socket at {@code key}, or null. */
    abstract Psock sockAt(byte[] key);

    /**
     * sock_map_update_common, sock_hash_update_common: puts {@code sk} at {@code key} under
     * {@code flags} (BPF_ANY, BPF_NOEXIST, BPF_EXIST). 0 or a negative errno.
     */
    public abstract int updateSock(byte[] key, Psock sk, long flags);

    /** BPF_NOEXIST on a filled element EEXIST, BPF_EXIST on an empty one ({@code old} null) ENOENT, else 0. */
    static int existenceErrno(Psock old, long flags) {
        if (old != null && flags == BPF_NOEXIST) {
            return EEXIST;
        }
        return old == null && flags == BPF_EXIST ? ENOENT : 0;
    }

    /** An element took {@code sk} in place of {@code old} (null: none): the sockets' links follow. */
    void relink(Psock sk, Psock old) {
        sk.link(this);
        if (old != null) {
            old.unlink(this);
        }
    }

    /** Takes {@code sk} out of every element holding it (the socket closed). */
    abstract void removeSock(Psock sk);

    /** Takes every socket out: the map is freed. */
    abstract void removeAll();

    /**
     * BPF_MAP_LOOKUP_ELEM from user space (sock_map_lookup_sys, sock_hash_lookup_sys): the
     * socket's cookie in host order when value_size is 8, ENOSPC otherwise, ENOENT for no socket.
     */
    public byte[] sysLookup(byte[] key) throws BpfException {
        if (spec.valueSize() != 8) {
            throw new BpfException(Errno.ENOSPC, spec.type().scenarioName() + " '" + spec.name()
                    + "' shows a socket's cookie only with value_size 8");
        }
        Psock sk = sockAt(key);
        if (sk == null) {
            throw new BpfException(Errno.ENOENT, "no socket at that key of " + spec.type().scenarioName() + " '"
                    + spec.name() + "'");
        }
        long c = sk.cookie();
        byte[] out = new byte[8];
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (c >>> (8 * i));
        }
        return out;
    }

    /** sock_map_lookup, sock_hash_lookup: the socket as a referenced pointer of the run, or NULL. */
    @Override
    public long lookupElem(Machine m, byte[] key) {
        Psock sk = sockAt(key);
        return sk == null ? 0 : sk.acquire(m);
    }

    @Override
    public int lookupIndex(byte[] key) {
        return -1; // no values in memory: lookupElem hands out the socket
    }

    @Override
    public long valueAddress(int index) {
        throw new UnsupportedOperationException("a " + spec.type().scenarioName() + " has no values in memory");
    }

    /** A value from a program or the syscall's plain path: a socket needs its fd (the syscall side) or a sock_ops helper. */
    @Override
    public int updateElem(byte[] key, byte[] value, long flags) {
        return -Errno.EOPNOTSUPP.number();
    }

    @Override
    protected void freed() {
        removeAll();
    }
}
