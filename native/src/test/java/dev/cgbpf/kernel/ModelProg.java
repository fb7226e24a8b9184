package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.CgroupProg;

/**
 * A program of the engine's cgroup model standing for a kernel program of the same name in the
 * differential tests: loaded for no attach type, compared by identity like the kernel's programs.
 */
record ModelProg(String name, ProgType type) implements CgroupProg {
    @Override
    public AttachType expectedAttach() {
        return null;
    }
}
