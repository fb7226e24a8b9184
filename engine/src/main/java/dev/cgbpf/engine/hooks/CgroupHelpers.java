package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.ProgArrayItem;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.HelperTable;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.Region;
import dev.cgbpf.engine.maps.CgroupArrayMap;
import dev.cgbpf.engine.maps.CgroupStorageMap;

/**
 * The helpers of the cgroup hooks, on top of the base ones ({@link BaseHelpers}). Every cgroup
 * program type gets the task's cgroup and its ancestors (80, 123), the cgroup storage (81),
 * bpf_get_retval/bpf_set_retval (186/187), the net_cls class id (17) and the network namespace
 * cookie (122); the socket types add the socket cookie (46) and the cgroup of a socket pointer
 * (128/129); cgroup_skb the packet helpers of {@link SkbHelpers}; connect4/6 bpf_bind (64).
 *
 * <p>Which helper a program may call is the verifier's question. Which helpers the engine can
 * run is this table's: EngineBackend refuses at load a program calling one that is not here, so
 * that nothing faults at run time for want of a helper. The current task's ids, comm and task
 * pointer are the probing thread's ({@link CurrentTask}). Left out on purpose, because the engine
 * cannot know their answer or must not do it: signals to the current task, kernel and user memory
 * (probe_read_*) and the map type the engine has not (perf event array). bpf_tail_call is the
 * interpreter's own ({@link dev.cgbpf.engine.interp.TailCall}). The ring buffer helpers come with the base table ({@link dev.cgbpf.engine.interp.RingBufHelpers}).
 */
public final class CgroupHelpers {
    public static final int GET_CGROUP_CLASSID = 17;
    public static final int SKB_LOAD_BYTES = 26;
    public static final int GET_SOCKET_COOKIE = 46;
    public static final int GET_SOCKET_UID = 47;
    public static final int BIND = 64;
    public static final int SKB_LOAD_BYTES_RELATIVE = 68;
    public static final int SKB_CGROUP_ID = 79;
    public static final int CURRENT_TASK_UNDER_CGROUP = 37;
    public static final int GET_CURRENT_CGROUP_ID = 80;
    public static final int GET_LOCAL_STORAGE = 81;
    public static final int SKB_ANCESTOR_CGROUP_ID = 83;
    public static final int SKB_ECN_SET_CE = 97;
    public static final int GET_NETNS_COOKIE = 122;
    public static final int GET_CURRENT_ANCESTOR_CGROUP_ID = 123;
    public static final int SK_CGROUP_ID = 128;
    public static final int SK_ANCESTOR_CGROUP_ID = 129;
    public static final int GET_RETVAL = 186;
    public static final int SET_RETVAL = 187;

    private CgroupHelpers() {
    }

    private static final HelperTable CGROUP = HelperTable.builder()
            .addAll(BaseHelpers.TABLE)
            .addAll(CurrentTask.HELPERS)
            .add(GET_CURRENT_CGROUP_ID, (m, r1, r2, r3, r4, r5) -> m.env(HookEnv.class).taskCgroup().id())
            .add(GET_CURRENT_ANCESTOR_CGROUP_ID, (m, level, r2, r3, r4, r5) ->
                    ancestorId(m.env(HookEnv.class).taskCgroup(), (int) level))
            .add(GET_LOCAL_STORAGE, CgroupHelpers::getLocalStorage)
            .add(CURRENT_TASK_UNDER_CGROUP, CgroupHelpers::currentTaskUnderCgroup)
            .add(GET_RETVAL, (m, r1, r2, r3, r4, r5) -> (long) m.env(HookEnv.class).runCtx().retval())
            .add(SET_RETVAL, CgroupHelpers::setRetval)
            // __task_get_classid(current): the net_cls classid, a cgroup v1 controller the engine's
            // tasks are not in (the root's, 0), and 0 anyway in softirq (ingress)
            .add(GET_CGROUP_CLASSID, (m, r1, r2, r3, r4, r5) -> 0L)
            // ctx or NULL: either way the engine's one network namespace
            .add(GET_NETNS_COOKIE, (m, ctx, r2, r3, r4, r5) -> SockCookie.NETNS_COOKIE)
            .build();

