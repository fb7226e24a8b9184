package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;

/** A program loaded by a {@link KernelBackend}: owns its fd. */
final class KernelProg extends KernelObject implements LoadedProg {
    private final String name;
    private final ProgType type;
    private final String verifierLog;

    KernelProg(KernelFds owner, Fd fd, String name, ProgType type, String verifierLog) {
        super(owner, fd);
        this.name = name;
        this.type = type;
        this.verifierLog = verifierLog;
    }

    /** The program's fd, for the attach, link and test-run commands. */
    Fd fd() {
        return handle();
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
    public String toString() {
        return "kernel prog '" + name + "' (" + type.scenarioName() + ", " + handle() + ")";
    }
}
