package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.interp.AddressSpace;

/**
 * BPF_MAP_TYPE_CGROUP_ARRAY (kernel/bpf/arraymap.c, cgroup_array_map_ops): cgroups, put in from
 * user space as fds of their directories, for bpf_current_task_under_cgroup. A lookup from user
 * space is ENOTSUPP: the kernel has no way to show a cgroup there.
 */
public final class CgroupArrayMap extends FdArrayMap<Cgroup> {
    /** bpf_current_task_under_cgroup's answer for an index past the end: -E2BIG. */
    public static final int OUT_OF_RANGE = E2BIG;
    /** bpf_current_task_under_cgroup's answer for an empty slot: -EAGAIN. */
    public static final int EMPTY = -Errno.EAGAIN.number();

    private CgroupArrayMap(MapSpec spec, AddressSpace space) {
        super(spec, space);
    }

    static CgroupArrayMap createCgroupArray(MapSpec spec, AddressSpace space) throws BpfException {
        checkCreate(spec);
        return new CgroupArrayMap(spec, space);
    }

    /** The cgroup in slot {@code index} (as u32), or null when the index is past the end or the slot empty. */
    public Cgroup cgroupAt(int index) {
        return inRange(index) ? at(index) : null;
    }

    @Override
    void drop(Cgroup c) {
        // the engine's cgroups live as long as the tree holds them: nothing to release
    }

    @Override
    public byte[] sysLookup(byte[] key) throws BpfException {
        throw new BpfException(Errno.ENOTSUPP, "cgroup array '" + spec.name() + "' shows nothing to user space");
    }
}
