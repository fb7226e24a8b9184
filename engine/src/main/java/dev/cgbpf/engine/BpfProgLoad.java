package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.ProgInfo;
import dev.cgbpf.engine.backend.ObjNames;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.hooks.CgroupHelpers;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.interp.TailCall;
import dev.cgbpf.engine.isa.HelperIds;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.MalformedProgramException;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.jit.TieredProgram;
import dev.cgbpf.engine.maps.CgroupStorageMap;
import dev.cgbpf.engine.maps.EngineMap;
import dev.cgbpf.engine.maps.ProgArrayMap;
import dev.cgbpf.engine.verifier.Verifier;
import dev.cgbpf.engine.verifier.VerifierResult;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * BPF_PROG_LOAD of an engine backend (the kernel's bpf_prog_load): the size check, the engine's
 * {@link Verifier} (which answers as the running kernel's, errno and log), the map references as
 * resolve_pseudo_ldimm64 checks them, the cgroup storage rule, and the engine's own last check that
 * it can run every helper the program calls. A loaded program is an {@link EngineProg} with an id
 * from the host, handed out as a {@link ProgFd}; BPF_OBJ_GET_INFO_BY_FD of it is here too.
 */
final class BpfProgLoad {
    /** BPF_COMPLEXITY_LIMIT_INSNS: the kernel refuses longer programs with E2BIG. */
    static final int MAX_INSNS = 1_000_000;

    private final EngineHost host;
    private final FdTable fds;
    /** The programs loaded here: what a scoped close() detaches under an existing root. */
    private final Set<EngineProg> loaded = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

    BpfProgLoad(EngineHost host, FdTable fds) {
        this.host = host;
        this.fds = fds;
    }

    /** Whether {@code p} was loaded through this backend. */
    boolean loadedHere(CgroupProg p) {
        return loaded.contains(p);
    }

    /** kernel: bpf_prog_load */
    LoadedProg load(LoadRequest request) throws BpfException {
        Program p = request.program();
        // the kernel's bpf_prog_load refuses an empty or oversized program before anything else
        if (p == null || p.size() == 0 || p.size() > MAX_INSNS) {
            throw new BpfException(Errno.E2BIG, "program '" + request.name() + "' has "
                    + (p == null ? 0 : p.size()) + " instructions (1 to " + MAX_INSNS + " allowed)", "");
        }
        // the verifier checks in the kernel's order, map fds included; usedMaps then only collects them
        VerifierResult verified = Verifier.verify(p, request.type(), request.expectedAttach(), this::mapSpecAt,
                fds::isOpen, request.logLevel(), request.license(), this::readOnlyValueAt);
        Set<EngineMap> used = usedMaps(request.name(), p);
        Interpreter interp;
        try {
            interp = Interpreter.decode(p, pseudoResolver());
        } catch (MalformedProgramException e) {
            // the verifier accepted what the interpreter cannot decode: an engine bug, never the user's
            throw new IllegalStateException("program '" + request.name() + "' passed the verifier but: "
                    + e.getMessage(), e);
        }
        checkOneStorageOfEachType(request.name(), used);
        checkTailCallOwners(request, used, verified);
        checkHelpersRunnable(request, verified);
        for (EngineMap m : used) {
            m.retain();
        }
        TieredProgram code = new TieredProgram(request.name(), p, interp, host.jitMode(), host.jitStatsCounter());
        EngineProg prog = new EngineProg(request.name(), request.type(), request.expectedAttach(), p, code,
                List.copyOf(used), verified, host.nextProgId());
        loaded.add(prog);
        return new ProgFd(fds, prog);
    }

    /** The spec of the map open at {@code fd}, or null when the fd is no map (the verifier's view). */
    private MapSpec mapSpecAt(int fd) {
        return fds.get(fd) instanceof MapFd h ? h.map.spec() : null;
    }

    /**
     * The value the verifier may read as constant from the map open at {@code fd}: that of a map
     * frozen with BPF_F_RDONLY_PROG, its first element's (only an array of one element has the
     * direct value address the kernel reads a string through; the verifier checks that), else null.
     */
    private byte[] readOnlyValueAt(int fd) {
        if (!(fds.get(fd) instanceof MapFd h) || !h.map.readOnlyForPrograms()) {
            return null;
        }
        synchronized (h.map) {
            int i = h.map.lookupIndexSysOnly(new byte[h.map.spec().keySize()]);
            return i < 0 ? new byte[h.map.spec().valueSize()] : h.map.valueOf(i);
        }
    }

    /**
     * The maps a program refers to by fd, checked as resolve_pseudo_ldimm64 checks them: an fd
     * that is not open is EBADF, an open fd that is not a map EINVAL, both with the kernel's log line.
     *
     * <p>kernel: resolve_pseudo_ldimm64
     */
    private Set<EngineMap> usedMaps(String name, Program p) throws BpfException {
        Set<EngineMap> used = new LinkedHashSet<>();
        for (int i = 0; i < p.size(); i++) {
            Insn insn = p.get(i);
            if (!insn.isLdImm64()) {
                continue;
            }
            if (insn.src() == Opcodes.PSEUDO_MAP_FD || insn.src() == Opcodes.PSEUDO_MAP_VALUE) {
                Object o = fds.get(insn.imm());
                if (!(o instanceof MapFd h)) {
                    String log = "fd " + insn.imm() + " is not pointing to valid bpf_map";
                    throw new BpfException(o == null ? Errno.EBADF : Errno.EINVAL,
                            "program '" + name + "': insn " + i + ": " + log, log);
                }
                used.add(h.map);
            }
            i++;
        }
        return used;
    }

    /**
     * The verifier's rule for cgroup storage: a program uses at most one shared and one per-CPU
     * storage map ("only one cgroup storage of each type is allowed", EBUSY).
     *
     * <p>kernel: bpf_cgroup_storage_assign
     */
    private static void checkOneStorageOfEachType(String name, Set<EngineMap> used) throws BpfException {
        CgroupStorageMap shared = null;
        CgroupStorageMap percpu = null;
        for (EngineMap m : used) {
            if (m instanceof CgroupStorageMap s) {
                CgroupStorageMap seen = s.percpu() ? percpu : shared;
                if (seen != null && seen != s) {
                    String log = "only one cgroup storage of each type is allowed";
                    throw new BpfException(Errno.EBUSY, "program '" + name + "': " + log, log);
                }
                if (s.percpu()) {
                    percpu = s;
                } else {
                    shared = s;
                }
            }
        }
    }

    /**
     * bpf_check_tail_call (in bpf_prog_select_runtime, once the verifier passed): every program
     * array the program uses must accept it as its owner, or take it as the first (EINVAL, the
     * verifier's log unchanged).
     */
    private static void checkTailCallOwners(LoadRequest request, Set<EngineMap> used, VerifierResult verified)
            throws BpfException {
        ProgArrayMap.Owner owner = ProgArrayMap.Owner.of(request.type(), request.expectedAttach(), used,
                TailCall.makesTailCalls(request.program()));
        for (EngineMap m : used) {
            if (m instanceof ProgArrayMap pa && !pa.compatible(owner)) {
                throw new BpfException(Errno.EINVAL, "program '" + request.name() + "' does not match the owner of"
                        + " program array '" + pa.spec().name() + "'", verified.log());
            }
        }
    }

    /**
     * The engine's own last check, after every check the kernel makes: each helper the program
     * calls must be one the interpreter implements for the program type, so that a program the
     * engine cannot run is refused here (EINVAL) instead of faulting when it runs. A call in code
     * that can never run is refused too (stricter than the kernel, which drops dead code).
     */
    private static void checkHelpersRunnable(LoadRequest request, VerifierResult verified) throws BpfException {
        dev.cgbpf.engine.interp.HelperTable table = CgroupHelpers.tableFor(request.type(), request.expectedAttach());
        Program p = request.program();
        for (int i = 0; i < p.size(); i++) {
            Insn insn = p.get(i);
            if (insn.isLdImm64()) {
                i++;
            } else if (insn.code() == (Opcodes.JMP | Opcodes.CALL) && insn.src() == 0 && !table.has(insn.imm())
                    && !TailCall.isTailCall(insn)) { // the interpreter makes tail calls itself
                int id = insn.imm();
                String line = "engine: helper " + HelperIds.name(id).orElse("helper") + "#" + id
                        + " is not implemented by the engine's interpreter";
                String log = verified.log() == null || verified.log().isEmpty() ? line + "\n"
                        : verified.log() + (verified.log().endsWith("\n") ? "" : "\n") + line + "\n";
                throw new BpfException(Errno.EINVAL, "program '" + request.name() + "': insn " + i + ": " + line, log);
            }
        }
    }

    /** resolve_pseudo_ldimm64: map fds of this backend become map object / value addresses. */
    private PseudoResolver pseudoResolver() {
        return (src, imm, nextImm) -> {
            if (src != Opcodes.PSEUDO_MAP_FD && src != Opcodes.PSEUDO_MAP_VALUE) {
                throw new Fault(src > Opcodes.PSEUDO_MAP_IDX_VALUE ? "unrecognized bpf_ld_imm64 insn"
                        : "ld_imm64 with src " + src + " is not supported by the engine");
            }
            EngineMap map = ((MapFd) fds.get(imm)).map;
            if (src == Opcodes.PSEUDO_MAP_FD) {
                return map.objectAddress();
            }
            long address = map.directValueAddress(nextImm);
            if (address < 0) {
                throw new Fault("invalid access to map value pointer, value_size=" + map.spec().valueSize()
                        + " off=" + Integer.toUnsignedString(nextImm));
            }
            return address;
        };
    }

    /**
     * BPF_OBJ_GET_INFO_BY_FD of a program: the name as the kernel keeps it.
     *
     * <p>kernel: bpf_prog_get_info_by_fd
     */
    ProgInfo progInfo(LoadedProg loaded) throws BpfException {
        EngineProg p = fds.prog(loaded);
        return new ProgInfo(p.id, p.type, ObjNames.infoName(p.name), p.tag);
    }
}
