package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;

/**
 * The engine's eBPF verifier: accepts or rejects a program the way the running kernel (Linux 6.18,
 * loaded by root) does, with the same errno and the same reason line in the log.
 *
 * <p>Order of the checks, as in the kernel: program size and expected attach type
 * (bpf_prog_load, no log), jump ranges and the last instruction (check_subprogs), reserved LDX
 * fields, 64-bit immediate loads, map fds and unknown opcodes (resolve_pseudo_ldimm64),
 * reachability (check_cfg), then the path-exploring {@link DoCheck}.
 *
 * <p>Where the engine cannot prove what the kernel could (helpers it does not model, function
 * pointers, ...) it rejects: it never accepts what the kernel rejects. docs/fidelity.md lists the
 * differences.
 */
public final class Verifier {
    /** BPF_COMPLEXITY_LIMIT_INSNS also bounds the program length for a privileged loader. */
    public static final int MAX_INSNS = 1_000_000;

    private Verifier() {
    }

    /**
     * Verifies {@code prog} as a program of {@code type} with {@code expectedAttach} (null: none).
     *
     * @param mapsByFd the map an LD_IMM64 map fd refers to, null when the fd is no map
     * @param logLevel 0, 1 or 2 as BPF_PROG_LOAD's log_level; a rejection always carries at least the level-1 log
     * @throws BpfException the kernel's errno and log for a rejected program
     */
    public static VerifierResult verify(Program prog, ProgType type, AttachType expectedAttach,
                                        IntFunction<MapSpec> mapsByFd, int logLevel) throws BpfException {
        return verify(prog, type, expectedAttach, mapsByFd, fd -> false, logLevel);
    }

    /**
     * As {@link #verify(Program, ProgType, AttachType, IntFunction, int)}, telling an fd that is
     * open but no map (EINVAL) from one that is not open at all (EBADF), as the kernel does.
     *
     * @param fdOpen whether an fd for which {@code mapsByFd} has no map is open as something else
     */
    public static VerifierResult verify(Program prog, ProgType type, AttachType expectedAttach,
                                        IntFunction<MapSpec> mapsByFd, IntPredicate fdOpen, int logLevel)
            throws BpfException {
        return verify(prog, type, expectedAttach, mapsByFd, fdOpen, logLevel, "GPL");
    }

    /**
     * As {@link #verify(Program, ProgType, AttachType, IntFunction, IntPredicate, int)} for a
     * program under {@code license}: one that is not GPL-compatible may not call GPL-only helpers.
     */
    public static VerifierResult verify(Program prog, ProgType type, AttachType expectedAttach,
                                        IntFunction<MapSpec> mapsByFd, IntPredicate fdOpen, int logLevel,
                                        String license) throws BpfException {
        return verify(prog, type, expectedAttach, mapsByFd, fdOpen, logLevel, license, fd -> null);
    }

