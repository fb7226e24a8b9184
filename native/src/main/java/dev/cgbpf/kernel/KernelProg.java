package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;

/** A program loaded by a {@link KernelBackend}: owns its fd. */
final class KernelProg implements LoadedProg, KernelObject {
    private final KernelBackend owner;
    private final Fd fd;
    private final String name;
    private final ProgType type;
    private final String verifierLog;

    KernelProg(KernelBackend owner, Fd fd, String name, ProgType type, String verifierLog) {
        this.owner = owner;
        this.fd = fd;
        this.name = name;
        this.type = type;
        this.verifierLog = verifierLog;
    }

    KernelBackend owner() {
        return owner;
    }

    Fd fd() {
        return fd;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ProgType type() {
        return type;
    }

    @Override
    public String verifierLog() {
        return verifierLog;
    }

    @Override
    public void close() {
        fd.close();
        owner.forget(this);
    }

    @Override
    public String toString() {
        return "kernel prog '" + name + "' (" + type.scenarioName() + ", " + fd + ")";
    }
}
