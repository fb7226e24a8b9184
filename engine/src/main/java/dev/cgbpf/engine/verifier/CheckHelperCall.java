package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static dev.cgbpf.engine.verifier.CheckRegArg.*;
import static dev.cgbpf.engine.verifier.VerifierState.*;

import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.interp.Bprintf;
import dev.cgbpf.engine.isa.HelperIds;
import dev.cgbpf.engine.isa.Insn;

/**
 * check_helper_call: the helper id exists and the program type may call it
 * ({@link HelperAllowlist}), each argument register holds what the prototype
 * ({@link HelperProto}) asks for, R1-R5 are unreadable afterwards and R0 holds the result.
 */
final class CheckHelperCall {
    private final VerifierEnv env;
    private final CheckMemAccess mem;
    private final CheckDynptr dynptrs;

    CheckHelperCall(VerifierEnv env, CheckMemAccess mem) {
        this.env = env;
        this.mem = mem;
        this.dynptrs = new CheckDynptr(env, mem);
    }


    void checkHelperCall(int idx, Insn insn, VerifierState st) throws VerifierError {
        if (insn.src() == PSEUDO_CALL) {
            // DoCheck enters subprogram calls itself; reaching here is a bug in the caller
            throw new IllegalStateException("bpf-to-bpf call at " + idx + " passed to the helper check");
        }
        if (insn.src() == PSEUDO_KFUNC_CALL) {
            throw VerifierError.einval("engine: kfunc calls are not supported");
        }
        int id = insn.imm();
        String name = HelperIds.name(id).orElse("unknown");
        if (id < 0 || id >= HelperIds.maxId()) {
            throw VerifierError.einval("invalid func " + name + "#" + id);
        }
        if (!HelperAllowlist.allowed(env.type, env.attach, id)) {
            throw VerifierError.einval("program of this type cannot use helper " + name + "#" + id);
        }
        if (!env.gplCompatible && HelperGplOnly.contains(id)) {
            throw VerifierError.einval("cannot call GPL-restricted function from non-GPL compatible program");
        }
        HelperProto proto = HelperProto.of(id);
        if (proto == null && HelperProto.mightSleep(id)) {
            throw VerifierError.einval("helper call might sleep in a non-sleepable prog");
        }
        if (proto == null && HelperProto.knowsArg1(id)) {
            // the kernel checks the first argument first: reproduce that check, then give up
            checkRegRead(st, 1);
            RegState r1 = st.regs[1];
            String expected = HelperProto.arg1Expected(id);
            if (expected == null) {
                checkRegRead(st, 2);
            } else {
                boolean ok = switch (expected) {
                    case "map_ptr" -> r1.type() == RegType.CONST_PTR_TO_MAP && !r1.maybeNull();
                    case "map_value" -> r1.type() == RegType.PTR_TO_MAP_VALUE && !r1.maybeNull();
                    case HelperProto.MEM_TYPES -> r1.type() == RegType.PTR_TO_STACK || r1.type().isPacket()
                            || r1.type() == RegType.PTR_TO_MAP_VALUE && !r1.maybeNull();
                    default -> r1.type().isSocket() && !r1.maybeNull() || r1.type() == RegType.PTR_TO_MAP_VALUE
                            && expected.startsWith("map_value");
                };
                expect(r1, 1, ok, expected);
            }
        }
        if (proto == null) {
            throw VerifierError.einval("engine: helper " + name + "#" + id + " is not modelled by the engine verifier");
        }
        CallArgs meta = new CallArgs();
        meta.insnIdx = idx;
        for (int i = 0; i < proto.args().size(); i++) {
            checkFuncArg(st, proto, id, i, meta);
        }
        MapSpec map = meta.map;
        if (id == TAIL_CALL && map.type() != MapType.PROG_ARRAY) {
            // record_func_key (the kernel's line has no newline)
            throw VerifierError.unterminated(Errno.EINVAL, "expected prog array map for tail call");
        }
        if (map != null && (map.flags() & CheckMemAccess.BPF_F_RDONLY_PROG) != 0 && writesMap(id)) {
            // record_func_map: a map read-only for programs takes no update, delete, push or pop
            throw VerifierError.eacces("write into map forbidden");
        }
        if (meta.releaseRegno != 0 && proto.args().get(meta.releaseRegno - 1).isDynptr()) {
            dynptrs.release(st, meta.releaseRegno);
        } else if (meta.releaseRegno != 0) {
            boolean released = meta.refObjId != 0 ? CheckReferences.release(st, meta.refObjId)
                    : st.regs[meta.releaseRegno].isNullConst();
            if (!released) {
                throw VerifierError.einval("func " + name + "#" + id + " reference has not been acquired before");
            }
        }
        if (id == DYNPTR_FROM_MEM && st.regs[1].type() != RegType.PTR_TO_MAP_VALUE) {
            throw VerifierError.eacces("Unsupported reg type " + st.regs[1].typeName() + " for bpf_dynptr_from_mem data");
        }
        if (id == SNPRINTF) {
            checkSnprintfCall(st);
        }
        if (id == GET_LOCAL_STORAGE && !st.regs[2].isNullConst()) {
            throw VerifierError.einval("get_local_storage() doesn't support non-zero flags");
        }
        if (id == TAIL_CALL) {
            // check_resource_leak: the target never returns here to release anything
            CheckReferences.checkLeak(st, "tail_call");
        }
        // bpf_map_lookup_elem only: bpf_map_lookup_percpu_elem may still return NULL for its cpu
        boolean constKeyHit = id == MAP_LOOKUP_ELEM && map != null && constArrayKeyInBounds(st, map);
        for (int r = 1; r <= 5; r++) {
            st.regs[r] = RegState.NOT_INIT;
        }
        if (id == STORE_HDR_OPT) {
            // bpf_helper_changes_pkt_data: the option moved skb_data_end, so clear_all_pkt_pointers
            // makes every packet pointer an unknown scalar (root: mark_reg_invalid)
            st.mapAllRegs(r -> r.type().isPacket() || r.type() == RegType.PTR_TO_PACKET_END ? RegState.UNKNOWN : r);
        }
        RegState r0 = switch (proto.ret()) {
            case INTEGER -> RegState.scalar(refineRetval(id, meta));
            case VOID -> RegState.NOT_INIT;
            // a sockmap's or sockhash's value is a socket: mark_ptr_or_null_reg makes it PTR_TO_SOCKET
            case MAP_VALUE_OR_NULL -> id == MAP_LOOKUP_ELEM && map.type().holdsSockets()
                    ? maybeNull(RegType.PTR_TO_SOCKET, 0)
                    : constKeyHit
                    ? new RegState(RegType.PTR_TO_MAP_VALUE, false, 0, Scalar.constant(0), 0, 0, map, meta.mapFd)
                    : new RegState(RegType.PTR_TO_MAP_VALUE, true, 0, Scalar.constant(0), env.nextId(), 0, map, meta.mapFd);
            case MAP_VALUE -> new RegState(RegType.PTR_TO_MAP_VALUE, false, 0, Scalar.constant(0), 0, 0, map, meta.mapFd);
            case BTF_PTR -> RegState.pointer(RegType.PTR_TO_BTF_ID, 0);
            case SOCKET_OR_NULL -> maybeNull(RegType.PTR_TO_SOCKET, 0);
            case SOCK_COMMON_OR_NULL -> maybeNull(RegType.PTR_TO_SOCK_COMMON, 0);
            case TCP_SOCK_OR_NULL -> maybeNull(RegType.PTR_TO_TCP_SOCK, 0);
            case RINGBUF_MEM_OR_NULL -> maybeNull(RegType.PTR_TO_RINGBUF_MEM, meta.memSize);
            // the slice dies with its dynptr: with its reference (ring buffer) or when overwritten (local)
            case DYNPTR_MEM_OR_NULL -> maybeNull(RegType.PTR_TO_MEM, meta.memSize).withRefObjId(meta.dynptr.refObjId())
                    .withDynptrId(meta.dynptr.id());
        };
        if (HelperProto.castsPointer(id)) {
            r0 = r0.withRefObjId(meta.refObjId); // for release_reference: the cast dies with its socket
        } else if (HelperProto.acquires(id) || id == MAP_LOOKUP_ELEM && map.type().holdsSockets()) {
            // is_acquire_function: a sockmap lookup takes a reference on the socket
            int ref = CheckReferences.acquire(env, st, idx);
            r0 = r0.withId(ref).withRefObjId(ref); // the null check then drops the reference on NULL
        }
        st.regs[0] = r0;
        checkMapFuncCompatibility(map, id, name);
    }

