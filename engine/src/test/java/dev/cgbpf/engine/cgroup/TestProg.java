package dev.cgbpf.engine.cgroup;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;

/** A program handle for tests; distinct objects are distinct programs. */
record TestProg(String name, ProgType type, AttachType expectedAttach, boolean enforcesExpectedAttach)
        implements CgroupProg {

    static TestProg device(String name) {
        return new TestProg(name, ProgType.CGROUP_DEVICE, null, false);
    }

    static TestProg of(String name, ProgType type, AttachType expected) {
        return new TestProg(name, type, expected, false);
    }

    @Override
    public boolean equals(Object o) {
        return this == o; // programs are compared by identity, as the kernel compares bpf_prog pointers
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return name;
    }
}