    /** The socket program types: the hook's socket is the context or its sk field. */
    private static final HelperTable SOCKET = HelperTable.builder()
            .addAll(CGROUP)
            .add(GET_SOCKET_COOKIE, CgroupHelpers::getSocketCookie)
            .add(SK_CGROUP_ID, CgroupHelpers::skCgroupId)
            .add(SK_ANCESTOR_CGROUP_ID, CgroupHelpers::skAncestorCgroupId)
            .build();

    private static final HelperTable SKB = HelperTable.builder()
            .addAll(SOCKET)
            .add(SockLookup.SK_LOOKUP_TCP, SockLookup::lookupTcp)
            .add(SockLookup.SK_LOOKUP_UDP, SockLookup::lookupUdp)
            .add(SockLookup.SKC_LOOKUP_TCP, SockLookup::skcLookupTcp)
            .add(SockLookup.SK_RELEASE, SockLookup::release)
            .add(SockLookup.SK_FULLSOCK, SockLookup::fullsock)
            .add(TcpSockHelpers.TCP_SOCK, TcpSockHelpers::tcpSock)
            .add(SockLookup.GET_LISTENER_SOCK, SockLookup::listenerSock)
            .add(SKB_LOAD_BYTES, SkbHelpers::loadBytes)
            .add(SKB_LOAD_BYTES_RELATIVE, SkbHelpers::loadBytesRelative)
            .add(SKB_ECN_SET_CE, SkbHelpers::ecnSetCe)
            .add(SKB_CGROUP_ID, SkbHelpers::skbCgroupId)
            .add(SKB_ANCESTOR_CGROUP_ID, SkbHelpers::skbAncestorCgroupId)
            .add(GET_SOCKET_UID, SkbHelpers::socketUid)
            .build();

    private static final HelperTable SOCK_ADDR = HelperTable.builder()
            .addAll(SOCKET)
            .add(SockLookup.SK_LOOKUP_TCP, SockLookup::lookupTcp)
            .add(SockLookup.SK_LOOKUP_UDP, SockLookup::lookupUdp)
            .add(SockLookup.SKC_LOOKUP_TCP, SockLookup::skcLookupTcp)
            .add(SockLookup.SK_RELEASE, SockLookup::release)
            .add(SockOpt.SETSOCKOPT, SockOpt::setsockopt)
            .add(SockOpt.GETSOCKOPT, SockOpt::getsockopt)
            .build();

    private static final HelperTable SOCK_OPS = HelperTable.builder()
            .addAll(SOCKET)
            .add(SockOpt.SETSOCKOPT, SockOpt::sockOpsSetsockopt)
            .add(SockOpt.GETSOCKOPT, SockOpt::sockOpsGetsockopt)
            .add(TcpSockHelpers.TCP_SOCK, TcpSockHelpers::tcpSock)
            .add(TcpSockHelpers.SOCK_OPS_CB_FLAGS_SET, TcpSockHelpers::cbFlagsSet)
            .add(SockMapHelpers.SOCK_MAP_UPDATE, SockMapHelpers::update)
            .add(SockMapHelpers.SOCK_HASH_UPDATE, SockMapHelpers::update)
            .add(TcpHdrOpt.LOAD_HDR_OPT, TcpHdrOpt::load)
            .add(TcpHdrOpt.STORE_HDR_OPT, TcpHdrOpt::store)
            .add(TcpHdrOpt.RESERVE_HDR_OPT, TcpHdrOpt::reserve)
            .build();

    private static final HelperTable CONNECT = HelperTable.builder()
            .addAll(SOCK_ADDR)
            .add(BIND, CgroupHelpers::bind)
            .build();