    /** struct bpf_call_arg_meta: what the argument checks learn for the rest of the call. */
    private static final class CallArgs {
        MapSpec map;
        /** the fd the map was loaded by: a value pointer into it keeps it (a read-only map's contents, check_reg_const_str) */
        int mapFd;
        /** the register passed to an OBJ_RELEASE argument, 0 when none */
        int releaseRegno;
        /** the reference the arguments carry */
        int refObjId;
        /** ARG_CONST_ALLOC_SIZE_OR_ZERO: the size of the memory R0 points to */
        int memSize;
        /** the largest size a size argument allows (msize_max_value) */
        long msizeMax;
        /** the call instruction, where a reference the call acquires was allocated */
        int insnIdx;
        /** the initialized dynptr an argument points to */
        DynptrSlot dynptr;
    }

    /** A fresh maybe-null pointer (RET_PTR_TO_*_OR_NULL: every copy learns from one NULL check). */
    private RegState maybeNull(RegType t, int memSize) {
        return new RegState(t, true, 0, Scalar.constant(0), env.nextId(), memSize, null, 0);
    }

    /** BPF_FUNC_tail_call */
    static final int TAIL_CALL = 12;
    private static final int MAX_ERRNO = 4095;

    /**
     * do_refine_retval_range: the *_str probes return -errno or at most the buffer size; the CPU
     * number is below nr_cpu_ids. Other helpers return anything.
     */
    private static Scalar refineRetval(int id, CallArgs meta) {
        return switch (id) {
            case SMP_PROCESSOR_ID -> Scalar.fromUnsigned(0, NrCpuIds.get() - 1);
            case PROBE_READ_USER_STR, PROBE_READ_KERNEL_STR -> new Scalar(Tnum.UNKNOWN, -MAX_ERRNO, meta.msizeMax, 0, -1L,
                    -MAX_ERRNO, (int) meta.msizeMax, 0, -1).sync();
            default -> Scalar.UNKNOWN;
        };
    }

