package dev.cgbpf.hook.compile;

import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;

import java.util.List;

/**
 * A map that belongs to one program and is filled before the program is loaded: the device
 * program of the maps shape looks its exceptions up in one ({@link DeviceMapCompiler}). The
 * program refers to it through the placeholder fd {@link #UNBOUND_FD}, which
 * {@link CompiledProgram#bind} replaces with the real fd once the map exists, as it does for the
 * counter map.
 *
 * @param spec what BPF_MAP_CREATE gets; max_entries is exactly the number of entries (the map is
 *             never written after the program is loaded: an update builds a new map and program)
 * @param pinName the pin's name in the container's pin directory
 * @param entries key and value bytes, in the order they are written
 */
public record ProgramMap(MapSpec spec, String pinName, List<Entry> entries) {
    /** The placeholder fd of a program's own map; never a real fd, distinct from the counters'. */
    public static final int UNBOUND_FD = Integer.MAX_VALUE - 1;
    /** Pins of program maps are named after the program with this suffix. */
    public static final String PIN_SUFFIX = "_map";

    /** One element, as BPF_MAP_UPDATE_ELEM writes it. */
    public record Entry(byte[] key, byte[] value) {
    }

    public ProgramMap {
        entries = List.copyOf(entries);
    }

    /**
     * Writes every entry into {@code map} (made from {@link #spec}) with one BPF_MAP_UPDATE_BATCH:
     * 40,000 single updates cost about 110 ms of system calls from the JVM, the batch a few
     * (docs/perf.md, "Device allowlists").
     */
    public void fill(Backend b, BpfMap map) throws BpfException {
        int n = entries.size();
        byte[] keys = new byte[n * spec.keySize()];
        byte[] values = new byte[n * spec.valueSize()];
        for (int i = 0; i < n; i++) {
            Entry e = entries.get(i);
            System.arraycopy(e.key(), 0, keys, i * spec.keySize(), spec.keySize());
            System.arraycopy(e.value(), 0, values, i * spec.valueSize(), spec.valueSize());
        }
        b.updateBatch(map, keys, values, n);
    }
}
