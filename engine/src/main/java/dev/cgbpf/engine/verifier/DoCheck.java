package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static dev.cgbpf.engine.verifier.CheckRegArg.*;
import static dev.cgbpf.engine.verifier.VerifierState.*;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Disassembler;
import dev.cgbpf.engine.isa.HelperIds;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The path-exploring abstract interpreter (kernel/bpf/verifier.c do_check): walks every feasible
 * path from instruction 0, one instruction at a time, keeping a {@link VerifierState} per path.
 * A conditional jump whose outcome is not known splits the path: the fall-through continues and
 * the jump target is pushed to be explored later, as the kernel does (so the first error found is
 * the kernel's first error). States at prune points are remembered; a later state within a
 * completely verified one is not explored again, and a state equal to one of its own ancestors is
 * an infinite loop.
 *
 * <p>Why one long class: it is the kernel's do_check loop, the walk over instructions with its
 * state, pruning and branch stack, kept in one place as the kernel keeps it; the checks of each
 * instruction class live in their own classes (CheckAlu, CheckMemAccess, CheckCondJmp,
 * CheckHelperCall).
 */
final class DoCheck {
    static final int COMPLEXITY_LIMIT_INSNS = 1_000_000;
    static final int COMPLEXITY_LIMIT_JMP_SEQ = 8192;
    static final long MAX_VAR_OFF = 1L << 29;
    /** BPF_LOG_ALIGNMENT and BPF_LOG_MIN_ALIGNMENT: where the state after an instruction starts. */
    private static final int LOG_ALIGN = 40;
    private static final int LOG_MIN_ALIGN = 8;

    private final VerifierEnv env;
    private final Program prog;
    private final int logLevel;
    private final boolean[] prunePoint;
    private final List<List<Checkpoint>> explored = new ArrayList<>();
    private final Disassembler disasm = new Disassembler();
    private final CheckAlu alu;
    private final CheckCondJmp condJmp;
    /** The registers live before each instruction: the others are ignored when pruning. */
    private final short[] liveBefore;
    private final CheckMemAccess mem;
    private final CheckHelperCall helpers;
    /** The log kept for the final answer; at level 1 the current path only. */
    private final StringBuilder log = new StringBuilder();
    private long processed;
    private long jmpsProcessed;
    private long prevJmpsProcessed;
    private long prevInsnProcessed;
    private int totalStates;
    private int maxStatesPerInsn;
    /** do_print_state after a return: level 2 prints "from EXIT to NEXT:" with the caller's state */
    private boolean printFrom;
    /** the whole current frame is scratched (a callee was entered): its state line precedes the next insn */
    private boolean printStateLine;

    /** A path to explore later; {@code logPos} is where the log stood after the branch's text. */
    private record Pending(int insn, int prevInsn, VerifierState state, int logPos) {
    }

    /** @param gplCompatible whether the program's license lets it call GPL-only helpers */
    DoCheck(Program prog, ProgType type, AttachType attach, IntFunction<MapSpec> maps,
            IntFunction<byte[]> readOnlyValues, int logLevel, boolean[] prunePoint, int[] subprogStarts,
            boolean gplCompatible) {
        this.env = new VerifierEnv(prog, type, attach, maps, readOnlyValues, subprogStarts, gplCompatible);
        this.prog = prog;
        this.logLevel = logLevel;
        this.prunePoint = prunePoint;
        for (int i = 0; i < prog.size(); i++) {
            explored.add(null);
        }
        this.liveBefore = Liveness.liveBefore(prog, type, attach);
        this.condJmp = new CheckCondJmp(liveBefore);
        this.alu = new CheckAlu(env);
        this.mem = new CheckMemAccess(env);
        this.helpers = new CheckHelperCall(env, mem);
    }

    /** What the program uses that the engine cannot run, or null. */
    String unsupported() {
        return env.unsupported;
    }

    boolean enforcesExpectedAttach() {
        return env.enforceExpectedAttach;
    }

    boolean usesDirectPacketAccess() {
        return env.directPacketAccess;
    }

    long processed() {
        return processed;
    }

    String log() {
        return log.toString();
    }

    String statsLine() {
        return "processed " + processed + " insns (limit " + COMPLEXITY_LIMIT_INSNS + ") max_states_per_insn "
                + maxStatesPerInsn + " total_states " + totalStates + " peak_states " + totalStates + " mark_read 0";
    }

    // ================================================================ main loop

    void run() throws VerifierError {
        VerifierState st = new VerifierState();
        st.regs[1] = RegState.pointer(RegType.PTR_TO_CTX, 0);
        st.regs[10] = RegState.pointer(RegType.PTR_TO_STACK, 0);
        st.checkpoint = new Checkpoint(0, st.copy(), null);
        Deque<Pending> stack = new ArrayDeque<>();
        int idx = 0;
        int prev = -1;
        if (logLevel > 0) {
            log.append("0: ").append(StatePrinter.state(st)).append('\n');
        }
        boolean freshPath = false;
        while (true) {
            if (idx < 0 || idx >= prog.size()) {
                throw VerifierError.einval("invalid insn idx " + idx + " insn_cnt " + prog.size());
            }
            // counted before pruning, as the kernel counts
            if (++processed > COMPLEXITY_LIMIT_INSNS) {
                throw new VerifierError(Errno.E2BIG, "BPF program is too large. Processed " + processed + " insn");
            }
            if (prunePoint[idx] && prev >= 0) {
                int verdict = visit(idx, st);
                if (verdict == 1) { // pruned: safe
                    if (logLevel > 0) {
                        log.append(freshPath || printFrom ? "\nfrom " + prev + " to " + idx + ": safe\n" : idx + ": safe\n");
                    }
                    printFrom = false;
                    printStateLine = false;
                    Checkpoint.pathDone(st.checkpoint);
                    Pending p = stack.poll();
                    if (p == null) {
                        return;
                    }
                    st = p.state;
                    idx = p.insn;
                    prev = p.prevInsn;
                    startPath(p);
                    freshPath = true;
                    continue;
                }
            }
            if (freshPath) {
                logPathStart(prev, idx, st);
                freshPath = false;
            } else if (printFrom || printStateLine) {
                logAfterCall(prev, idx, st);
            }
            Insn insn = prog.get(idx);
            if (insn.cls() == JMP || insn.cls() == JMP32) {
                jmpsProcessed++;
            }
            env.state = st;
            insnLogged = false;
            int next;
            try {
                next = step(idx, insn, st, stack);
            } catch (VerifierError e) {
                // the kernel prints each instruction before checking it: a refused one stands
                // right above the reason
                if (logLevel > 0 && !insnLogged) {
                    log.append(idx).append(": ").append(disasm.line(prog, idx)).append('\n');
                }
                throw e;
            }
            if (stack.size() > COMPLEXITY_LIMIT_JMP_SEQ) {
                throw new VerifierError(Errno.E2BIG, "The sequence of " + stack.size() + " jumps is too complex.");
            }
            if (next >= 0) {
                prev = idx;
                idx = next;
                continue;
            }
            // exit reached safely: this path is done
            Checkpoint.pathDone(st.checkpoint);
            Pending p = stack.poll();
            if (p == null) {
                return;
            }
            st = p.state;
            idx = p.insn;
            prev = p.prevInsn;
            startPath(p);
            freshPath = true;
        }
    }

    /**
     * A popped path: at level 1 the log forgets the finished path (back to the branch
     * instruction's text), as the kernel keeps only the path that fails.
     */
    private void startPath(Pending p) {
        if (logLevel == 1) {
            log.setLength(p.logPos);
            log.append(' ');
        }
    }

    /**
     * After a call the callee's whole frame is printed before its first insn (setup_func_entry
     * scratches it); after a return, level 2 shows where the path continues (do_print_state).
     */
    private void logAfterCall(int from, int to, VerifierState st) {
        String state = StatePrinter.state(st);
        if (printFrom && logLevel > 1) {
            log.append("\nfrom ").append(from).append(" to ").append(to).append(": ").append(state).append('\n');
        }
        if (printStateLine && logLevel > 0) {
            log.append(to).append(": ").append(state).append('\n');
        }
        printFrom = false;
        printStateLine = false;
    }

    private void logPathStart(int from, int to, VerifierState st) {
        String state = StatePrinter.state(st);
        if (logLevel == 1) {
            log.append(to).append(": ").append(state).append('\n');
        } else if (logLevel > 1) {
            log.append("\nfrom ").append(from).append(" to ").append(to).append(": ").append(state).append('\n');
            log.append(to).append(": ").append(state).append('\n');
        }
    }

    /**
     * is_state_visited: 1 when the state is covered by a completely verified one. An unfinished
     * checkpoint (one of this path's ancestors) with the very same registers and a stack that
     * covers this one means the path goes round without progress: an infinite loop. New
     * checkpoints are added as sparingly as the kernel adds them (after 2 jumps and 8
     * instructions, or 20 jumps or 100 instructions inside a loop), which decides whether a
     * loop is found or the instruction budget runs out.
     */
    private int visit(int idx, VerifierState st) throws VerifierError {
        List<Checkpoint> list = explored.get(idx);
        if (list == null) {
            list = new ArrayList<>();
            explored.set(idx, list);
        }
        // force_new_state: a call that runs a callback always gets its checkpoint
        boolean force = HelperProto.callsCallback(prog.get(idx));
        boolean addNew = force || jmpsProcessed - prevJmpsProcessed >= 2 && processed - prevInsnProcessed >= 8;
        int regsHash = st.regsHash();
        for (java.util.Iterator<Checkpoint> it = list.iterator(); it.hasNext(); ) {
            Checkpoint c = it.next();
            if (!c.safe) {
                // the same call chain with the same registers in every frame: no progress
                if (c.regsHash == regsHash && st.sameRegs(c.state) && st.stackWithin(c.state)) {
                    throw VerifierError.einval("infinite loop detected at insn " + idx + "\ncur state: "
                            + StatePrinter.state(st) + "\nold state: " + StatePrinter.state(c.state));
                }
                if (!force && jmpsProcessed - prevJmpsProcessed < 20 && processed - prevInsnProcessed < 100) {
                    addNew = false;
                }
            } else if (st.within(c.state, liveBefore, idx)) {
                c.hits++;
                return 1;
            }
            // the kernel's eviction heuristic: a checkpoint that keeps missing is dropped
            if (++c.misses > c.hits * 3 + 3) {
                it.remove();
            }
        }
        if (addNew) {
            maxStatesPerInsn = Math.max(maxStatesPerInsn, list.size());
            Checkpoint c = new Checkpoint(idx, st.copy(), st.checkpoint);
            st.checkpoint = c;
            list.add(c);
            totalStates++;
            prevJmpsProcessed = jmpsProcessed;
            prevInsnProcessed = processed;
        }
        return 0;
    }

    private int lastInsnTextEnd;
    /** Whether the instruction being checked has had its log line. */
    private boolean insnLogged;

    /**
     * The log line of one instruction: its text and, after a {@code ;} at the kernel's column, the
     * registers and stack slots it touched in their new state (print_insn_state).
     */
    private void logInsn(int idx, VerifierState st, int... regs) {
        long slots = env.scratchedStack;
        env.scratchedStack = 0;
        if (logLevel == 0) {
            return;
        }
        String text = idx + ": " + disasm.line(prog, idx);
        insnLogged = true;
        log.append(text);
        lastInsnTextEnd = log.length();
        StringBuilder sb = new StringBuilder();
        int[] sorted = regs.clone();
        java.util.Arrays.sort(sorted);
        int last = -1;
        int frameno = st.curframe();
        // the kernel prints the state when anything was scratched, even if nothing scratched is
        // printable (a void helper's R0): then the line ends in a bare ';'
        boolean scratched = slots != 0;
        for (int r : sorted) {
            scratched |= r >= 0 && r < 11;
            if (r >= 0 && r < 11 && r != last && st.regs[r].isInit()) {
                sb.append(' ').append('R').append(r).append('=').append(StatePrinter.reg(st.regs[r], frameno));
            }
            last = r;
        }
        for (int k = 63; k >= 0; k--) {
            if ((slots & (1L << k)) != 0) {
                String slot = StatePrinter.slot(st, k);
                if (slot != null) {
                    sb.append(' ').append(slot);
                }
            }
        }
        if (scratched) {
            sb.append(StatePrinter.refs(st));
            String frame = frameno == 0 ? "" : " " + StatePrinter.framePrefix(frameno);
            log.append(" ".repeat(stateColumnPadding(text.length()))).append(';').append(frame).append(sb);
        }
        log.append('\n');
    }

    /**
     * vlog_alignment: the spaces between an instruction of {@code textLength} characters and the
     * ';' of its register state. The kernel counts the instruction's newline, which it then
     * overwrites, and prints the padding with "%*c", so at least one space.
     */
    static int stateColumnPadding(int textLength) {
        int pos = textLength + 1;
        int column = Math.max(pos + LOG_MIN_ALIGN / 2, LOG_ALIGN);
        int rounded = (column + LOG_MIN_ALIGN - 1) / LOG_MIN_ALIGN * LOG_MIN_ALIGN;
        return Math.max(1, rounded - pos - 1);
    }

    // ================================================================ one instruction

    /** Checks and applies one instruction; returns the next index, or -1 at a safe exit. */
    private int step(int idx, Insn insn, VerifierState st, Deque<Pending> stack) throws VerifierError {
        int cls = insn.cls();
        switch (cls) {
            case ALU, ALU64 -> {
                alu.checkAlu(insn, st);
                logInsn(idx, st, insn.dst(), src(insn.code()) == X ? insn.src() : -1);
                return idx + 1;
            }
            case LDX -> {
                checkRegRead(st, insn.src());
                checkRegWrite(insn.dst());
                RegType ptrType = st.regs[insn.src()].type();
                mem.memAccess(st, idx, insn.src(), insn.off(), sizeBytes(size(insn.code())), false, insn.dst(),
                        mode(insn.code()) == MEMSX);
                mem.auxPtr(idx, ptrType);
                logInsn(idx, st, insn.dst(), insn.src());
                return idx + 1;
            }
            case STX -> {
                if (mode(insn.code()) == ATOMIC) {
                    mem.checkAtomic(idx, insn, st);
                    // check_atomic reads the value and address registers, and R0 for cmpxchg
                    logInsn(idx, st, insn.src(), insn.dst(), insn.imm() == CMPXCHG ? 0 : -1);
                    return idx + 1;
                }
                if (mode(insn.code()) != MEM || insn.imm() != 0) {
                    throw VerifierError.einval("BPF_STX uses reserved fields");
                }
                checkRegRead(st, insn.src());
                checkRegRead(st, insn.dst());
                RegType ptrType = st.regs[insn.dst()].type();
                mem.memAccess(st, idx, insn.dst(), insn.off(), sizeBytes(size(insn.code())), true, insn.src(), false);
                mem.auxPtr(idx, ptrType);
                logInsn(idx, st, insn.src(), insn.dst());
                return idx + 1;
            }
            case ST -> {
                if (mode(insn.code()) != MEM || insn.src() != 0) {
                    throw VerifierError.einval("BPF_ST uses reserved fields");
                }
                checkRegRead(st, insn.dst());
                RegType ptrType = st.regs[insn.dst()].type();
                env.stMem = true;
                env.stImm = insn.imm();
                mem.memAccess(st, idx, insn.dst(), insn.off(), sizeBytes(size(insn.code())), true, -1, false);
                env.stMem = false;
                mem.auxPtr(idx, ptrType);
                logInsn(idx, st, insn.dst());
                return idx + 1;
            }
            case LD -> {
                int m = mode(insn.code());
                if (m == ABS || m == IND) {
                    checkLdAbs(insn, st);
                    // R6 (and LD_IND's index register) were read: the log shows them too
                    logInsn(idx, st, 0, 6, m == IND ? insn.src() : -1);
                    return idx + 1;
                }
                checkLdImm(idx, insn, st);
                logInsn(idx, st, insn.dst());
                return idx + 2;
            }
            default -> {
                return jmp(idx, insn, st, stack);
            }
        }
    }

    // ================================================================ LD

    private void checkLdImm(int idx, Insn insn, VerifierState st) throws VerifierError {
        if (insn.off() != 0) {
            throw VerifierError.einval("BPF_LD_IMM64 uses reserved fields");
        }
        checkRegWrite(insn.dst());
        Insn second = prog.get(idx + 1);
        switch (insn.src()) {
            case 0 -> st.regs[insn.dst()] = RegState.constant(((long) second.imm() << 32) | Integer.toUnsignedLong(insn.imm()));
            case PSEUDO_FUNC -> {
                // check_ld_imm: a callback's address needs the program's BTF func_info (static
                // linkage); this project's loaders pass no BTF, so the kernel stops here
                throw VerifierError.einval("missing btf func_info");
            }
            case PSEUDO_MAP_FD -> {
                MapSpec m = env.maps.apply(insn.imm());
                st.regs[insn.dst()] = new RegState(RegType.CONST_PTR_TO_MAP, false, 0, Scalar.constant(0), 0, 0, m, insn.imm());
            }
            case PSEUDO_MAP_VALUE -> {
                MapSpec m = env.maps.apply(insn.imm());
                st.regs[insn.dst()] = new RegState(RegType.PTR_TO_MAP_VALUE, false, second.imm(), Scalar.constant(0), 0, 0,
                        m, insn.imm());
            }
            default -> throw VerifierError.einval("unrecognized bpf_ld_imm64 insn");
        }
    }

    private void checkLdAbs(Insn insn, VerifierState st) throws VerifierError {
        if (env.type != ProgType.SOCKET_FILTER) {
            throw VerifierError.einval("BPF_LD_[ABS|IND] instructions not allowed for this program type");
        }
        int m = mode(insn.code());
        if (insn.dst() != 0 || insn.off() != 0 || size(insn.code()) == DW || (m == ABS && insn.src() != 0)) {
            throw VerifierError.einval("BPF_LD_[ABS|IND] uses reserved fields");
        }
        checkRegRead(st, 6);
        CheckReferences.checkLeak(st, "BPF_LD_[ABS|IND]"); // the load may end the program at run time
        if (st.regs[6].type() != RegType.PTR_TO_CTX) {
            throw VerifierError.einval("at the time of BPF_LD_ABS|IND R6 != pointer to skb");
        }
        if (m == IND) {
            checkRegRead(st, insn.src());
        }
        CheckMemAccess.checkCtxPtrOff(st.regs[6], 6);
        for (int r = 0; r <= 5; r++) {
            st.regs[r] = RegState.NOT_INIT;
        }
        st.regs[0] = RegState.UNKNOWN;
    }

    // ================================================================ jumps, calls, exit

    private int jmp(int idx, Insn insn, VerifierState st, Deque<Pending> stack) throws VerifierError {
        int op = op(insn.code());
        boolean jmp32 = insn.cls() == JMP32;
        if (op == CALL) {
            if (src(insn.code()) != K || (insn.src() != PSEUDO_KFUNC_CALL && insn.off() != 0)
                    || (insn.src() != 0 && insn.src() != PSEUDO_CALL && insn.src() != PSEUDO_KFUNC_CALL)
                    || insn.dst() != 0 || jmp32) {
                throw VerifierError.einval("BPF_CALL uses reserved fields");
            }
            if (insn.src() == PSEUDO_CALL) {
                return checkFuncCall(idx, insn, st);
            }
            helpers.checkHelperCall(idx, insn, st);
            logInsn(idx, st, 0);
            return idx + 1;
        }
        if (op == JA) {
            if (src(insn.code()) != K || insn.src() != 0 || insn.dst() != 0 || (!jmp32 && insn.imm() != 0)
                    || (jmp32 && insn.off() != 0)) {
                throw VerifierError.einval("BPF_JA uses reserved fields");
            }
            logInsn(idx, st);
            return idx + 1 + (jmp32 ? insn.imm() : insn.off());
        }
        if (op == EXIT) {
            if (src(insn.code()) != K || insn.imm() != 0 || insn.src() != 0 || insn.dst() != 0 || jmp32) {
                throw VerifierError.einval("BPF_EXIT uses reserved fields");
            }
            logInsn(idx, st);
            if (st.curframe() > 0) {
                return prepareFuncExit(idx, st);
            }
            CheckReferences.checkLeak(st, "BPF_EXIT instruction in main prog"); // check_resource_leak
            checkReturnCode(st);
            return -1;
        }
        if (op == 0xe0) {
            if (insn.src() != 0 || insn.dst() != 0 || insn.imm() != 0 || insn.off() == 0) {
                throw VerifierError.einval("invalid may_goto imm " + insn.imm());
            }
            throw VerifierError.einval("engine: may_goto is not supported");
        }
        return condJmp(idx, insn, st, stack, op, jmp32);
    }

    private int condJmp(int idx, Insn insn, VerifierState st, Deque<Pending> stack, int op, boolean jmp32)
            throws VerifierError {
        checkRegRead(st, insn.dst());
        boolean x = src(insn.code()) == X;
        RegState dst = st.regs[insn.dst()];
        RegState src;
        if (x) {
            if (insn.imm() != 0) {
                throw VerifierError.einval("BPF_JMP/JMP32 uses reserved fields");
            }
            checkRegRead(st, insn.src());
            src = st.regs[insn.src()];
        } else {
            if (insn.src() != 0) {
                throw VerifierError.einval("BPF_JMP/JMP32 uses reserved fields");
            }
            src = RegState.constant(insn.imm());
        }
        int target = idx + 1 + insn.off();
        int pred = CheckCondJmp.branchTaken(dst, src, op, jmp32);
        if (pred >= 0) {
            logInsn(idx, st, insn.dst(), x ? insn.src() : -1);
            return pred == 1 ? target : idx + 1;
        }
        VerifierState other = st.copy();
        st.checkpoint.pending++;
        // other = jump taken, st = fall through
        condJmp.refine(idx, insn, dst, src, st, other);
        logInsn(idx, st, insn.dst(), x ? insn.src() : -1);
        stack.push(new Pending(target, idx, other, lastInsnTextEnd));
        return idx + 1;
    }

    // ================================================================ bpf-to-bpf calls

    /**
     * check_func_call for a static subprogram (no BTF, so no global functions): a new frame in
     * which R1-R5 are the caller's arguments, R6-R9 unreadable and R10 the callee's own frame
     * pointer; the caller's R0-R5 are unreadable from now on (clear_caller_saved_regs). The
     * callee is verified inline, with the caller's state, at each call site.
     */
    private int checkFuncCall(int idx, Insn insn, VerifierState st) throws VerifierError {
        logInsn(idx, st);
        int target = idx + insn.imm() + 1;
        int subprog = env.subprogAt(target);
        if (subprog < 0) {
            // add_subprog made every call target a subprogram start
            throw new VerifierError(Errno.EFAULT, "verifier bug: target of func call at insn " + target
                    + " is not a program");
        }
        if (st.curframe() + 1 >= VerifierState.MAX_CALL_FRAMES) {
            throw new VerifierError(Errno.E2BIG, "the call stack of " + (st.curframe() + 2) + " frames is too deep");
        }
        FuncState caller = st.cur();
        FuncState callee = FuncState.entry(idx, st.curframe() + 1, subprog);
        System.arraycopy(caller.regs, 1, callee.regs, 1, 5);
        for (int r = 0; r <= 5; r++) {
            caller.regs[r] = RegState.NOT_INIT;
        }
        st.pushFrame(callee);
        if (logLevel > 0) {
            log.append("caller:\n ").append(StatePrinter.state(caller)).append('\n');
            log.append("callee:\n ").append(StatePrinter.state(callee)).append('\n');
        }
        printStateLine = true;
        return target;
    }

    /**
     * prepare_func_exit: the callee's R0 becomes the caller's R0 as it is, even unreadable (6.18
     * checks it only where the caller reads it), but never a pointer into a stack: the callee's
     * is gone. The path continues after the call. No return-value range applies here, only at
     * the main program's exit.
     */
    private int prepareFuncExit(int idx, VerifierState st) throws VerifierError {
        if (st.regs[0].type() == RegType.PTR_TO_STACK) {
            throw VerifierError.einval("cannot return stack pointer to the caller");
        }
        RegState r0 = st.regs[0];
        FuncState callee = st.popFrame();
        st.regs[0] = r0;
        int next = callee.callsite + 1;
        if (logLevel > 0) {
            log.append("returning from callee:\n ").append(StatePrinter.state(callee)).append('\n');
            log.append("to caller at ").append(next).append(":\n ").append(StatePrinter.state(st)).append('\n');
        }
        printFrom = true;
        return next;
    }

    /**
     * check_max_stack_depth, after the paths are verified: along every chain of calls in the
     * program text (dead code included), the frames' stack depths, each rounded up to 16 bytes
     * as for a JITed program, may add up to 512 bytes at most, and a chain may hold 8 frames.
     * Only subprograms some path entered have a depth; a recursive chain ends at the frame limit.
     */
    void checkMaxStackDepth() throws VerifierError {
        int[] start = env.subprogStart;
        int[] retInsn = new int[VerifierState.MAX_CALL_FRAMES];
        int[] retProg = new int[VerifierState.MAX_CALL_FRAMES];
        int frame = 0;
        int idx = 0;
        int i = 0;
        int depth = 0;
        boolean enter = true;
        while (true) {
            if (enter) {
                depth += roundUpStackDepth(env.stackDepth[idx]);
                if (depth > VerifierState.MAX_BPF_STACK) {
                    throw VerifierError.eacces("combined stack size of " + (frame + 1) + " calls is " + depth
                            + ". Too large");
                }
            }
            enter = false;
            int end = idx + 1 < start.length ? start[idx + 1] : prog.size();
            for (; i < end; i++) {
                Insn insn = prog.get(i);
                boolean pseudoCall = insn.code() == (JMP | CALL) && insn.src() == PSEUDO_CALL;
                boolean pseudoFunc = insn.code() == LD_IMM64 && insn.src() == PSEUDO_FUNC;
                if (!pseudoCall && !pseudoFunc) {
                    continue;
                }
                retInsn[frame] = i + 1;
                retProg[frame] = idx;
                i = i + insn.imm() + 1;
                idx = env.subprogAt(i);
                frame++;
                if (frame >= VerifierState.MAX_CALL_FRAMES) {
                    throw new VerifierError(Errno.E2BIG, "the call stack of " + frame + " frames is too deep !");
                }
                enter = true;
                break;
            }
            if (enter) {
                continue;
            }
            if (frame == 0) {
                return;
            }
            depth -= roundUpStackDepth(env.stackDepth[idx]);
            frame--;
            i = retInsn[frame];
            idx = retProg[frame];
        }
    }

    /** round_up_stack_depth for a program the kernel JITs: 16-byte steps. */
    private static int roundUpStackDepth(int depth) {
        return (depth + 15) & ~15;
    }

    // ================================================================ exit

    private void checkReturnCode(VerifierState st) throws VerifierError {
        checkRegRead(st, 0);
        ReturnRange range = ReturnRange.of(env.type, env.attach);
        if (range == null) {
            return;
        }
        RegState r0 = st.regs[0];
        if (!r0.isScalar()) {
            throw VerifierError.einval("At program exit the register R0 is not a known value (" + r0.typeName() + ")");
        }
        Scalar v = r0.val();
        if (v.smin() < range.min() || v.smax() > range.max()) {
            StringBuilder sb = new StringBuilder("At program exit the register R0 has");
            boolean unknown = true;
            if (v.smin() > Long.MIN_VALUE) {
                sb.append(" smin=").append(v.smin());
                unknown = false;
            }
            if (v.smax() < Long.MAX_VALUE) {
                sb.append(" smax=").append(v.smax());
                unknown = false;
            }
            if (unknown) {
                sb.append(" unknown scalar value");
            }
            sb.append(" should have been in [").append(range.min()).append(", ").append(range.max()).append(']');
            throw VerifierError.einval(sb.toString());
        }
        if (range.enforceAttachMin() >= 0 && Tnum.range(2, 3).contains(v.var())) {
            env.enforceExpectedAttach = true;
        }
    }
}