    private static final int PROBE_READ_USER_STR = 114;
    private static final int STORE_HDR_OPT = 143;
    private static final int PROBE_READ_KERNEL_STR = 115;

    /** check_func_arg: argument {@code i} of the prototype against register R(i+1). */
    private void checkFuncArg(VerifierState st, HelperProto proto, int id, int i, CallArgs meta) throws VerifierError {
        int regno = i + 1;
        HelperProto.Arg arg = resolveMapArgType(proto.args().get(i), meta);
        checkRegRead(st, regno);
        RegState r = st.regs[regno];
        if (arg == HelperProto.Arg.ANYTHING) {
            return; // root may pass pointers as plain values
        }
        if (r.type().isPacket() && !(env.type == ProgType.CGROUP_SKB && HelperProto.pktAccess(id))) {
            // may_access_direct_pkt_data: only cgroup_skb reads packets directly, and only helpers
            // declared with pkt_access take packet memory there
            throw VerifierError.eacces("helper access to the packet is not allowed");
        }
        if (!(arg.mayBeNull() && r.isNullConst())) {
            // check_reg_type: a maybe-null pointer matches only an argument that may be NULL
            expect(r, regno, (!r.maybeNull() || arg.mayBeNull()) && arg.accepts(r.type()), arg.expected());
            if (r.type() == RegType.PTR_TO_BTF_ID) {
                checkBtfArg(r, regno, arg, proto);
            }
            checkArgRegOff(r, regno, arg);
            if (arg.releases() && arg.isDynptr()) {
                CheckDynptr.checkReleasable(st, regno);
            } else if (arg.releases() && r.refObjId() == 0) {
                throw VerifierError.einval("R" + regno + " must be referenced when passed to release function");
            }
        }
        if (arg.releases()) {
            meta.releaseRegno = regno;
        }
        if (r.refObjId() != 0) {
            meta.refObjId = r.refObjId();
        }
        switch (arg) {
            case CONST_MAP_PTR -> {
                meta.map = r.map();
                meta.mapFd = r.mapFd();
            }
            case PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE, PTR_TO_UNINIT_MAP_VALUE -> {
                if (meta.map == null) {
                    throw VerifierError.eacces("invalid map_ptr to access map->"
                            + (arg == HelperProto.Arg.PTR_TO_MAP_KEY ? "key" : "value"));
                }
                int size = arg == HelperProto.Arg.PTR_TO_MAP_KEY ? meta.map.keySize() : meta.map.valueSize();
                boolean write = arg == HelperProto.Arg.PTR_TO_UNINIT_MAP_VALUE;
                helperMem(st, regno, size, write, false);
                if (write) {
                    // raw mode: the stack bytes need not be initialised and are STACK_MISC afterwards
                    markWritten(st, regno, size, r.val().isConst());
                }
            }
            case CONST_SIZE, CONST_SIZE_OR_ZERO -> {
                Scalar v = r.val();
                meta.msizeMax = v.umax();
                if (v.smin() < 0) {
                    throw VerifierError.eacces("R" + regno + " min value is negative, either use unsigned or 'var &= const'");
                }
                boolean zeroOk = arg == HelperProto.Arg.CONST_SIZE_OR_ZERO;
                if (v.umin() == 0 && !zeroOk) {
                    throw VerifierError.eacces("R" + regno + " invalid zero-sized read: u64=[" + v.umin() + "," + v.umax() + "]");
                }
                if (Long.compareUnsigned(v.umax(), DoCheck.MAX_VAR_OFF) >= 0) {
                    throw VerifierError.eacces("R" + regno + " unbounded memory access, use 'var &= const' or 'if (var < const)'");
                }
                HelperProto.Arg mem = proto.args().get(i - 1);
                boolean write = mem == HelperProto.Arg.PTR_TO_UNINIT_MEM || mem == HelperProto.Arg.PTR_TO_MEM_OR_NULL;
                helperMem(st, regno - 1, (int) v.umax(), write, zeroOk);
                if (write) {
                    markWritten(st, regno - 1, (int) v.umax(), v.isConst());
                }
            }
            case CONST_ALLOC_SIZE_OR_ZERO -> {
                if (!r.val().isConst()) {
                    throw VerifierError.eacces("R" + regno + " is not a known constant'");
                }
                meta.memSize = (int) r.val().constValue();
            }
            case PTR_TO_CONST_STR -> checkRegConstStr(r, regno);
            case DYNPTR_UNINIT_LOCAL -> dynptrs.makeDynptr(st, meta.insnIdx, regno, DynptrSlot.Kind.LOCAL);
            case DYNPTR_UNINIT_RINGBUF -> dynptrs.makeDynptr(st, meta.insnIdx, regno, DynptrSlot.Kind.RINGBUF);
            case DYNPTR, RELEASE_DYNPTR_RINGBUF -> meta.dynptr = dynptrs.initialized(st, regno);
            case PTR_TO_ALIGNED_LONG -> {
                helperMem(st, regno, 8, true, false);
                checkStrictAlignment(r, 8);
                markWritten(st, regno, 8, true);
            }
            default -> {
            }
        }
    }

