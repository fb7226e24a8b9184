package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapInfo;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.engine.backend.ObjNames;
import dev.cgbpf.engine.maps.CgroupArrayMap;
import dev.cgbpf.engine.maps.CgroupStorageMap;
import dev.cgbpf.engine.maps.EngineMap;
import dev.cgbpf.engine.maps.FdArrayMap;
import dev.cgbpf.engine.maps.PerfEventArrayMap;
import dev.cgbpf.engine.maps.ProgArrayMap;
import dev.cgbpf.engine.maps.Psock;
import dev.cgbpf.engine.maps.QueueStackMap;
import dev.cgbpf.engine.maps.SockMapBase;
import java.util.EnumSet;

/**
 * The map commands of an engine backend (kernel/bpf/syscall.c: map_create, map_update_elem,
 * map_lookup_elem, map_delete_elem, map_get_next_key, and BPF_OBJ_GET_INFO_BY_FD of a map): the
 * syscall side's checks in the kernel's order (the map's and the fd's access first, EPERM; then
 * the key and value sizes, EINVAL), then the {@link EngineMap}'s own answer.
 */
final class BpfMapSyscalls {
    /**
     * BPF_F_LOCK: update and lookup-and-delete under the value's bpf_spin_lock; no engine map has
     * one (they need BTF), so it is EINVAL wherever it is given.
     */
    private static final long BPF_F_LOCK = 4;

    private final EngineHost host;
    private final FdTable fds;

    BpfMapSyscalls(EngineHost host, FdTable fds) {
        this.host = host;
        this.fds = fds;
    }

    /** kernel: map_create */
    BpfMap createMap(MapSpec spec) throws BpfException {
        EngineMap map = EngineMap.create(spec, host.space);
        map.assignId(host.nextMapId());
        if (map instanceof CgroupStorageMap s) {
            host.storageMaps.add(s);
        }
        return new MapFd(fds, map, ObjAccess.READ_WRITE);
    }

    private static void checkKey(EngineMap m, byte[] key) throws BpfException {
        if (key == null) {
            throw new BpfException(Errno.EFAULT, "no key");
        }
        if (key.length != m.spec().keySize()) {
            throw new BpfException(Errno.EINVAL, "key of " + key.length + " bytes for map '" + m.spec().name()
                    + "' with key_size " + m.spec().keySize());
        }
    }

    /**
     * kernel: map_update_elem. The fd's access (EPERM), then BPF_F_LOCK, which every map without a
     * bpf_spin_lock in its value refuses (EINVAL) before the key is read: no engine map has one.
     * Only then the key, the value and the map's own update.
     */
    void update(BpfMap map, byte[] key, byte[] value, long flags) throws BpfException {
        MapFd h = fds.map(map);
        EngineMap m = h.map;
        if (!m.syscallCanWrite() || !h.access.canWrite()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is read-only for user space (or through this fd)");
        }
        if ((flags & BPF_F_LOCK) != 0) {
            throw new BpfException(Errno.EINVAL, "BPF_F_LOCK on map '" + m.spec().name() + "', which has no bpf_spin_lock");
        }
        checkKey(m, key);
        if (value == null) {
            throw new BpfException(Errno.EFAULT, "no value");
        }
        if (value.length != m.syscallValueSize()) {
            throw new BpfException(Errno.EINVAL, "value of " + value.length + " bytes for map '" + m.spec().name()
                    + "' with value_size " + m.spec().valueSize()
                    + (m.syscallValueSize() != m.spec().valueSize() ? " (" + m.syscallValueSize() + " for all CPUs)" : ""));
        }
        if (m instanceof FdArrayMap<?> fa) {
            updateFdArray(fa, key, value, flags);
            return;
        }
        if (m instanceof SockMapBase sm) {
            updateSockMap(sm, value);
            return;
        }
        EngineMap.check(m.updateElem(key, value, flags), "update of map '" + m.spec().name() + "'");
    }

