package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;

/** A map created by a {@link KernelBackend}: owns its fd. */
final class KernelMap extends KernelObject implements BpfMap {
    private final MapSpec spec;

    KernelMap(KernelFds owner, Fd fd, MapSpec spec) {
        super(owner, fd);
        this.spec = spec;
    }

    @Override
    public MapSpec spec() {
        return spec;
    }

    /** The real fd number: what LD_IMM64 src=PSEUDO_MAP_FD carries in a program. */
    @Override
    public int fd() {
        return handle().get();
    }

    /** Bytes of one value as lookups and updates carry it: per-CPU maps hold one slot per possible CPU. */
    int valueBytes() {
        if (spec.type().percpu()) {
            return ((spec.valueSize() + 7) & ~7) * PossibleCpus.count();
        }
        return spec.valueSize();
    }

    @Override
    public String toString() {
        return "kernel map '" + spec.name() + "' (" + spec.type().scenarioName() + ", " + handle() + ")";
    }
}