    /**
     * resolve_map_arg_type: a sockmap's or sockhash's value is a socket, so a value a helper reads
     * is a socket pointer (ARG_PTR_TO_BTF_ID_SOCK_COMMON), and one it writes (pop, peek) has no
     * meaning: EINVAL.
     */
    private static HelperProto.Arg resolveMapArgType(HelperProto.Arg arg, CallArgs meta) throws VerifierError {
        boolean value = arg == HelperProto.Arg.PTR_TO_MAP_VALUE || arg == HelperProto.Arg.PTR_TO_UNINIT_MAP_VALUE;
        if (!value || meta.map == null || !meta.map.type().holdsSockets()) {
            return arg;
        }
        if (arg == HelperProto.Arg.PTR_TO_UNINIT_MAP_VALUE) {
            throw VerifierError.einval("invalid arg_type for sockmap/sockhash");
        }
        return HelperProto.Arg.PTR_TO_BTF_ID_SOCK_COMMON;
    }

    /**
     * A task_struct BTF pointer where check_reg_type let a BTF pointer through: a socket argument
     * wants sock_common's BTF id, memory a helper writes (and any map key or value) must be
     * writable; other memory a helper reads is checked against task_struct's BTF layout, which the
     * engine lacks.
     */
    private static void checkBtfArg(RegState r, int regno, HelperProto.Arg arg, HelperProto proto) throws VerifierError {
        switch (arg) {
            case PTR_TO_BTF_ID_SOCK_COMMON, RELEASE_SOCK_COMMON -> throw VerifierError.eacces(
                    "R" + regno + " is of type " + RegType.BTF_TASK_STRUCT + " but sock_common is expected");
            // 6.18 says so for every map key and value argument, those the helper only reads included
            case PTR_TO_UNINIT_MEM, PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE, PTR_TO_UNINIT_MAP_VALUE, PTR_TO_ALIGNED_LONG ->
                    throw VerifierError.eacces(proto.name() + "() may write into memory pointed by R" + regno
                            + " type=" + r.typeName());
            default -> throw VerifierError.einval("engine: helper memory in " + RegType.BTF_TASK_STRUCT
                    + " needs the kernel's BTF, which the engine verifier does not model");
        }
    }