    /** The helpers a program of this type, loaded for this attach type, gets. */
    public static HelperTable tableFor(ProgType type, AttachType expectedAttach) {
        return switch (type) {
            case CGROUP_SOCK_ADDR -> expectedAttach == AttachType.CGROUP_INET4_CONNECT
                    || expectedAttach == AttachType.CGROUP_INET6_CONNECT ? CONNECT : SOCK_ADDR;
            case CGROUP_SKB -> SKB;
            case CGROUP_SOCK -> SOCKET;
            case SOCK_OPS -> SOCK_OPS;
            case CGROUP_DEVICE -> CGROUP;
            case LIRC_MODE2 -> LircDevice.HELPERS;
            default -> BaseHelpers.TABLE;
        };
    }

    /**
     * cgroup_ancestor: the ancestor of {@code c} at {@code level} (the root is level 0, {@code c}
     * itself its own level), as its id; 0 for a negative level or one below {@code c}.
     */
    static long ancestorId(Cgroup c, int level) {
        int depth = 0;
        for (Cgroup up = c.parent(); up != null; up = up.parent()) {
            depth++;
        }
        if (level < 0 || level > depth) {
            return 0;
        }
        Cgroup a = c;
        for (int i = depth; i > level; i--) {
            a = a.parent();
        }
        return a.id();
    }

    /**
     * u64 bpf_get_socket_cookie(ctx): the cookie of the context's socket (sock_gen_cookie), 0
     * for a packet without one.
     */
    static long getSocketCookie(Machine m, long ctx, long r2, long r3, long r4, long r5) {
        InetSock sk = m.env(HookEnv.class).sock();
        return sk == null ? 0 : SockCookie.of(sk);
    }

    /**
     * The cgroup of the socket a sock pointer argument points to: the context's sk field (the
     * hook's socket), sk_fullsock of it, or a socket a lookup found (a listener of the caller's);
     * anything else is what the verifier refuses.
     */
    private static Cgroup sockArgCgroup(Machine m, long sk, String helper) {
        if (!(m.region(sk, 1, false).ctx() instanceof BpfSockCtx view)) {
            throw new Fault(helper + ": R1 is not a socket pointer (0x" + Long.toHexString(sk) + ")");
        }
        return view.sock().cgroupOr(m.env(HookEnv.class).taskCgroup());
    }

    /** u64 bpf_sk_cgroup_id(sk): the cgroup of the task that made the socket. */
    static long skCgroupId(Machine m, long sk, long r2, long r3, long r4, long r5) {
        return sockArgCgroup(m, sk, "bpf_sk_cgroup_id").id();
    }

    /** u64 bpf_sk_ancestor_cgroup_id(sk, int level). */
    static long skAncestorCgroupId(Machine m, long sk, long level, long r3, long r4, long r5) {
        return ancestorId(sockArgCgroup(m, sk, "bpf_sk_ancestor_cgroup_id"), (int) level);
    }

    /**
     * long bpf_current_task_under_cgroup(map, u32 index): 1 when the task's cgroup is the cgroup in
     * slot {@code index} of the cgroup array or one below it (task_under_cgroup_hierarchy), else
     * 0; -E2BIG for an index past the end, -EAGAIN for an empty slot.
     */
    static long currentTaskUnderCgroup(Machine m, long map, long index, long r3, long r4, long r5) {
        Region r = m.mapObject(map);
        if (!(r.map() instanceof CgroupArrayMap array)) {
            throw new Fault("cannot pass map_type " + r.map().spec().type().value()
                    + " into func bpf_current_task_under_cgroup#37");
        }
        int i = (int) index;
        if (Integer.compareUnsigned(i, array.spec().maxEntries()) >= 0) {
            return CgroupArrayMap.OUT_OF_RANGE;
        }
        Cgroup target = array.cgroupAt(i);
        if (target == null) {
            return CgroupArrayMap.EMPTY;
        }
        for (Cgroup c = m.env(HookEnv.class).taskCgroup(); c != null; c = c.parent()) {
            if (c == target) {
                return 1;
            }
        }
        return 0;
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
            // BPF_PROG_TEST_RUN: the run has storages of its own, attached to no cgroup
            return env.testRunStorage(storage);
        }
        long address = storage.storageAddress(item.owner().id(), env.attachType());
        if (address == 0) {
            throw new Fault("no cgroup storage of map '" + storage.spec().name() + "' for " + item.owner());
        }
        return address;
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
