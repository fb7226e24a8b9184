package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.ProgArrayItem;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.HelperTable;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.Region;
import dev.cgbpf.engine.maps.CgroupStorageMap;

/**
 * The helpers of the cgroup hooks, on top of the base ones: bpf_get_current_cgroup_id (80),
 * bpf_get_local_storage (81), bpf_get_retval/bpf_set_retval (186/187) for every cgroup program
 * type, and bpf_bind (64) for connect4/6 only (sock_addr_func_proto). Which helper a program may
 * call is the verifier's question; a call to one the engine lacks faults at run time.
 */
public final class CgroupHelpers {
    public static final int SKB_LOAD_BYTES = 26;
    public static final int BIND = 64;
    public static final int GET_CURRENT_CGROUP_ID = 80;
    public static final int GET_LOCAL_STORAGE = 81;
    public static final int GET_RETVAL = 186;
    public static final int SET_RETVAL = 187;

    private CgroupHelpers() {
    }

    private static final HelperTable CGROUP = HelperTable.builder()
            .addAll(BaseHelpers.TABLE)
            .add(GET_CURRENT_CGROUP_ID, (m, r1, r2, r3, r4, r5) -> m.env(HookEnv.class).taskCgroup().id())
            .add(GET_LOCAL_STORAGE, CgroupHelpers::getLocalStorage)
            .add(GET_RETVAL, (m, r1, r2, r3, r4, r5) -> (long) m.env(HookEnv.class).runCtx().retval())
            .add(SET_RETVAL, CgroupHelpers::setRetval)
            .build();

    private static final HelperTable SKB = HelperTable.builder()
            .addAll(CGROUP)
            .add(SKB_LOAD_BYTES, CgroupHelpers::skbLoadBytes)
            .build();

    private static final HelperTable CONNECT = HelperTable.builder()
            .addAll(CGROUP)
            .add(BIND, CgroupHelpers::bind)
            .build();

    /** The helpers a program of this type, loaded for this attach type, gets. */
    public static HelperTable tableFor(ProgType type, AttachType expectedAttach) {
        return switch (type) {
            case CGROUP_SOCK_ADDR -> expectedAttach == AttachType.CGROUP_INET4_CONNECT
                    || expectedAttach == AttachType.CGROUP_INET6_CONNECT ? CONNECT : CGROUP;
            case CGROUP_SKB -> SKB;
            case CGROUP_DEVICE, CGROUP_SOCK, SOCK_OPS -> CGROUP;
            case LIRC_MODE2 -> LircDevice.HELPERS;
            default -> BaseHelpers.TABLE;
        };
    }

    /**
     * void *bpf_get_local_storage(map, flags): the storage of the slot being run, i.e. of the cgroup
     * the program is attached to (not the task's) and the hook's attach type.
     */
    static long getLocalStorage(Machine m, long map, long flags, long r3, long r4, long r5) {
        HookEnv env = m.env(HookEnv.class);
        Region r = m.mapObject(map);
        if (!(r.map() instanceof CgroupStorageMap storage)) {
            throw new Fault("cannot pass map_type " + r.map().spec().type().value() + " into func bpf_get_local_storage#81");
        }
        if (flags != 0) {
            throw new Fault("bpf_get_local_storage flags must be 0, got " + flags);
        }
        ProgArrayItem item = env.runCtx().item();
        if (item.owner() == null) {
            throw new Fault("bpf_get_local_storage in BPF_PROG_TEST_RUN: the engine does not model the"
                    + " run's temporary cgroup storage");
        }
        long address = storage.storageAddress(item.owner().id(), env.attachType());
        if (address == 0) {
            throw new Fault("no cgroup storage of map '" + storage.spec().name() + "' for " + item.owner());
        }
        return address;
    }

    /**
     * long bpf_skb_load_bytes(skb, offset, to, len): copies packet bytes from the network header
     * on; an offset or length outside the packet is -EFAULT with {@code to} zeroed, as the kernel does.
     */
    static long skbLoadBytes(Machine m, long skb, long offset, long to, long len, long r5) {
        if (!(m.ctx() instanceof CgroupSkbCtx ctx)) {
            throw new Fault("bpf_skb_load_bytes needs the __sk_buff context");
        }
        int n = (int) len;
        if (n <= 0) {
            throw new Fault("bpf_skb_load_bytes: len " + len + " is not a positive size");
        }
        byte[] data = ctx.packetBytes();
        int off = (int) offset;
        boolean inside = offset >= 0 && offset <= 0xffff && off + n <= data.length;
        for (int i = 0; i < n; i++) {
            m.store(to + i, 1, inside ? data[off + i] & 0xff : 0);
        }
        return inside ? 0 : -14;
    }

    /** long bpf_set_retval(int retval): the value the hook will return unless a later program changes it. */
    static long setRetval(Machine m, long retval, long r2, long r3, long r4, long r5) {
        m.env(HookEnv.class).runCtx().setRetval((int) retval);
        return 0;
    }

    /** long bpf_bind(ctx, struct sockaddr *addr, int addr_len): 0 or -errno, as the kernel's __inet_bind answers. */
    static long bind(Machine m, long ctx, long addr, long addrLen, long r4, long r5) {
        HookEnv env = m.env(HookEnv.class);
        int len = (int) addrLen;
        if (len < 2) {
            return -Errnos.EINVAL;
        }
        byte[] sa = m.readBytes(addr, len);
        return env.net().bpfBind(env.sock(), sa);
    }
}