    /**
     * check_func_arg_reg_off: memory pointers may carry any offset, a released pointer none at
     * all, every other pointer only its unmodified form.
     */
    private static void checkArgRegOff(RegState r, int regno, HelperProto.Arg arg) throws VerifierError {
        if (arg.releases() && !arg.isDynptr()) {
            // a dynptr is released through a stack pointer, which may carry any offset
            if (r.off() != 0) {
                throw VerifierError.einval("R" + regno + " must have zero offset when passed to release func or trusted arg to kfunc");
            }
            CheckMemAccess.checkCtxPtrOff(r, regno);
            return;
        }
        switch (r.type()) {
            case SCALAR, PTR_TO_STACK, PTR_TO_PACKET, PTR_TO_PACKET_META, PTR_TO_MAP_VALUE, PTR_TO_RINGBUF_MEM, PTR_TO_MEM -> {
            }
            default -> CheckMemAccess.checkCtxPtrOff(r, regno);
        }
    }

    /**
     * check_ptr_alignment with strict alignment (MEM_ALIGNED arguments): the address, counted from
     * the pointer's known bits and fixed offset, is a multiple of {@code size}.
     */
    private static void checkStrictAlignment(RegState r, int size) throws VerifierError {
        Tnum at = r.val().var().add(Tnum.constant(r.off()));
        if (at.isAligned(size)) {
            return;
        }
        String kind = switch (r.type()) {
            case PTR_TO_STACK -> "stack ";
            case PTR_TO_MAP_VALUE -> "value ";
            default -> "";
        };
        String var = r.val().isConst() ? StatePrinter.udec(r.val().constValue()) : r.val().var().toString();
        throw VerifierError.eacces("misaligned " + kind + "access off " + var + "+" + r.off() + "+0 size " + size);
    }

    private static final int GET_LOCAL_STORAGE = 81;
    private static final int SNPRINTF = 165;

    /**
     * check_bpf_snprintf_call: data_len (R5) must be a multiple of 8 (EINVAL without a line of
     * its own), and the format (R3, a string check_reg_const_str found in a frozen map) must
     * pass bpf_bprintf_prepare with data_len / 8 arguments, else EINVAL "Invalid format string".
     * The kernel reads R5's known bits (var_off.value), whatever its bounds. Then the engine's
     * own refusal: a conversion that prints a kernel address, which the engine does not have.
     */
    private void checkSnprintfCall(VerifierState st) throws VerifierError {
        long dataLen = st.regs[5].val().var().value();
        if (dataLen % 8 != 0) {
            throw VerifierError.unterminated(Errno.EINVAL, "");
        }
        RegState fmt = st.regs[3];
        byte[] value = env.readOnlyValues.apply(fmt.mapFd());
        int off = (int) (fmt.off() + fmt.val().constValue());
        int end = off;
        while (value[end] != 0) {
            end++; // check_reg_const_str found the NUL
        }
        byte[] format = java.util.Arrays.copyOfRange(value, off, end);
        if (Bprintf.check(format, (int) Math.min(dataLen / 8, Integer.MAX_VALUE)) < 0) {
            throw VerifierError.einval("Invalid format string");
        }
        String address = Bprintf.addressConversion(format);
        if (address != null) {
            throw VerifierError.einval("engine: bpf_snprintf#165 conversion " + address
                    + " prints a kernel address (hashed, raw or as a symbol), which the engine does not have");
        }
    }

