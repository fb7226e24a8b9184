package dev.cgbpf.engine.verifier;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A helper's prototype (struct bpf_func_proto): what each argument register must hold and what
 * R0 holds after the call. Only the helpers listed in {@link #of} are modelled; a call to another
 * helper the program type may use is refused by the engine (a documented difference).
 */
record HelperProto(String name, Ret ret, List<Arg> args) {

    /** enum bpf_arg_type, as far as modelled. */
    enum Arg {
        ANYTHING,
        CONST_MAP_PTR,
        PTR_TO_MAP_KEY,
        PTR_TO_MAP_VALUE,
        PTR_TO_CTX,
        PTR_TO_CTX_OR_NULL,
        /** readable memory whose size is the next argument */
        PTR_TO_MEM_RDONLY,
        /** memory the helper fills, size in the next argument */
        PTR_TO_UNINIT_MEM,
        CONST_SIZE,
        CONST_SIZE_OR_ZERO
    }

    /** enum bpf_return_type, as far as modelled. */
    enum Ret {
        INTEGER,
        MAP_VALUE_OR_NULL,
        /** a map value that cannot be null (bpf_get_local_storage: the storage exists while attached) */
        MAP_VALUE,
        /** a BTF-typed kernel pointer (PTR_TO_BTF_ID): kept as an opaque pointer */
        BTF_PTR
    }

    /** "expected=" lists of check_reg_type for the pointer argument kinds, as 6.18 prints them. */
    static final String MEM_TYPES = "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";

    private static final Map<Integer, HelperProto> PROTOS = new HashMap<>();

    private static void def(int id, String name, Ret ret, Arg... args) {
        PROTOS.put(id, new HelperProto(name, ret, List.of(args)));
    }

    static {
        def(1, "bpf_map_lookup_elem", Ret.MAP_VALUE_OR_NULL, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_KEY);
        def(2, "bpf_map_update_elem", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_KEY, Arg.PTR_TO_MAP_VALUE,
                Arg.ANYTHING);
        def(3, "bpf_map_delete_elem", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_KEY);
        def(5, "bpf_ktime_get_ns", Ret.INTEGER);
        def(7, "bpf_get_prandom_u32", Ret.INTEGER);
        def(8, "bpf_get_smp_processor_id", Ret.INTEGER);
        def(14, "bpf_get_current_pid_tgid", Ret.INTEGER);
        def(15, "bpf_get_current_uid_gid", Ret.INTEGER);
        def(16, "bpf_get_current_comm", Ret.INTEGER, Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE);
        def(26, "bpf_skb_load_bytes", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.ANYTHING, Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE);
        def(42, "bpf_get_numa_node_id", Ret.INTEGER);
        def(46, "bpf_get_socket_cookie", Ret.INTEGER, Arg.PTR_TO_CTX);
        def(47, "bpf_get_socket_uid", Ret.INTEGER, Arg.PTR_TO_CTX);
        def(68, "bpf_skb_load_bytes_relative", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.ANYTHING, Arg.PTR_TO_UNINIT_MEM,
                Arg.CONST_SIZE, Arg.ANYTHING);
        def(79, "bpf_skb_cgroup_id", Ret.INTEGER, Arg.PTR_TO_CTX);
        def(80, "bpf_get_current_cgroup_id", Ret.INTEGER);
        def(64, "bpf_bind", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.PTR_TO_MEM_RDONLY, Arg.CONST_SIZE);
        def(81, "bpf_get_local_storage", Ret.MAP_VALUE, Arg.CONST_MAP_PTR, Arg.ANYTHING);
        def(118, "bpf_jiffies64", Ret.INTEGER);
        def(122, "bpf_get_netns_cookie", Ret.INTEGER, Arg.PTR_TO_CTX_OR_NULL);
        def(123, "bpf_get_current_ancestor_cgroup_id", Ret.INTEGER, Arg.ANYTHING);
        def(125, "bpf_ktime_get_boot_ns", Ret.INTEGER);
        def(160, "bpf_ktime_get_coarse_ns", Ret.INTEGER);
        def(208, "bpf_ktime_get_tai_ns", Ret.INTEGER);
        def(17, "bpf_get_cgroup_classid", Ret.INTEGER);
        def(35, "bpf_get_current_task", Ret.INTEGER);
        def(97, "bpf_skb_ecn_set_ce", Ret.INTEGER, Arg.PTR_TO_CTX);
        def(109, "bpf_send_signal", Ret.INTEGER, Arg.ANYTHING);
        def(117, "bpf_send_signal_thread", Ret.INTEGER, Arg.ANYTHING);
        def(158, "bpf_get_current_task_btf", Ret.BTF_PTR);
        def(186, "bpf_get_retval", Ret.INTEGER);
        def(187, "bpf_set_retval", Ret.INTEGER, Arg.ANYTHING);
    }

    /**
     * For helpers the engine does not model in full: the kernel's check of the first argument,
     * which is made before anything else about the call. The value is check_reg_type's
     * "expected=" list for arg1_type; null means arg1 accepts the context pointer R1 holds at
     * entry (ARG_PTR_TO_CTX or ARG_ANYTHING) and a second argument follows. From the 6.18
     * prototypes (each confirmed by loading {@code call ID} with only R1 set).
     */
    private static final Map<Integer, String> ARG1_EXPECTED = new HashMap<>();

    static {
        ARG1_EXPECTED.put(1, "map_ptr");
        ARG1_EXPECTED.put(2, "map_ptr");
        ARG1_EXPECTED.put(3, "map_ptr");
        ARG1_EXPECTED.put(6, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(12, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(16, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(22, "map_ptr");
        ARG1_EXPECTED.put(25, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(26, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(37, "map_ptr");
        ARG1_EXPECTED.put(49, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(53, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(55, "map_ptr");
        ARG1_EXPECTED.put(57, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(59, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(64, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(68, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(70, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(81, "map_ptr");
        ARG1_EXPECTED.put(83, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(84, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(85, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(86, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(87, "map_ptr");
        ARG1_EXPECTED.put(88, "map_ptr");
        ARG1_EXPECTED.put(89, "map_ptr");
        ARG1_EXPECTED.put(93, "map_value, ptr_");
        ARG1_EXPECTED.put(94, "map_value, ptr_");
        ARG1_EXPECTED.put(95, "sock_common, sock, tcp_sock, xdp_sock");
        ARG1_EXPECTED.put(96, "sock_common, sock, tcp_sock, xdp_sock");
        ARG1_EXPECTED.put(98, "sock_common, sock, tcp_sock, xdp_sock");
        ARG1_EXPECTED.put(99, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(105, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(106, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(107, "map_ptr");
        ARG1_EXPECTED.put(108, "map_ptr");
        ARG1_EXPECTED.put(112, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(113, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(114, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(115, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(120, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(128, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(129, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(130, "map_ptr");
        ARG1_EXPECTED.put(131, "map_ptr");
        ARG1_EXPECTED.put(132, "ringbuf_mem");
        ARG1_EXPECTED.put(133, "ringbuf_mem");
        ARG1_EXPECTED.put(134, "map_ptr");
        ARG1_EXPECTED.put(136, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(137, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(138, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(139, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(140, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(141, "ptr_, trusted_ptr_, rcu_ptr_");
        ARG1_EXPECTED.put(142, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(143, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(144, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(149, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(153, "percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_");
        ARG1_EXPECTED.put(154, "percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_");
        ARG1_EXPECTED.put(156, "map_ptr");
        ARG1_EXPECTED.put(157, "map_ptr");
        ARG1_EXPECTED.put(164, "map_ptr");
        ARG1_EXPECTED.put(165, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(169, "map_value");
        ARG1_EXPECTED.put(170, "map_value");
        ARG1_EXPECTED.put(171, "map_value");
        ARG1_EXPECTED.put(172, "map_value");
        ARG1_EXPECTED.put(175, "ptr_, trusted_ptr_, rcu_ptr_");
        ARG1_EXPECTED.put(176, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(177, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(178, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(180, "ptr_, trusted_ptr_, rcu_ptr_");
        ARG1_EXPECTED.put(181, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(182, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(194, "map_value, ptr_");
        ARG1_EXPECTED.put(195, "map_ptr");
        ARG1_EXPECTED.put(196, "sock_common, sock, tcp_sock, xdp_sock");
        ARG1_EXPECTED.put(197, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(198, "map_ptr");
        ARG1_EXPECTED.put(199, "fp, dynptr_ptr");
        ARG1_EXPECTED.put(200, "fp, dynptr_ptr");
        ARG1_EXPECTED.put(201, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(202, "fp, dynptr_ptr");
        ARG1_EXPECTED.put(203, "fp, dynptr_ptr");
        ARG1_EXPECTED.put(209, "map_ptr");
        ARG1_EXPECTED.put(210, "map_ptr");
        ARG1_EXPECTED.put(211, "map_ptr");
    }

    /** Whether the first-argument check of an unmodelled helper is known (see {@link #arg1Expected}). */
    static boolean knowsArg1(int id) {
        return ARG1_EXPECTED.containsKey(id);
    }

    static String arg1Expected(int id) {
        return ARG1_EXPECTED.get(id);
    }

    /** Helpers that may sleep: refused in every program type of this project (none is sleepable). */
    static boolean mightSleep(int id) {
        return id == 148 || id == 191;
    }

    /**
     * The prototype of helper {@code id}, or null when not modelled. (The kernel has per-type
     * flavours of some helpers; for the modelled ones 6.18 gives every program type of this
     * project the same argument checks: bpf_get_cgroup_classid takes nothing and
     * bpf_get_netns_cookie takes ctx or NULL even in __sk_buff programs, asked of the kernel.)
     */
    static HelperProto of(int id) {
        return PROTOS.get(id);
    }
}
