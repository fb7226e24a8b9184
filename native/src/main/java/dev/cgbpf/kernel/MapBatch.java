package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/**
 * BPF_MAP_UPDATE_BATCH (Linux 5.6): many elements of a map written by one bpf(2) call. The kernel
 * (generic_map_update_batch) copies key i from {@code keys + i * key_size} and value i from
 * {@code values + i * value_size} and updates them one by one in order, stopping at the first
 * failure; {@code count} goes in as the number of elements and comes back as the number written.
 */
public final class MapBatch {
    public static final UapiField KEYS = UapiField.attr("batch.keys", 16, 8);
    public static final UapiField VALUES = UapiField.attr("batch.values", 24, 8);
    public static final UapiField COUNT = UapiField.attr("batch.count", 32, 4);
    public static final UapiField MAP_FD = UapiField.attr("batch.map_fd", 36, 4);
    public static final UapiField ELEM_FLAGS = UapiField.attr("batch.elem_flags", 40, 8);
    public static final UapiField FLAGS = UapiField.attr("batch.flags", 48, 8);

    private MapBatch() {
    }

    /**
     * Writes {@code count} elements, packed in {@code keys} and {@code values}, with elem_flags 0
     * (BPF_ANY); a failure names the element it stopped at.
     */
    static void update(Fd map, byte[] keys, byte[] values, int count) throws BpfException {
        try (BpfAttr attr = new BpfAttr(FLAGS); UserMem k = UserMem.of(keys); UserMem v = UserMem.of(values)) {
            attr.u32(MAP_FD, map.get());
            attr.ptr(KEYS, k);
            attr.ptr(VALUES, v);
            attr.u32(COUNT, count);
            try {
                BpfSyscall.call(BpfCmd.BPF_MAP_UPDATE_BATCH, attr, "map fd " + map.get() + ", " + count + " elements");
            } catch (BpfException e) {
                throw new BpfException(e.errno(), e.getMessage() + " at element " + Integer.toUnsignedString(
                        attr.u32(COUNT)), null);
            }
        }
    }
}