    /**
     * bpf_fd_array_map_update_elem: the flags and the index first, then the fd in the value
     * (map_fd_get_ptr). A program array takes a program (an fd that is not open EBADF, any other
     * file EINVAL: bpf_prog_get) matching the array's owner (EINVAL otherwise); a cgroup array a
     * cgroup's directory (anything else EBADF: cgroup_get_from_fd); a perf event array a perf event.
     */
    private void updateFdArray(FdArrayMap<?> fa, byte[] key, byte[] value, long flags) throws BpfException {
        String what = "update of " + fa.spec().type().scenarioName() + " '" + fa.spec().name() + "'";
        EngineMap.check(fa.checkUpdate(key, flags), what);
        int fd = (value[0] & 0xff) | (value[1] & 0xff) << 8 | (value[2] & 0xff) << 16 | (value[3] & 0xff) << 24;
        Object o = fds.get(fd);
        if (fa instanceof ProgArrayMap pa) {
            if (!(o instanceof ProgFd f)) {
                throw new BpfException(fds.isOpen(fd) ? Errno.EINVAL : Errno.EBADF, what + ": fd " + fd + " is no program");
            }
            if (!pa.compatible(f.prog.owner())) {
                throw new BpfException(Errno.EINVAL, what + ": " + f.prog + " does not match the array's owner");
            }
            f.prog.hold();
            pa.put(key, f.prog);
        } else if (fa instanceof CgroupArrayMap ca) {
            if (!(o instanceof CgroupDirFd c)) {
                throw new BpfException(Errno.EBADF, what + ": fd " + fd + " is no cgroup directory");
            }
            ca.put(key, c.cgroup);
        } else if (fa instanceof PerfEventArrayMap pa) {
            // perf_event_fd_array_get_ptr: perf_event_get answers EBADF for any file not a perf event
            if (!(o instanceof PerfEventFd p)) {
                throw new BpfException(Errno.EBADF, what + ": fd " + fd + " is no perf event");
            }
            pa.put(key, p.ring);
        }
    }

    /**
     * sock_map_update_elem_sys: the value is an fd, u32 or u64 as value_size says; one past
     * S32_MAX is EINVAL, an fd that is not open EBADF, an open file that is no socket ENOTSOCK
     * (sockfd_lookup). Every fd of the engine is a program, map, link or cgroup directory: user
     * space has no socket fds here, so nothing reaches the map's own update from this side.
     */
    private void updateSockMap(SockMapBase sm, byte[] value) throws BpfException {
        long fd = 0;
        for (int i = value.length - 1; i >= 0; i--) {
            fd = fd << 8 | (value[i] & 0xff);
        }
        String what = "update of " + sm.spec().type().scenarioName() + " '" + sm.spec().name() + "'";
        if (Long.compareUnsigned(fd, Integer.MAX_VALUE) > 0) {
            throw new BpfException(Errno.EINVAL, what + ": fd " + Long.toUnsignedString(fd) + " is past S32_MAX");
        }
        if (!fds.isOpen((int) fd)) {
            throw new BpfException(Errno.EBADF, what + ": fd " + fd + " is not open");
        }
        throw new BpfException(Errno.ENOTSOCK, what + ": fd " + fd + " is no socket");
    }

    /**
     * map_update_elem of a sockmap or sockhash with BPF_ANY and the fd of a socket the engine has
     * ({@code sk}): the map's and the fd's access, the key, then the map's update.
     */
    void updateSock(BpfMap map, byte[] key, Psock sk) throws BpfException {
        MapFd h = fds.map(map);
        EngineMap m = h.map;
        if (!m.syscallCanWrite() || !h.access.canWrite()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is read-only for user space (or through this fd)");
        }
        checkKey(m, key);
        if (!(m instanceof SockMapBase sm)) {
            throw new IllegalArgumentException("map '" + m.spec().name() + "' is no sockmap or sockhash");
        }
        EngineMap.check(sm.updateSock(key, sk, EngineMap.BPF_ANY), "update of " + m.spec().type().scenarioName()
                + " '" + m.spec().name() + "'");
    }

    /** kernel: map_lookup_elem */
    byte[] lookup(BpfMap map, byte[] key) throws BpfException {
        MapFd h = fds.map(map);
        EngineMap m = h.map;
        if (!m.syscallCanRead() || !h.access.canRead()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is write-only for user space (or through this fd)");
        }
        checkKey(m, key);
        if (m instanceof FdArrayMap<?> fa) {
            return fa.sysLookup(key);
        }
        if (m instanceof SockMapBase sm) {
            return sm.sysLookup(key);
        }
        EngineMap.check(m.elementCommandsErrno(), "lookup in map '" + m.spec().name() + "'");
        if (m instanceof QueueStackMap q) {
            // bpf_map_copy_value: a queue's or stack's lookup is a peek
            byte[] value = new byte[q.spec().valueSize()];
            EngineMap.check(q.get(value, false), "peek into map '" + m.spec().name() + "'");
            return value;
        }
        synchronized (m) {
            int i = m.lookupIndexSysOnly(key);
            if (i < 0) {
                throw new BpfException(Errno.ENOENT, "no such key in map '" + m.spec().name() + "'");
            }
            return m.valueOf(i);
        }
    }