    /**
     * The kernel's check_map_func_compatibility, for the map types the engine has: cgroup storage
     * maps go only to bpf_get_local_storage, ring buffers only to the bpf_ringbuf_* helpers
     * that take a map, queues and stacks only to bpf_map_push/pop/peek_elem, and those helpers
     * take nothing else (the kernel's bloom filter, also taken by push and peek, the engine lacks);
     * likewise a program array and bpf_tail_call, a cgroup array and
     * bpf_current_task_under_cgroup (skb_under_cgroup, which also takes one, no cgroup program
     * type may call). bpf_map_lookup_percpu_elem takes a per-CPU array or hash only (not the
     * per-CPU cgroup storage); a perf event array goes to bpf_perf_event_output, _read and
     * _read_value only, and they take nothing else (skb_output and xdp_output, which also take
     * one, no cgroup program type may call).
     */
    private void checkMapFuncCompatibility(MapSpec map, int id, String name) throws VerifierError {
        if (map == null) {
            return;
        }
        boolean storage = map.type() == MapType.CGROUP_STORAGE || map.type() == MapType.PERCPU_CGROUP_STORAGE;
        boolean ringbuf = map.type() == MapType.RINGBUF;
        boolean ringbufHelper = id == RINGBUF_OUTPUT || id == RINGBUF_RESERVE || id == RINGBUF_QUERY
                || id == RINGBUF_RESERVE_DYNPTR;
        boolean queueStack = map.type() == MapType.QUEUE || map.type() == MapType.STACK;
        boolean queueStackHelper = id == MAP_PUSH_ELEM || id == MAP_POP_ELEM || id == MAP_PEEK_ELEM;
        boolean progArray = map.type() == MapType.PROG_ARRAY;
        boolean cgroupArray = map.type() == MapType.CGROUP_ARRAY;
        boolean percpuArrayOrHash = map.type() == MapType.PERCPU_ARRAY || map.type() == MapType.PERCPU_HASH
                || map.type() == MapType.LRU_PERCPU_HASH;
        boolean perfArray = map.type() == MapType.PERF_EVENT_ARRAY;
        boolean perfHelper = id == PERF_EVENT_OUTPUT || id == PERF_EVENT_READ || id == PERF_EVENT_READ_VALUE;
        if (map.type().holdsSockets() != (id == SOCK_MAP_UPDATE || id == SOCK_HASH_UPDATE)
                && !(map.type().holdsSockets() && (id == MAP_LOOKUP_ELEM || mayUpdateSockmap(id)))
                || id == SOCK_MAP_UPDATE && map.type() != MapType.SOCKMAP
                || id == SOCK_HASH_UPDATE && map.type() != MapType.SOCKHASH
                || storage != (id == GET_LOCAL_STORAGE) || ringbuf != ringbufHelper || queueStack != queueStackHelper
                || perfArray != perfHelper || id == MAP_LOOKUP_PERCPU_ELEM && !percpuArrayOrHash
                || progArray != (id == TAIL_CALL) || cgroupArray != (id == CURRENT_TASK_UNDER_CGROUP)) {
            throw VerifierError.einval("cannot pass map_type " + map.type().value() + " into func " + name + "#" + id);
        }
    }

    /**
     * may_update_sockmap for the engine's program types: of the cgroup ones only sock_ops may,
     * and only delete (its updates go through the sock_ops helpers, which check the callback).
     */
    private boolean mayUpdateSockmap(int id) {
        return id == MAP_DELETE_ELEM && env.type == ProgType.SOCK_OPS;
    }

