package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.TailCall;

/**
 * BPF_MAP_TYPE_PROG_ARRAY (kernel/bpf/arraymap.c, prog_array_map_ops): the programs bpf_tail_call
 * jumps to. The map's owner is the first program that uses it or is put into it (the kernel's
 * map->owner, set by bpf_prog_map_compatible); every later one must match it, or its load
 * (bpf_check_tail_call) and its update are EINVAL. A lookup from user space shows the
 * program's id.
 */
public final class ProgArrayMap extends FdArrayMap<ProgArrayMap.Prog> implements TailCall.Array {

    /** A program as the array holds it: it runs as a tail call's target and is released by the slot. */
    public interface Prog extends TailCall.Target {
        /** What the map's owner must agree with. */
        Owner owner();

        /** bpf_prog_get_info's id, which a lookup from user space shows. */
        int progId();

        /** bpf_prog_put of the slot's reference. */
        void put();
    }

    /**
     * What bpf_prog_map_compatible compares on 6.18 for the program types the engine has (the
     * JIT, XDP frags and sleepable flags are the same for every engine program): the program type,
     * the expected attach type, and the cgroup storage of each kind the program uses (null: none),
     * with whether it makes tail calls itself.
     */
    public record Owner(ProgType type, AttachType expectedAttach, EngineMap storage, EngineMap percpuStorage,
                        boolean makesTailCalls) {
        /** The owner a program with these used maps would make. */
        public static Owner of(ProgType type, AttachType expectedAttach, Iterable<EngineMap> used, boolean makesTailCalls) {
            EngineMap shared = null;
            EngineMap percpu = null;
            for (EngineMap m : used) {
                if (m instanceof CgroupStorageMap s) {
                    if (s.percpu()) {
                        percpu = s;
                    } else {
                        shared = s;
                    }
                }
            }
            return new Owner(type, expectedAttach, shared, percpu, makesTailCalls);
        }
    }

    private Owner owner;

    private ProgArrayMap(MapSpec spec, AddressSpace space) {
        super(spec, space);
    }

    static ProgArrayMap createProgArray(MapSpec spec, AddressSpace space) throws BpfException {
        checkCreate(spec);
        return new ProgArrayMap(spec, space);
    }

    /**
     * kernel: __bpf_prog_map_compatible. The first program to ask becomes the owner; later ones
     * must have its program type and expected attach type, and of each kind of cgroup storage the
     * owner's, or none at all if they make no tail calls themselves (measured on 6.18: a program
     * without storage goes into an array whose owner has one, unless it tail-calls onwards, as
     * its callees would then find no storage of the kind the owner's expect).
     */
    public synchronized boolean compatible(Owner o) {
        if (owner == null) {
            owner = o;
            return true;
        }
        return owner.type() == o.type() && owner.expectedAttach() == o.expectedAttach()
                && storageMatches(owner.storage(), o.storage(), o.makesTailCalls())
                && storageMatches(owner.percpuStorage(), o.percpuStorage(), o.makesTailCalls());
    }

    private static boolean storageMatches(EngineMap owners, EngineMap progs, boolean makesTailCalls) {
        return progs == owners || (progs == null && !makesTailCalls);
    }

    @Override
    public TailCall.Target progAt(int index) {
        return at(index);
    }

    @Override
    void drop(Prog p) {
        p.put();
    }

    /** prog_fd_array_sys_lookup_elem: the program's id, as a u32 value. */
    @Override
    public byte[] sysLookup(byte[] key) throws BpfException {
        int i = index(key);
        Prog p = inRange(i) ? at(i) : null;
        if (p == null) {
            throw new BpfException(Errno.ENOENT, "no program in slot " + Integer.toUnsignedString(i)
                    + " of program array '" + spec.name() + "'");
        }
        int id = p.progId();
        return new byte[] {(byte) id, (byte) (id >>> 8), (byte) (id >>> 16), (byte) (id >>> 24)};
    }
}