    /**
     * As {@link #verify(Program, ProgType, AttachType, IntFunction, IntPredicate, int, String)},
     * with the contents of the read-only maps: a string argument (ARG_PTR_TO_CONST_STR, bpf_strncmp's
     * third) must lie in a map that is frozen and BPF_F_RDONLY_PROG, and the kernel reads it at load.
     *
     * @param readOnlyValues the value of the map open at an fd when that map is frozen and
     *                       BPF_F_RDONLY_PROG (its only element's, for an array of one), else null
     */
    public static VerifierResult verify(Program prog, ProgType type, AttachType expectedAttach,
                                        IntFunction<MapSpec> mapsByFd, IntPredicate fdOpen, int logLevel,
                                        String license, IntFunction<byte[]> readOnlyValues) throws BpfException {
        Objects.requireNonNull(type, "program type");
        Objects.requireNonNull(mapsByFd, "map table");
        Objects.requireNonNull(fdOpen, "fd table");
        if (prog == null || prog.size() == 0) {
            throw new BpfException(Errno.EINVAL, "program has no instructions", "");
        }
        if (prog.size() > MAX_INSNS) {
            throw new BpfException(Errno.E2BIG, "program has " + prog.size() + " instructions, more than " + MAX_INSNS, "");
        }
        if (logLevel < 0 || logLevel > 2) {
            throw new BpfException(Errno.EINVAL, "log level " + logLevel + " is not 0, 1 or 2", "");
        }
        AttachType attach = ExpectedAttach.check(type, expectedAttach);
        DoCheck check = null;
        boolean walked = false;
        try {
            Structure.Cfg cfg = Structure.check(prog, mapsByFd, fdOpen);
            check = new DoCheck(prog, type, attach, mapsByFd, readOnlyValues, logLevel, cfg.prunePoints(), cfg.subprogStarts(),
                    License.isGplCompatible(license));
            check.run();
            walked = true;
            check.checkMaxStackDepth();
            if (check.unsupported() != null) {
                throw VerifierError.einval(check.unsupported());
            }
        } catch (VerifierError e) {
            // at level 1 the kernel keeps only a failing path: once every path is safe, the log
            // is empty again when the checks after the walk (stack depth) refuse the program
            String trace = check == null || (walked && logLevel == 1) ? "" : check.log();
            String stats = check == null ? statsLine(0) : check.statsLine();
            String log = trace + e.getMessage() + (e.terminated ? "\n" : "") + stats + "\n";
            String reason = e.getMessage().substring(e.getMessage().lastIndexOf('\n') + 1);
            throw new BpfException(e.errno, "verifier: " + reason, log);
        }
        String log = switch (logLevel) {
            case 0 -> "";
            case 1 -> check.statsLine() + "\n";
            default -> check.log() + check.statsLine() + "\n";
        };
        return new VerifierResult(log, check.processed(), check.enforcesExpectedAttach(), check.usesDirectPacketAccess());
    }

    static String statsLine(long processed) {
        return "processed " + processed + " insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0";
    }

    /** The checks before do_check, where its prune points are, and where the subprograms start. */
    static final class Structure {
        private Structure() {
        }

        /** What the structural checks learn: prune points, and each subprogram's first instruction in order. */
        record Cfg(boolean[] prunePoints, int[] subprogStarts) {
        }