    private static final int SOCK_MAP_UPDATE = 53;
    private static final int SOCK_HASH_UPDATE = 70;
    private static final int MAP_LOOKUP_ELEM = 1;
    private static final int MAP_UPDATE_ELEM = 2;
    private static final int MAP_DELETE_ELEM = 3;
    private static final int MAP_PUSH_ELEM = 87;
    private static final int MAP_POP_ELEM = 88;
    private static final int MAP_PEEK_ELEM = 89;

    /** The helpers record_func_map counts as writing the map. */
    private static boolean writesMap(int id) {
        return id == MAP_UPDATE_ELEM || id == MAP_DELETE_ELEM || id == MAP_PUSH_ELEM || id == MAP_POP_ELEM;
    }

    private static final int MAP_LOOKUP_PERCPU_ELEM = 195;
    private static final int PERF_EVENT_READ = 22;
    private static final int PERF_EVENT_OUTPUT = 25;
    private static final int PERF_EVENT_READ_VALUE = 55;
    private static final int CURRENT_TASK_UNDER_CGROUP = 37;
    private static final int RINGBUF_OUTPUT = 130;
    private static final int RINGBUF_RESERVE = 131;
    private static final int RINGBUF_QUERY = 134;
    private static final int DYNPTR_FROM_MEM = 197;
    private static final int RINGBUF_RESERVE_DYNPTR = 198;

    private static final int SMP_PROCESSOR_ID = 8;

    /**
     * A lookup in an array map, per-CPU or not (can_elide_value_nullness), with a key the verifier
     * knows and that is below max_entries cannot fail (6.18: the key register's stack bytes hold a
     * constant spilled with the key's size, or zeros).
     */
    private static boolean constArrayKeyInBounds(VerifierState st, MapSpec map) {
        if (map.type() != MapType.ARRAY && map.type() != MapType.PERCPU_ARRAY) {
            return false;
        }
        // R2 is NOT_INIT again only after the call; this runs before the argument registers are reset
        RegState key = st.regs[2];
        if (key.type() != RegType.PTR_TO_STACK || !key.val().isConst()) {
            return false;
        }
        FuncState frame = st.stackOf(key); // the key may sit in a caller's stack
        int at = (int) (key.val().constValue() + key.off() + MAX_BPF_STACK);
        if (at < 0 || at + map.keySize() > MAX_BPF_STACK) {
            return false;
        }
        // get_constant_map_key: zeros from the key's first byte up to the end of its slot, or a constant
        // spilled with exactly the key's size; the constant is the whole spilled register, as in the kernel
        long value;
        int slot = at / 8;
        if (at % 8 == 0 && frame.spill[slot] != null && frame.spillSize[slot] == map.keySize() && frame.spill[slot].isConst()) {
            value = frame.spill[slot].val().constValue();
        } else {
            if (at % 8 + map.keySize() > 8) {
                return false;
            }
            for (int i = 0; i < map.keySize(); i++) {
                if (frame.stype[at + i] != STACK_ZERO) {
                    return false;
                }
            }
            value = 0;
        }
        return Long.compareUnsigned(value, map.maxEntries()) < 0;
    }

    private static void expect(RegState r, int regno, boolean ok, String expected) throws VerifierError {
        if (!ok) {
            throw VerifierError.eacces("R" + regno + " type=" + r.typeName() + " expected=" + expected);
        }
    }

    /**
     * check_reg_const_str: the string must sit in a map that is frozen and BPF_F_RDONLY_PROG (so
     * that it cannot change after this check), at a constant offset, in a map type whose value has
     * a direct address (an array of one element), and end with a NUL inside the value.
     */
    private void checkRegConstStr(RegState r, int regno) throws VerifierError {
        byte[] value = env.readOnlyValues.apply(r.mapFd());
        if (value == null) {
            throw VerifierError.eacces("R" + regno + " does not point to a readonly map'");
        }
        if (!r.val().isConst()) {
            throw VerifierError.eacces("R" + regno + " is not a constant address'");
        }
        if (r.map().type() != MapType.ARRAY) {
            throw VerifierError.eacces("no direct value access support for this map type");
        }
        int size = r.map().valueSize();
        mem.mapValueAccess(regno, r, r.off(), size - r.off(), true);
        long off = r.off() + r.val().constValue();
        if (r.map().maxEntries() != 1 || off >= size) {
            // array_map_direct_value_addr: only a one-element array has one address for its value
            throw new VerifierError(r.map().maxEntries() != 1 ? Errno.ENOTSUPP : Errno.EINVAL,
                    "direct value access on string failed");
        }
        for (int i = (int) off; i < size; i++) {
            if (value[i] == 0) {
                return;
            }
        }
        throw VerifierError.einval("string is not zero-terminated");
    }

