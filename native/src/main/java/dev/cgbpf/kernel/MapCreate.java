package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/** BPF_MAP_CREATE. */
public final class MapCreate {
    public static final UapiField MAP_TYPE = UapiField.attr("map_type", 0, 4);
    public static final UapiField KEY_SIZE = UapiField.attr("key_size", 4, 4);
    public static final UapiField VALUE_SIZE = UapiField.attr("value_size", 8, 4);
    public static final UapiField MAX_ENTRIES = UapiField.attr("max_entries", 12, 4);
    public static final UapiField MAP_FLAGS = UapiField.attr("map_flags", 16, 4);
    public static final UapiField MAP_NAME = UapiField.attr("map_name", 28, 16);

    private MapCreate() {
    }

    /** Creates a map; the caller owns the returned fd. */
    public static Fd mapCreate(int mapType, int keySize, int valueSize, int maxEntries, int mapFlags, String name)
            throws BpfException {
        try (BpfAttr attr = new BpfAttr(MAP_NAME)) {
            attr.u32(MAP_TYPE, mapType);
            attr.u32(KEY_SIZE, keySize);
            attr.u32(VALUE_SIZE, valueSize);
            attr.u32(MAX_ENTRIES, maxEntries);
            attr.u32(MAP_FLAGS, mapFlags);
            attr.chars(MAP_NAME, ObjName.truncated(name));
            return new Fd(BpfSyscall.call(BpfCmd.BPF_MAP_CREATE, attr, "map '" + name + "'"));
        }
    }
}
