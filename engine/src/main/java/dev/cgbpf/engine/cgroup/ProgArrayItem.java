package dev.cgbpf.engine.cgroup;

/**
 * One slot of an effective array (the kernel's bpf_prog_array_item): the program and the cgroup
 * it is attached to. The owner is what cgroup storage is keyed by (owner id, attach type), so the
 * storage op can find the value this slot's program sees.
 */
public record ProgArrayItem(CgroupProg prog, Cgroup owner) {
}
