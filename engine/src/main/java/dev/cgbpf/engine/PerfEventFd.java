package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.PerfEvent;
import dev.cgbpf.engine.backend.PerfRecord;
import dev.cgbpf.engine.maps.PerfEventRing;
import java.util.List;

/**
 * An fd of a perf event in an engine backend's fd table, as perf_event_open(2) gives one: what
 * a perf event array's update takes as its value. The ring it reads is the event's, which a
 * slot of a perf event array may keep after this fd is closed.
 */
final class PerfEventFd implements PerfEvent {
    final FdTable table;
    final PerfEventRing ring;
    final int fd;

    PerfEventFd(FdTable table, PerfEventRing ring) {
        this.table = table;
        this.ring = ring;
        this.fd = table.alloc(this);
    }

    boolean isOpenIn(FdTable t) {
        return t == table && table.get(fd) == this;
    }

    @Override
    public int cpu() {
        return ring.cpu();
    }

    @Override
    public List<PerfRecord> read() {
        if (table.get(fd) != this) {
            throw new IllegalStateException(this + " is closed");
        }
        return ring.read();
    }

    @Override
    public void close() {
        table.free(fd, this);
    }

    @Override
    public String toString() {
        return "engine perf event on CPU " + ring.cpu() + " (fd " + fd + ")";
    }
}
