package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.engine.maps.EngineMap;

/**
 * An fd of an {@link EngineBackend} on a map, with the access it was opened with (a map from
 * BPF_OBJ_GET may be read-only or write-only): holds one reference to the map while open.
 */
final class MapFd implements BpfMap {
    final FdTable table;
    final EngineMap map;
    final ObjAccess access;
    final int fd;

    /** Takes over one reference the caller holds on {@code map}, and an fd of {@code table}. */
    MapFd(FdTable table, EngineMap map, ObjAccess access) {
        this.table = table;
        this.map = map;
        this.access = access;
        this.fd = table.alloc(this);
    }

    boolean isOpenIn(FdTable t) {
        return t == table && table.get(fd) == this;
    }

    @Override
    public MapSpec spec() {
        return map.spec();
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public void close() {
        if (table.free(fd, this)) {
            map.releaseUser();
        }
    }

    @Override
    public String toString() {
        return "engine map " + map.spec().name() + " (fd " + fd + ")";
    }
}
