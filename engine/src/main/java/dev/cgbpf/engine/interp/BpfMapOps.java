package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.backend.MapSpec;

/**
 * A map as a running program reaches it through the map helpers and as the address space knows
 * it (the owner of a map value or map object {@link Region}): the element operations a map type
 * provides, answering 0 or a negative errno as the kernel's do. The engine's maps
 * ({@code dev.cgbpf.engine.maps.EngineMap}) implement it; the interpreter needs nothing more of
 * them, so it does not depend on the maps package.
 *
 * <p>kernel: struct bpf_map_ops (map_lookup_elem, map_update_elem, map_delete_elem)
 */
public interface BpfMapOps {
    MapSpec spec();

    /** Whether programs may pass the map to the map element helpers (not cgroup storage: the verifier refuses). */
    boolean helperAccessible();

    /**
     * The element index holding {@code key}, or -1, as a program's bpf_map_lookup_elem finds it
     * (kernel: map_lookup_elem, which for an LRU hash marks the element referenced).
     */
    int lookupIndex(byte[] key);

    /**
     * {@link #lookupIndex} as the syscall's lookup does it (kernel: map_lookup_elem_sys_only,
     * which for an LRU hash leaves the reference bit alone).
     */
    default int lookupIndexSysOnly(byte[] key) {
        return lookupIndex(key);
    }

    /**
     * {@link #lookupIndex} of a 4-byte key given as the little-endian int of its bytes (for maps
     * whose key_size is 4); array maps answer it without a copy (the kernel's map_gen_lookup).
     */
    default int lookupIndex32(int key) {
        return lookupIndex(new byte[] {(byte) key, (byte) (key >>> 8), (byte) (key >>> 16), (byte) (key >>> 24)});
    }

    /**
     * For an array map (every index below max_entries present, the key its u32 index, never
     * changing): max_entries; -1 for other maps.
     */
    default int arrayMaxEntries() {
        return -1;
    }

    /**
     * bpf_map_lookup_elem in {@code m}'s run: the value's address, or NULL (0). A map whose values
     * are objects hands out a pointer of the run instead (a sockmap's socket).
     */
    default long lookupElem(Machine m, byte[] key) {
        int i = lookupIndex(key);
        return i < 0 ? 0 : valueAddress(i);
    }

    /** The address of the value of element {@code index}, as bpf_map_lookup_elem returns it. */
    long valueAddress(int index);

    /**
     * bpf_map_lookup_percpu_elem: the address of CPU {@code cpu}'s value of element {@code index},
     * 0 for a CPU past the last. Only per-CPU arrays and hashes have it (the verifier passes no
     * other map to the helper).
     */
    default long percpuValueAddress(int index, int cpu) {
        throw new UnsupportedOperationException("not a per-CPU map: " + spec().type());
    }

    /** 0 or a negative errno. */
    int updateElem(byte[] key, byte[] value, long flags);

    /** 0 or a negative errno. */
    int deleteElem(byte[] key);
}