        static Cfg check(Program p, IntFunction<MapSpec> maps, IntPredicate fdOpen) throws VerifierError {
            int n = p.size();
            // add_subprog_and_kfunc: bpf-to-bpf calls start subprograms
            java.util.TreeSet<Integer> starts = new java.util.TreeSet<>();
            starts.add(0);
            for (int i = 0; i < n; i++) {
                Insn insn = p.get(i);
                boolean pseudoFunc = insn.code() == LD_IMM64 && insn.src() == PSEUDO_FUNC;
                if (insn.code() == (JMP | CALL) && insn.src() == PSEUDO_CALL || pseudoFunc) {
                    long target = (long) i + insn.imm() + 1;
                    if (target < 0 || target >= n) {
                        throw VerifierError.einval("call to invalid destination");
                    }
                    starts.add((int) target);
                }
                if (insn.code() == (JMP | CALL) && insn.src() == PSEUDO_KFUNC_CALL) {
                    // the kernel resolves kfuncs here, against its BTF, which the engine does not have
                    throw VerifierError.einval("engine: kfunc calls are not supported");
                }
            }
            // check_subprogs: every jump stays inside its subprogram, each of which ends in exit or a jump
            for (int i = 0; i < n; i++) {
                Insn insn = p.get(i);
                int cls = insn.cls();
                if (cls == JMP || cls == JMP32) {
                    int op = op(insn.code());
                    if (op != CALL && op != EXIT) {
                        // jmp_offset: only gotol (exactly JMP32|JA) has its target in imm
                        int off = insn.code() == (JMP32 | JA) ? insn.imm() : insn.off();
                        long target = (long) i + off + 1;
                        int start = starts.floor(i);
                        Integer next = starts.higher(i);
                        int end = next == null ? n : next;
                        if (target < start || target >= end) {
                            throw VerifierError.einval("jump out of range from insn " + i + " to " + target);
                        }
                    }
                }
                Integer next = starts.higher(i);
                if (i == n - 1 || (next != null && next == i + 1)) {
                    int code = insn.code();
                    if (code != (JMP | EXIT) && code != (JMP32 | JA) && code != (JMP | JA)) {
                        throw VerifierError.einval("last insn is not an exit or jmp");
                    }
                }
            }
            checkAbnormalReturn(p, starts);
            // resolve_pseudo_ldimm64
            for (int i = 0; i < n; i++) {
                Insn insn = p.get(i);
                if (insn.cls() == LDX && ((mode(insn.code()) != MEM && mode(insn.code()) != MEMSX) || insn.imm() != 0)) {
                    throw VerifierError.einval("BPF_LDX uses reserved fields");
                }
                if (insn.code() == LD_IMM64) {
                    if (i == n - 1) {
                        throw VerifierError.einval("invalid bpf_ld_imm64 insn");
                    }
                    Insn second = p.get(i + 1);
                    if (second.code() != 0 || second.dst() != 0 || second.src() != 0 || second.off() != 0) {
                        throw VerifierError.einval("invalid bpf_ld_imm64 insn");
                    }
                    int src = insn.src();
                    if (src != 0) {
                        if (src == PSEUDO_BTF_ID) {
                            throw VerifierError.einval("engine: ld_imm64 of a BTF id is not supported");
                        }
                        if (src == PSEUDO_FUNC) {
                            i++; // a subprogram's address: do_check refuses it without BTF func_info
                            continue;
                        }
                        if ((src == PSEUDO_MAP_FD || src == PSEUDO_MAP_IDX) && second.imm() != 0) {
                            throw VerifierError.einval("unrecognized bpf_ld_imm64 insn");
                        }
                        if (src == PSEUDO_MAP_IDX || src == PSEUDO_MAP_IDX_VALUE) {
                            // map indexes need BPF_PROG_LOAD's fd_array, which this project never passes
                            throw new VerifierError(Errno.EPROTO, "fd_idx without fd_array is invalid");
                        }
                        if (src != PSEUDO_MAP_FD && src != PSEUDO_MAP_VALUE) {
                            throw VerifierError.einval("unrecognized bpf_ld_imm64 insn");
                        }
                        MapSpec m = maps.apply(insn.imm());
                        if (m == null) {
                            throw new VerifierError(fdOpen.test(insn.imm()) ? Errno.EINVAL : Errno.EBADF,
                                    "fd " + insn.imm() + " is not pointing to valid bpf_map");
                        }
                        if (src == PSEUDO_MAP_VALUE) {
                            long off = Integer.toUnsignedLong(second.imm());
                            if (off >= DoCheck.MAX_VAR_OFF) {
                                throw VerifierError.einval("direct value offset of " + off + " is not allowed");
                            }
                            if (m.type() != dev.cgbpf.engine.backend.MapType.ARRAY) {
                                throw VerifierError.einval("no direct value access support for this map type");
                            }
                            // array_map_direct_value_addr: single-element arrays only, offset inside the value
                            if (m.maxEntries() != 1 || off >= m.valueSize()) {
                                throw new VerifierError(m.maxEntries() != 1 ? Errno.ENOTSUPP : Errno.EINVAL,
                                        "invalid access to map value pointer, value_size=" + m.valueSize() + " off=" + off);
                            }
                        }
                    }
                    i++;
                    continue;
                }
                if (!BpfInsnTable.known(insn.code())) {
                    throw VerifierError.einval("unknown opcode " + String.format("%02x", insn.code()));
                }
            }
            // check_cfg: every instruction reachable; prune points at jumps and their targets, calls and returns
            boolean[] seen = new boolean[n];
            boolean[] prune = new boolean[n];
            int[] work = new int[n + 1];
            int top = 0;
            work[top++] = 0;
            seen[0] = true;
            while (top > 0) {
                int i = work[--top];
                Insn insn = p.get(i);
                int[] succ;
                if (insn.cls() == JMP || insn.cls() == JMP32) {
                    int op = op(insn.code());
                    if (op == EXIT) {
                        succ = new int[0];
                    } else if (op == CALL && insn.src() == PSEUDO_CALL) {
                        // visit_func_call_insn: the callee is explored as a branch; the call, its
                        // return point and the callee's first insn are prune points
                        int t = i + 1 + insn.imm();
                        succ = new int[] {i + 1, t};
                        prune[i] = true;
                        prune[i + 1] = true;
                        prune[t] = true;
                    } else if (op == CALL) {
                        // visit_func_call_insn, for helpers too: the insn after the call is a prune point
                        succ = new int[] {i + 1};
                        prune[i] |= HelperProto.callsCallback(insn);
                        if (i + 1 < n) { // else the successor check below refuses the program
                            prune[i + 1] = true;
                        }
                    } else if (op == JA) {
                        int t = i + 1 + (insn.cls() == JMP32 ? insn.imm() : insn.off());
                        succ = new int[] {t};
                        prune[t] = true;
                    } else {
                        // visit_insn: a conditional jump is itself a prune point, and so is its target
                        int t = i + 1 + insn.off();
                        succ = new int[] {i + 1, t};
                        prune[t] = true;
                        prune[i] = true;
                    }
                } else if (insn.code() == LD_IMM64 && insn.src() == PSEUDO_FUNC) {
                    // visit_func_call_insn: a subprogram's address leads to the subprogram as a
                    // branch; the load, the insn after it and the subprogram's first are prune points
                    int t = i + 1 + insn.imm();
                    succ = new int[] {i + 2, t};
                    prune[i] = true;
                    if (i + 2 < n) { // else the successor check below refuses the program
                        prune[i + 2] = true;
                    }
                    prune[t] = true;
                } else {
                    succ = new int[] {i + (insn.code() == LD_IMM64 ? 2 : 1)};
                }
                for (int s : succ) {
                    if (s >= n) {
                        throw VerifierError.einval("jump out of range from insn " + i + " to " + s);
                    }
                    if (s > 0 && p.get(s - 1).code() == LD_IMM64 && isSecondSlot(p, s)) {
                        throw VerifierError.einval("jump into the middle of ldimm64 insn " + (s - 1));
                    }
                    if (!seen[s]) {
                        seen[s] = true;
                        work[top++] = s;
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                if (!seen[i]) {
                    throw VerifierError.einval("unreachable insn " + i);
                }
                if (p.get(i).code() == LD_IMM64) {
                    i++;
                }
            }
            return new Cfg(prune, starts.stream().mapToInt(Integer::intValue).toArray());
        }

        /**
         * check_abnormal_return (check_btf_info without BTF): a subprogram may not end the whole
         * program from inside, as LD_ABS/LD_IND (on a packet fault) and a tail call do; only BTF
         * could tell that its return type allows it. Dead code counts too.
         */
        private static void checkAbnormalReturn(Program p, java.util.NavigableSet<Integer> starts) throws VerifierError {
            Integer[] s = starts.toArray(new Integer[0]);
            for (int sub = 1; sub < s.length; sub++) {
                int end = sub + 1 < s.length ? s[sub + 1] : p.size();
                boolean ldAbs = false;
                boolean tailCall = false;
                for (int i = s[sub]; i < end; i++) {
                    Insn insn = p.get(i);
                    ldAbs |= insn.cls() == LD && (mode(insn.code()) == ABS || mode(insn.code()) == IND);
                    tailCall |= insn.code() == (JMP | CALL) && insn.src() == 0 && insn.imm() == CheckHelperCall.TAIL_CALL;
                }
                if (ldAbs) {
                    throw VerifierError.einval("LD_ABS is not allowed in subprogs without BTF");
                }
                if (tailCall) {
                    throw VerifierError.einval("tail_call is not allowed in subprogs without BTF");
                }
            }
        }

        private static boolean isSecondSlot(Program p, int s) {
            for (int i = 0; i < p.size(); i++) {
                if (p.get(i).code() == LD_IMM64) {
                    if (i + 1 == s) {
                        return true;
                    }
                    i++;
                }
                if (i >= s) {
                    return false;
                }
            }
            return false;
        }
    }
}
