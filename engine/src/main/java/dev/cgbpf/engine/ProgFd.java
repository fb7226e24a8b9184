package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;

/** An fd of an {@link EngineBackend} on a program: holds one reference to it while open. */
final class ProgFd implements LoadedProg {
    final FdTable table;
    final EngineProg prog;
    final int fd;

    /** Takes over one reference the caller holds on {@code prog}, and an fd of {@code table}. */
    ProgFd(FdTable table, EngineProg prog) {
        this.table = table;
        this.prog = prog;
        this.fd = table.alloc(this);
    }

    boolean isOpenIn(FdTable t) {
        return t == table && table.get(fd) == this;
    }

    @Override
    public String name() {
        return prog.name;
    }

    @Override
    public ProgType type() {
        return prog.type;
    }

    @Override
    public String verifierLog() {
        return prog.verified.log();
    }

    @Override
    public void close() {
        if (table.free(fd, this)) {
            prog.put();
        }
    }

    @Override
    public String toString() {
        return "engine prog " + prog.name + " (fd " + fd + ")";
    }
}
