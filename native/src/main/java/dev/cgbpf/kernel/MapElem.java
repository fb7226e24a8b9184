package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/**
 * The element commands, which share one attr layout: BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM,
 * BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY, BPF_MAP_LOOKUP_AND_DELETE_ELEM.
 *
 * <p>The kernel copies exactly key_size / value_size bytes from these buffers (for per-CPU maps
 * value_size rounded up to 8, times the possible CPUs), so the callers pass exact sizes: a short
 * Java array would let the kernel read past its copy.
 */
public final class MapElem {
    public static final UapiField MAP_FD = UapiField.attr("map_fd", 0, 4);
    public static final UapiField KEY = UapiField.attr("key", 8, 8);
    public static final UapiField VALUE = UapiField.attr("value", 16, 8);
    public static final UapiField NEXT_KEY = UapiField.attr("next_key", 16, 8);
    public static final UapiField FLAGS = UapiField.attr("flags", 24, 8);

    /** Update flags of include/uapi/linux/bpf.h. */
    public static final long BPF_ANY = 0;
    public static final long BPF_NOEXIST = 1;
    public static final long BPF_EXIST = 2;
    public static final long BPF_F_LOCK = 4;

    private MapElem() {
    }

    public static byte[] lookupElem(Fd map, byte[] key, int valueSize, long flags) throws BpfException {
        try (UserMem v = UserMem.zeroed(valueSize)) {
            keyValueCall(BpfCmd.BPF_MAP_LOOKUP_ELEM, map, key, v, flags);
            return v.read(valueSize);
        }
    }

    /** BPF_MAP_LOOKUP_AND_DELETE_ELEM: the value the kernel took out (a queue's or stack's pop). */
    public static byte[] lookupAndDeleteElem(Fd map, byte[] key, int valueSize, long flags) throws BpfException {
        try (UserMem v = UserMem.zeroed(valueSize)) {
            keyValueCall(BpfCmd.BPF_MAP_LOOKUP_AND_DELETE_ELEM, map, key, v, flags);
            return v.read(valueSize);
        }
    }

    public static void updateElem(Fd map, byte[] key, byte[] value, long flags) throws BpfException {
        try (UserMem v = UserMem.of(value)) {
            keyValueCall(BpfCmd.BPF_MAP_UPDATE_ELEM, map, key, v, flags);
        }
    }

    /** A command on map_fd, key, value and flags: the kernel reads the value (update) or fills it (lookup). */
    private static void keyValueCall(BpfCmd cmd, Fd map, byte[] key, UserMem value, long flags) throws BpfException {
        try (BpfAttr attr = new BpfAttr(FLAGS); UserMem k = UserMem.of(key)) {
            attr.u32(MAP_FD, map.get());
            attr.ptr(KEY, k);
            attr.ptr(VALUE, value);
            attr.u64(FLAGS, flags);
            BpfSyscall.call(cmd, attr, "map fd " + map.get());
        }
    }

    /** BPF_MAP_FREEZE, whose attr is map_fd alone. */
    public static void freeze(Fd map) throws BpfException {
        try (BpfAttr attr = new BpfAttr(MAP_FD)) {
            attr.u32(MAP_FD, map.get());
            BpfSyscall.call(BpfCmd.BPF_MAP_FREEZE, attr, "map fd " + map.get());
        }
    }

    public static void deleteElem(Fd map, byte[] key) throws BpfException {
        try (BpfAttr attr = new BpfAttr(KEY); UserMem k = UserMem.of(key)) {
            attr.u32(MAP_FD, map.get());
            attr.ptr(KEY, k);
            BpfSyscall.call(BpfCmd.BPF_MAP_DELETE_ELEM, attr, "map fd " + map.get());
        }
    }

    /** The key after {@code key}, or the first key when {@code key} is null; ENOENT after the last. */
    public static byte[] getNextKey(Fd map, byte[] key, int keySize) throws BpfException {
        try (BpfAttr attr = new BpfAttr(NEXT_KEY); UserMem k = key == null ? null : UserMem.of(key);
             UserMem next = UserMem.zeroed(keySize)) {
            attr.u32(MAP_FD, map.get());
            attr.ptr(KEY, k);
            attr.ptr(NEXT_KEY, next);
            BpfSyscall.call(BpfCmd.BPF_MAP_GET_NEXT_KEY, attr, "map fd " + map.get());
            return next.read(keySize);
        }
    }
}