    /**
     * kernel: map_freeze. A map that is frozen already, or that user space may not write (BPF_F_RDONLY
     * or a read-only fd), is EPERM: the kernel checks the fd's write permission, which freezing drops.
     */
    void freeze(BpfMap map) throws BpfException {
        MapFd h = fds.map(map);
        EngineMap m = h.map;
        if (!m.syscallCanWrite() || !h.access.canWrite()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is frozen or read-only for user space");
        }
        if (!m.freeze()) {
            throw new BpfException(Errno.EBUSY, "map '" + m.spec().name() + "' was frozen meanwhile");
        }
    }

    /** kernel: map_delete_elem */
    void delete(BpfMap map, byte[] key) throws BpfException {
        MapFd h = fds.map(map);
        EngineMap m = h.map;
        if (!m.syscallCanWrite() || !h.access.canWrite()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is read-only for user space (or through this fd)");
        }
        checkKey(m, key);
        EngineMap.check(m.deleteElem(key), "delete from map '" + m.spec().name() + "'");
    }

    /** kernel: map_get_next_key */
    byte[] nextKey(BpfMap map, byte[] key) throws BpfException {
        MapFd h = fds.map(map);
        EngineMap m = h.map;
        if (!m.syscallCanRead() || !h.access.canRead()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is write-only for user space (or through this fd)");
        }
        if (key != null) {
            checkKey(m, key);
        }
        EngineMap.check(m.elementCommandsErrno(), "next key of map '" + m.spec().name() + "'");
        if (m instanceof QueueStackMap) {
            throw new BpfException(Errno.EINVAL, "map '" + m.spec().name() + "' has no keys"); // queue_stack_map_get_next_key
        }
        byte[] next = m.nextKey(key);
        if (next == null) {
            throw new BpfException(Errno.ENOENT, "no next key in map '" + m.spec().name() + "'");
        }
        return next;
    }

    /**
     * kernel: map_lookup_and_delete_elem. The fd must allow both reading and writing (EPERM);
     * flags are EINVAL for a queue or stack and for a map without a bpf_spin_lock (all of the
     * engine's); a queue or stack pops, a hash map, per-CPU or LRU or not, takes the key's value out (of
     * a per-CPU hash every CPU's, as a lookup shows them; ENOENT when absent), every other type
     * answers ENOTSUPP.
     */
    byte[] lookupAndDelete(BpfMap map, byte[] key, long flags) throws BpfException {
        MapFd h = fds.map(map);
        EngineMap m = h.map;
        String name = "map '" + m.spec().name() + "'";
        if ((flags & ~BPF_F_LOCK) != 0) {
            throw new BpfException(Errno.EINVAL, "lookup-and-delete flags 0x" + Long.toHexString(flags));
        }
        if (!m.syscallCanRead() || !h.access.canRead() || !m.syscallCanWrite() || !h.access.canWrite()) {
            throw new BpfException(Errno.EPERM, name + " is not readable and writable for user space (or through this fd)");
        }
        if (flags != 0) {
            throw new BpfException(Errno.EINVAL, (m instanceof QueueStackMap ? name + " takes no flags"
                    : name + " has no bpf_spin_lock for BPF_F_LOCK"));
        }
        checkKey(m, key);
        if (m instanceof QueueStackMap q) {
            byte[] value = new byte[q.spec().valueSize()];
            EngineMap.check(q.get(value, true), "pop from " + name);
            return value;
        }
        if (!EnumSet.of(MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH).contains(m.spec().type())) {
            throw new BpfException(Errno.ENOTSUPP, "lookup-and-delete is not supported for " + name);
        }
        synchronized (m) {
            int i = m.lookupIndexSysOnly(key);
            if (i < 0) {
                throw new BpfException(Errno.ENOENT, "no such key in " + name);
            }
            byte[] value = m.valueOf(i);
            EngineMap.check(m.deleteElem(key), "delete from " + name);
            return value;
        }
    }

    /** kernel: bpf_map_get_info_by_fd */
    MapInfo mapInfo(BpfMap map) throws BpfException {
        EngineMap m = fds.map(map).map;
        MapSpec s = m.spec();
        return new MapInfo(m.id(), new MapSpec(ObjNames.infoName(s.name()), s.type(), s.keySize(), s.valueSize(),
                s.maxEntries(), s.flags()));
    }
}
