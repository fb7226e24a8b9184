package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A helper's prototype (struct bpf_func_proto): what each argument register must hold and what
 * R0 holds after the call. Only the helpers listed in {@link #of} are modelled; a call to another
 * helper the program type may use is refused by the engine (a documented difference).
 */
record HelperProto(String name, Ret ret, List<Arg> args) {

    /** enum bpf_arg_type (with its flags folded in), as far as modelled. */
    enum Arg {
        ANYTHING,
        CONST_MAP_PTR,
        PTR_TO_MAP_KEY,
        PTR_TO_MAP_VALUE,
        /** where a helper writes a value of the map (ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE) */
        PTR_TO_UNINIT_MAP_VALUE,
        PTR_TO_CTX,
        PTR_TO_CTX_OR_NULL,
        /** readable memory whose size is the next argument (ARG_PTR_TO_MEM | MEM_RDONLY) */
        PTR_TO_MEM_RDONLY,
        /** memory the helper fills, size in the next argument (ARG_PTR_TO_UNINIT_MEM) */
        PTR_TO_UNINIT_MEM,
        /** ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_WRITE: bpf_snprintf's buffer, NULL with a zero size */
        PTR_TO_MEM_OR_NULL,
        /** ARG_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RDONLY: the u64 array of bpf_snprintf and bpf_trace_vprintk */
        PTR_TO_MEM_OR_NULL_RDONLY,
        CONST_SIZE,
        CONST_SIZE_OR_ZERO,
        /** ARG_PTR_TO_SOCK_COMMON: any socket pointer the verifier tracks */
        PTR_TO_SOCK_COMMON,
        /** ARG_PTR_TO_BTF_ID_SOCK_COMMON: a socket pointer or a BTF pointer to a sock_common */
        PTR_TO_BTF_ID_SOCK_COMMON,
        /** ARG_PTR_TO_BTF_ID_SOCK_COMMON | OBJ_RELEASE: bpf_sk_release's socket */
        RELEASE_SOCK_COMMON,
        /** ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE: the record given to bpf_ringbuf_submit/discard */
        RELEASE_RINGBUF_MEM,
        /** ARG_CONST_ALLOC_SIZE_OR_ZERO: a known constant, the size of the memory R0 will point to */
        CONST_ALLOC_SIZE_OR_ZERO,
        /** ARG_PTR_TO_CONST_STR: a string in a frozen read-only map */
        PTR_TO_CONST_STR,
        /**
         * ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED of 8 bytes: where
         * bpf_strtol/strtoul store their result
         */
        PTR_TO_ALIGNED_LONG,
        /**
         * ARG_PTR_TO_FUNC: a callback, which only an ld_imm64 of a subprogram (src 4) makes. The
         * kernel refuses that load when the program comes without BTF func_info ("missing btf
         * func_info"), and this project's loaders pass no BTF: no register the engine can hold
         * here matches, exactly as no register of such a program matches in the kernel.
         */
        PTR_TO_FUNC,
        /** ARG_PTR_TO_STACK_OR_NULL: the callback's context, a stack pointer or NULL */
        PTR_TO_STACK_OR_NULL;

        /** The types check_reg_type accepts (the engine's share of compatible_reg_types). */
        boolean accepts(RegType t) {
            return switch (this) {
                case ANYTHING -> true;
                case CONST_MAP_PTR -> t == RegType.CONST_PTR_TO_MAP;
                case PTR_TO_CTX, PTR_TO_CTX_OR_NULL -> t == RegType.PTR_TO_CTX;
                case PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE, PTR_TO_UNINIT_MAP_VALUE, PTR_TO_MEM_RDONLY, PTR_TO_UNINIT_MEM,
                        PTR_TO_ALIGNED_LONG, PTR_TO_MEM_OR_NULL, PTR_TO_MEM_OR_NULL_RDONLY -> t == RegType.PTR_TO_STACK || t.isPacket() || t == RegType.PTR_TO_MAP_VALUE
                                || t == RegType.PTR_TO_RINGBUF_MEM || t == RegType.PTR_TO_BTF_ID;
                case CONST_SIZE, CONST_SIZE_OR_ZERO, CONST_ALLOC_SIZE_OR_ZERO -> t == RegType.SCALAR;
                // the engine's opaque BTF pointers are not sockets: refused rather than BTF-matched
                case PTR_TO_SOCK_COMMON -> t.isSocket();
                // a BTF pointer matches the kind, then fails the BTF type check (CheckHelperCall.checkBtfArg)
                case PTR_TO_BTF_ID_SOCK_COMMON, RELEASE_SOCK_COMMON -> t.isSocket() || t == RegType.PTR_TO_BTF_ID;
                case RELEASE_RINGBUF_MEM -> t == RegType.PTR_TO_RINGBUF_MEM;
                case PTR_TO_CONST_STR -> t == RegType.PTR_TO_MAP_VALUE;
                case PTR_TO_FUNC -> false;
                case PTR_TO_STACK_OR_NULL -> t == RegType.PTR_TO_STACK;
            };
        }

        /** The "expected=" list of check_reg_type's mismatch message, as 6.18 prints it. */
        String expected() {
            return switch (this) {
                case ANYTHING -> "";
                case CONST_MAP_PTR -> "map_ptr";
                case PTR_TO_CTX, PTR_TO_CTX_OR_NULL -> "ctx";
                case PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE, PTR_TO_UNINIT_MAP_VALUE, PTR_TO_MEM_RDONLY, PTR_TO_UNINIT_MEM,
                        PTR_TO_ALIGNED_LONG, PTR_TO_MEM_OR_NULL, PTR_TO_MEM_OR_NULL_RDONLY -> MEM_TYPES;
                case CONST_SIZE, CONST_SIZE_OR_ZERO, CONST_ALLOC_SIZE_OR_ZERO -> "scalar";
                case PTR_TO_SOCK_COMMON -> SOCK_TYPES;
                case PTR_TO_BTF_ID_SOCK_COMMON, RELEASE_SOCK_COMMON -> SOCK_TYPES + ", ptr_, trusted_ptr_";
                case RELEASE_RINGBUF_MEM -> "ringbuf_mem";
                case PTR_TO_CONST_STR -> "map_value";
                case PTR_TO_FUNC -> "func";
                case PTR_TO_STACK_OR_NULL -> "fp";
            };
        }

        /** PTR_MAYBE_NULL: NULL (a known zero) passes, and so does a pointer not yet checked against NULL. */
        boolean mayBeNull() {
            return this == PTR_TO_CTX_OR_NULL || this == PTR_TO_STACK_OR_NULL || this == PTR_TO_MEM_OR_NULL
                    || this == PTR_TO_MEM_OR_NULL_RDONLY;
        }

        /** OBJ_RELEASE: the helper ends the life of the reference the argument carries. */
        boolean releases() {
            return this == RELEASE_SOCK_COMMON || this == RELEASE_RINGBUF_MEM;
        }
    }

    /** enum bpf_return_type, as far as modelled. */
    enum Ret {
        INTEGER,
        /** RET_VOID: R0 is unreadable after the call */
        VOID,
        MAP_VALUE_OR_NULL,
        /** a map value that cannot be null (bpf_get_local_storage: the storage exists while attached) */
        MAP_VALUE,
        /** a BTF-typed kernel pointer (PTR_TO_BTF_ID): kept as an opaque pointer */
        BTF_PTR,
        SOCKET_OR_NULL,
        SOCK_COMMON_OR_NULL,
        TCP_SOCK_OR_NULL,
        /** RET_PTR_TO_RINGBUF_MEM_OR_NULL, of the size the ARG_CONST_ALLOC_SIZE_OR_ZERO argument gave */
        RINGBUF_MEM_OR_NULL
    }

    /** "expected=" lists of check_reg_type for the pointer argument kinds, as 6.18 prints them. */
    static final String MEM_TYPES = "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";
    static final String SOCK_TYPES = "sock_common, sock, tcp_sock, xdp_sock";

    private static final Map<Integer, HelperProto> PROTOS = new HashMap<>();

    private static void def(int id, String name, Ret ret, Arg... args) {
        PROTOS.put(id, new HelperProto(name, ret, List.of(args)));
    }

    static {
        def(1, "bpf_map_lookup_elem", Ret.MAP_VALUE_OR_NULL, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_KEY);
        def(2, "bpf_map_update_elem", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_KEY, Arg.PTR_TO_MAP_VALUE,
                Arg.ANYTHING);
        def(3, "bpf_map_delete_elem", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_KEY);
        // queue and stack maps: the value is copied in (push) or out (pop, peek)
        def(87, "bpf_map_push_elem", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_VALUE, Arg.ANYTHING);
        def(88, "bpf_map_pop_elem", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.PTR_TO_UNINIT_MAP_VALUE);
        def(89, "bpf_map_peek_elem", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.PTR_TO_UNINIT_MAP_VALUE);
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
        // the TCP header-option helpers of sock_ops; load_hdr_opt's buffer is ARG_PTR_TO_MEM | MEM_WRITE,
        // which for root (uninitialised stack allowed) checks as the uninit form does
        def(142, "bpf_load_hdr_opt", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE, Arg.ANYTHING);
        def(143, "bpf_store_hdr_opt", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.PTR_TO_MEM_RDONLY, Arg.CONST_SIZE,
                Arg.ANYTHING);
        def(144, "bpf_reserve_hdr_opt", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.ANYTHING, Arg.ANYTHING);
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
        // the callback helpers: their R2 never matches without BTF func_info (Arg.PTR_TO_FUNC)
        def(181, "bpf_loop", Ret.INTEGER, Arg.ANYTHING, Arg.PTR_TO_FUNC, Arg.PTR_TO_STACK_OR_NULL, Arg.ANYTHING);
        def(164, "bpf_for_each_map_elem", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.PTR_TO_FUNC, Arg.PTR_TO_STACK_OR_NULL,
                Arg.ANYTHING);

        // socket lookups (acquire a reference), their release, and the socket pointer casts
        def(84, "bpf_sk_lookup_tcp", Ret.SOCKET_OR_NULL, Arg.PTR_TO_CTX, Arg.PTR_TO_MEM_RDONLY,
                Arg.CONST_SIZE_OR_ZERO, Arg.ANYTHING, Arg.ANYTHING);
        def(85, "bpf_sk_lookup_udp", Ret.SOCKET_OR_NULL, Arg.PTR_TO_CTX, Arg.PTR_TO_MEM_RDONLY,
                Arg.CONST_SIZE_OR_ZERO, Arg.ANYTHING, Arg.ANYTHING);
        def(99, "bpf_skc_lookup_tcp", Ret.SOCK_COMMON_OR_NULL, Arg.PTR_TO_CTX, Arg.PTR_TO_MEM_RDONLY,
                Arg.CONST_SIZE_OR_ZERO, Arg.ANYTHING, Arg.ANYTHING);
        def(86, "bpf_sk_release", Ret.INTEGER, Arg.RELEASE_SOCK_COMMON);
        def(95, "bpf_sk_fullsock", Ret.SOCKET_OR_NULL, Arg.PTR_TO_SOCK_COMMON);
        def(96, "bpf_tcp_sock", Ret.TCP_SOCK_OR_NULL, Arg.PTR_TO_SOCK_COMMON);
        def(98, "bpf_get_listener_sock", Ret.SOCKET_OR_NULL, Arg.PTR_TO_SOCK_COMMON);
        def(128, "bpf_sk_cgroup_id", Ret.INTEGER, Arg.PTR_TO_BTF_ID_SOCK_COMMON);
        def(129, "bpf_sk_ancestor_cgroup_id", Ret.INTEGER, Arg.PTR_TO_BTF_ID_SOCK_COMMON, Arg.ANYTHING);
        def(83, "bpf_skb_ancestor_cgroup_id", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.ANYTHING);
        // ring buffer
        def(130, "bpf_ringbuf_output", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.PTR_TO_MEM_RDONLY, Arg.CONST_SIZE_OR_ZERO,
                Arg.ANYTHING);
        def(131, "bpf_ringbuf_reserve", Ret.RINGBUF_MEM_OR_NULL, Arg.CONST_MAP_PTR, Arg.CONST_ALLOC_SIZE_OR_ZERO,
                Arg.ANYTHING);
        def(132, "bpf_ringbuf_submit", Ret.VOID, Arg.RELEASE_RINGBUF_MEM, Arg.ANYTHING);
        def(133, "bpf_ringbuf_discard", Ret.VOID, Arg.RELEASE_RINGBUF_MEM, Arg.ANYTHING);
        def(134, "bpf_ringbuf_query", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.ANYTHING);
        // bpf_trace_printk checks only the format: its three values are ARG_DONTCARE, never read
        def(6, "bpf_trace_printk", Ret.INTEGER, Arg.PTR_TO_MEM_RDONLY, Arg.CONST_SIZE);
        def(112, "bpf_probe_read_user", Ret.INTEGER, Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE_OR_ZERO, Arg.ANYTHING);
        def(113, "bpf_probe_read_kernel", Ret.INTEGER, Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE_OR_ZERO, Arg.ANYTHING);
        def(176, "bpf_get_branch_snapshot", Ret.INTEGER, Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE_OR_ZERO, Arg.ANYTHING);
        def(114, "bpf_probe_read_user_str", Ret.INTEGER, Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE_OR_ZERO, Arg.ANYTHING);
        def(115, "bpf_probe_read_kernel_str", Ret.INTEGER, Arg.PTR_TO_UNINIT_MEM, Arg.CONST_SIZE_OR_ZERO,
                Arg.ANYTHING);
        def(120, "bpf_get_ns_current_pid_tgid", Ret.INTEGER, Arg.ANYTHING, Arg.ANYTHING, Arg.PTR_TO_UNINIT_MEM,
                Arg.CONST_SIZE);
        def(105, "bpf_strtol", Ret.INTEGER, Arg.PTR_TO_MEM_RDONLY, Arg.CONST_SIZE, Arg.ANYTHING,
                Arg.PTR_TO_ALIGNED_LONG);
        def(106, "bpf_strtoul", Ret.INTEGER, Arg.PTR_TO_MEM_RDONLY, Arg.CONST_SIZE, Arg.ANYTHING,
                Arg.PTR_TO_ALIGNED_LONG);
        // the format is checked at load (CheckHelperCall.checkSnprintfCall), the arguments at run time
        def(165, "bpf_snprintf", Ret.INTEGER, Arg.PTR_TO_MEM_OR_NULL, Arg.CONST_SIZE_OR_ZERO, Arg.PTR_TO_CONST_STR,
                Arg.PTR_TO_MEM_OR_NULL_RDONLY, Arg.CONST_SIZE_OR_ZERO);
        def(177, "bpf_trace_vprintk", Ret.INTEGER, Arg.PTR_TO_MEM_RDONLY, Arg.CONST_SIZE, Arg.PTR_TO_MEM_OR_NULL_RDONLY,
                Arg.CONST_SIZE_OR_ZERO);
        def(182, "bpf_strncmp", Ret.INTEGER, Arg.PTR_TO_MEM_RDONLY, Arg.CONST_SIZE, Arg.PTR_TO_CONST_STR);
        // socket options (sock_ops and sock_addr give the same argument checks)
        def(49, "bpf_setsockopt", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.ANYTHING, Arg.ANYTHING, Arg.PTR_TO_MEM_RDONLY,
                Arg.CONST_SIZE);
        def(57, "bpf_getsockopt", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.ANYTHING, Arg.ANYTHING, Arg.PTR_TO_UNINIT_MEM,
                Arg.CONST_SIZE);
        def(59, "bpf_sock_ops_cb_flags_set", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.ANYTHING);
        // sock_ops puts its socket into a sockmap or sockhash (check_map_func_compatibility pairs them)
        def(53, "bpf_sock_map_update", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_KEY, Arg.ANYTHING);
        def(70, "bpf_sock_hash_update", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_KEY,
                Arg.ANYTHING);
        // helpers that take one map type each: a program array, a cgroup array (check_map_func_compatibility
        // refuses any other map), and a perf event array, which the engine has not, so that one
        // always ends in the kernel's refusal
        def(12, "bpf_tail_call", Ret.VOID, Arg.PTR_TO_CTX, Arg.CONST_MAP_PTR, Arg.ANYTHING);
        def(25, "bpf_perf_event_output", Ret.INTEGER, Arg.PTR_TO_CTX, Arg.CONST_MAP_PTR, Arg.ANYTHING,
                Arg.PTR_TO_MEM_RDONLY, Arg.CONST_SIZE_OR_ZERO);
        def(37, "bpf_current_task_under_cgroup", Ret.INTEGER, Arg.CONST_MAP_PTR, Arg.ANYTHING);
        def(195, "bpf_map_lookup_percpu_elem", Ret.MAP_VALUE_OR_NULL, Arg.CONST_MAP_PTR, Arg.PTR_TO_MAP_KEY,
                Arg.ANYTHING);
    }

    /** is_acquire_function: R0 carries a new reference that must be released before exit. */
    static boolean acquires(int id) {
        return id == 84 || id == 85 || id == 99 || id == 131;
    }

    /**
     * is_ptr_cast_function: R0 is another view of the argument's socket and shares its reference
     * (bpf_get_listener_sock is not one: the listener needs no release).
     */
    static boolean castsPointer(int id) {
        return id == 95 || id == 96;
    }

    /** bpf_func_proto.pkt_access: may take packet memory (in program types with direct packet reads). */
    static boolean pktAccess(int id) {
        // bpf_map_push_elem reads its value from a packet; pop and peek may not write one (asked of 6.18)
        return id == 1 || id == 2 || id == 3 || id == 84 || id == 85 || id == 87 || id == 99;
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
        ARG1_EXPECTED.put(22, "map_ptr");
        ARG1_EXPECTED.put(53, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(55, "map_ptr");
        ARG1_EXPECTED.put(70, null); // takes ctx (or anything) first, then R2
        ARG1_EXPECTED.put(93, "map_value, ptr_");
        ARG1_EXPECTED.put(94, "map_value, ptr_");
        ARG1_EXPECTED.put(107, "map_ptr");
        ARG1_EXPECTED.put(108, "map_ptr");
        ARG1_EXPECTED.put(136, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(137, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(138, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(139, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(140, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(141, "ptr_, trusted_ptr_, rcu_ptr_");
        ARG1_EXPECTED.put(149, "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
        ARG1_EXPECTED.put(153, "percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_");
        ARG1_EXPECTED.put(154, "percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_");
        ARG1_EXPECTED.put(156, "map_ptr");
        ARG1_EXPECTED.put(157, "map_ptr");
        ARG1_EXPECTED.put(169, "map_value");
        ARG1_EXPECTED.put(170, "map_value");
        ARG1_EXPECTED.put(171, "map_value");
        ARG1_EXPECTED.put(172, "map_value");
        ARG1_EXPECTED.put(175, "ptr_, trusted_ptr_, rcu_ptr_");
        ARG1_EXPECTED.put(178, "sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_");
        ARG1_EXPECTED.put(180, "ptr_, trusted_ptr_, rcu_ptr_");
        ARG1_EXPECTED.put(194, "map_value, ptr_");
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

    /**
     * is_sync_callback_calling_insn: helpers that call a callback before they return (bpf_loop,
     * for_each_map_elem, find_vma, user_ringbuf_drain). check_cfg makes such a call a prune point
     * with a forced checkpoint, even though without BTF func_info no callback ever gets that far.
     */
    static boolean callsCallback(Insn insn) {
        int id = insn.imm();
        return insn.code() == (Opcodes.JMP | Opcodes.CALL) && insn.src() == 0
                && (id == 164 || id == 180 || id == 181 || id == 209);
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