    /**
     * check_helper_mem_access: {@code size} bytes at the pointer in {@code regno} must be
     * accessible; {@code zeroSizeAllowed} for a size argument that may be 0 (ARG_CONST_SIZE_OR_ZERO).
     */
    private void helperMem(VerifierState st, int regno, int size, boolean write, boolean zeroSizeAllowed)
            throws VerifierError {
        RegState r = st.regs[regno];
        switch (r.type()) {
            case PTR_TO_STACK -> {
                if (size == 0) {
                    if (!zeroSizeAllowed) {
                        throw VerifierError.eacces("invalid zero-sized read"); // a map with key_size 0: a ring buffer
                    }
                    return;
                }
                mem.stackBounds(regno, r, r.off(), size, write ? " write to" : " read from");
                FuncState frame = st.stackOf(r);
                long lo = r.val().smin() + r.off() + MAX_BPF_STACK;
                long hi = r.val().smax() + r.off() + size + MAX_BPF_STACK;
                if (write && r.val().isConst()) {
                    CheckDynptr.checkHelperWrite(frame, lo, hi);
                } else {
                    // at a variable offset the kernel checks memory a helper writes as read
                    CheckDynptr.checkRangeRead(frame, regno, r, lo, hi, size);
                }
            }
            case PTR_TO_PACKET, PTR_TO_PACKET_META -> mem.packetAccess(regno, r, r.off(), size);
            case PTR_TO_MAP_VALUE -> {
                CheckMemAccess.checkMapAccessType(r, r.off(), size, write);
                if (size == 0 && zeroSizeAllowed) {
                    // check_map_access with zero_size_allowed: the offset may sit at the very end
                    CheckMemRegion.check(regno, r, r.off(), 0, r.map().valueSize(), true, "map value, value_size=");
                } else {
                    mem.mapValueAccess(regno, r, r.off(), size, true);
                }
            }
            case PTR_TO_RINGBUF_MEM, PTR_TO_MEM -> CheckMemRegion.check(regno, r, r.off(), size, r.range(), zeroSizeAllowed,
                    "memory, mem_size=");
            case SCALAR -> {
                // NULL where the argument may be NULL: only with a size that may be and is zero
                if (!(zeroSizeAllowed && size == 0 && r.isNullConst())) {
                    throw VerifierError.eacces("R" + regno + " type=scalar expected=fp");
                }
            }
            default -> {
            }
        }
    }

    /**
     * Marks the stack bytes a helper writes as STACK_MISC. The kernel writes a buffer of constant
     * size at a fixed offset byte by byte (check_mem_access), which marks the slots for the log,
     * whichever frame's stack it is; a variable size or offset it only checks as a read and marks
     * nothing (so the engine, which still forgets what the bytes held, shows nothing either).
     */
    private void markWritten(VerifierState st, int regno, int size, boolean constSize) {
        RegState r = st.regs[regno];
        if (r.type() != RegType.PTR_TO_STACK) {
            return;
        }
        FuncState frame = st.stackOf(r); // the memory may be a caller's stack
        long lo = r.val().smin() + r.off() + MAX_BPF_STACK;
        long hi = r.val().smax() + r.off() + size + MAX_BPF_STACK;
        for (long b = Math.max(0, lo); b < Math.min(MAX_BPF_STACK, hi); b++) {
            frame.stype[(int) b] = STACK_MISC;
            CheckMemAccess.clearSlot(frame, (int) b / 8);
            if (constSize && r.val().isConst()) {
                env.scratchedStack |= 1L << ((int) b / 8);
            }
        }
    }
}
