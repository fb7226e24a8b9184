package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;

/** A map created by a {@link KernelBackend}: owns its fd. */
final class KernelMap implements BpfMap, KernelObject {
    private final KernelBackend owner;
    private final Fd fd;
    private final MapSpec spec;

    KernelMap(KernelBackend owner, Fd fd, MapSpec spec) {
        this.owner = owner;
        this.fd = fd;
        this.spec = spec;
    }

    KernelBackend owner() {
        return owner;
    }

    Fd handle() {
        return fd;
    }

    @Override
    public MapSpec spec() {
        return spec;
    }

    /** The real fd number: what LD_IMM64 src=PSEUDO_MAP_FD carries in a program. */
    @Override
    public int fd() {
        return fd.get();
    }

    /** Bytes of one value as lookups and updates carry it: per-CPU maps hold one slot per possible CPU. */
    int valueBytes() {
        if (spec.type() == MapType.PERCPU_CGROUP_STORAGE) {
            return ((spec.valueSize() + 7) & ~7) * PossibleCpus.count();
        }
        return spec.valueSize();
    }

    @Override
    public void close() {
        fd.close();
        owner.forget(this);
    }

    @Override
    public String toString() {
        return "kernel map '" + spec.name() + "' (" + spec.type().scenarioName() + ", " + fd + ")";
    }
}
