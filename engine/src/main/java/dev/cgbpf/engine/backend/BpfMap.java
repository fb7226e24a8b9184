package dev.cgbpf.engine.backend;

/**
 * A map created in a backend. Programs refer to it with LD_IMM64 src=PSEUDO_MAP_FD imm={@link #fd()}:
 * a real fd on the kernel, an engine-local handle number in the engine.
 */
public interface BpfMap extends BpfObject {
    MapSpec spec();

    int fd();

    @Override
    void close();
}
