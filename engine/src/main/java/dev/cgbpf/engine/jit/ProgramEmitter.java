package dev.cgbpf.engine.jit;

import static org.objectweb.asm.Opcodes.*;

import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;

/**
 * Writes the body of {@code JitCode.run} for one program: eBPF registers as long locals, each
 * instruction as the bytecode of its interpreter case, branches as jumps, bpf-to-bpf calls
 * inlined (each call site gets its own copy of the callee, at its own depth), helpers as calls
 * through the machine's helper table.
 *
 * <p>Checks: a stack access at an offset the {@link FunctionFlow} proves inside the running frame
 * indexes the frame's bytes directly (or, for the main function's 8-byte slots, is a local: see
 * {@link PromotedSlots}); a context access at a known offset goes to the context
 * (which checks the field as the verifier's ctx rule does); everything else goes through the
 * checked {@link Machine}. Faults become the interpreter's {@code ProgramFault} naming the same
 * instruction, through one exception-table entry per instruction that can fault.
 *
 * <p>The instruction budget: a program without loops executes at most as many instructions as its
 * inlined copies hold, so with a budget at least that large no counting is needed (a smaller one
 * leaves the whole run to the interpreter). A program with loops counts per block, and when a
 * block would overrun, hands its state to the interpreter at the block's first instruction, so
 * the run stops exactly where the interpreter stops it.
 *
 * <p>Why one long class: it is the compiler's counterpart of the interpreter's one dispatch
 * switch, one case per instruction class sharing the local-slot layout, the labels and the
 * fault table of the method being written; split up, every piece would need all of that state.
 */
final class ProgramEmitter {
    static final String MACHINE = "dev/cgbpf/engine/interp/Machine";
    static final String INTERP = "dev/cgbpf/engine/interp/Interpreter";
    static final String RUNTIME = "dev/cgbpf/engine/jit/JitRuntime";
    static final String CTX_TYPE = "dev/cgbpf/engine/interp/ProgContext";
    static final String FAULT = "dev/cgbpf/engine/interp/Fault";
    static final String HELPERS = "dev/cgbpf/engine/interp/HelperTable";
    static final String HELPER = "dev/cgbpf/engine/interp/Helper";
    static final String PROGRAM_FAULT = "dev/cgbpf/engine/interp/ProgramFault";

    // local variable slots
    private static final int M = 1;
    private static final int BUDGET = 2;
    private static final int INTERP_SLOT = 4;
    private static final int LEFT = 27;
    private static final int PC = 29;
    private static final int CTX = 30;
    private static final int CTX_SIZE = 31;
    /** The context's direct reads ({@link dev.cgbpf.engine.interp.ProgContext#directReads}) and image. */
    private static final int CTX_READS = 120;
    private static final int CTX_IMAGE = 121;
    /** A map-value index being read (see {@link #viewLoad}); the array views of lookup sites from VIEWS on. */
    private static final int VALUE_INDEX = 122;
    private static final int VIEWS = 123;
    /** Lookup sites that get an array view of their own; further ones call the helper path. */
    private static final int MAX_VIEWS = 64;
    static final String VIEW = "dev/cgbpf/engine/jit/JitRuntime$ArrayView";
    private static final int DEPTHS = Machine.MAX_FRAMES;
    /**
     * After the views' locals, as many as are used (every local widens every stack map frame
     * ASM computes, and ASM bounds that work): one int per context read with a flag (see
     * {@link #ctxFlags}), the promoted frame slots' longs ({@link PromotedSlots}), and a long the
     * inline unsigned division by a constant works in ({@link #divTmp}).
     */
    private static final int MAX_CTX_FLAGS = 32;
    /**
     * Promoted slots are read again after every call out that may write the frame (about 13
     * bytes of bytecode a slot); above this many such sites times slots that code would cost more
     * bytecode (and parts) than the locals save, and nothing is promoted.
     */
    private static final int MAX_RELOADS = 300;
    /** The class's method that writes the promoted slots back to the frame's bytes. */
    static final String SYNC = "sync";
    static final String VAR_HANDLE = "java/lang/invoke/VarHandle";

    private static int reg(int r) {
        return 5 + 2 * r;
    }

    private static int stackSlot(int depth) {
        return 32 + depth;
    }

    private static int fpSlot(int depth) {
        return 40 + 2 * depth;
    }

    private static int saveSlot(int depth, int r) {
        return 56 + 2 * (4 * depth + (r - 6));
    }

    /** Inlined copies of all functions together may not exceed this many instructions. */
    static final int MAX_INLINED = 20_000;

    private final Program program;
    private final Interpreter interp;
    private final Map<Integer, FunctionFlow> flows = new HashMap<>();
    private final List<Instance> instances = new ArrayList<>();
    private final List<int[]> faultRanges = new ArrayList<>();
    private final List<Label[]> faultLabels = new ArrayList<>();
    private boolean counting;
    private int inlined;
    private PromotedSlots promoted = PromotedSlots.none(VIEWS);
    private int divTmp = VIEWS;
    /** The context reads with a flag local, by offset << 4 | size, in the order of their locals. */
    private final Map<Long, Integer> ctxFlags = new java.util.LinkedHashMap<>();
    /**
     * The long local holding each flagged context read's value, read from the image at a
     * method's start and again after anything that may write the context (a store through a
     * pointer the flow does not prove in the frame, an atomic, a helper); empty when those are
     * too many to be worth it. A read then is a test of its flag and a local.
     */
    private final Map<Long, Integer> ctxCache = new java.util.LinkedHashMap<>();
    private MethodVisitor mv;
    /** Main-function instructions where a new part (a method of its own) begins, ascending. */
    private int[] bounds = new int[0];
    /** The next inlined instance to emit, across the parts. */
    private final int[] next = {0};

    /** The entry instructions of each part besides its first (see {@link #split}). */
    private List<java.util.TreeSet<Integer>> entries = new ArrayList<>();
    /** The main-function instructions of the part being written: [rangeFrom, rangeTo). */
    private int rangeFrom;
    private int rangeTo = Integer.MAX_VALUE;
    /** The local of each lookup site with a constant map (instance index << 32 | pc), see {@link #views}. */
    private Map<Long, Integer> viewSlots;
    /** Per function: how many instructions lead to each index, and the last of them. */
    private final Map<FunctionFlow, int[][]> preds = new HashMap<>();

    /** Jumps out of the part being written, by target instruction. */
    private final Map<Integer, Label> trampolines = new java.util.TreeMap<>();

    /**
     * Descriptor of parts 1..: the run method's parameters, r0-r10 in the slots they have in run,
     * then the entry instruction (in slot 27, read before that slot becomes LEFT).
     */
    private static final String PART_PARAMS = "(L" + MACHINE + ";JL" + INTERP + ";JJJJJJJJJJJI";
    /** Parameter slots of a part before the carried locals: this, machine, budget, interpreter, r0-r10, entry. */
    private static final int PART_FIXED_SLOTS = 28;
    /** What a part hands to the part it calls besides the registers (see {@link #carry}). */
    private final CarriedLocals carried = new CarriedLocals();
    /** Whether the promoted slots and cached context values travel as parameters (else through the frame's bytes). */
    private boolean carrySlots;

    /** One inlined copy of a function: its depth and the call sites that led to it. */
    private record Instance(FunctionFlow flow, int depth, int[] returnPcs, Label[] labels, Label stub) {
    }

    ProgramEmitter(Program program, Interpreter interp) {
        this.program = program;
        this.interp = interp;
    }

    /** Decides what the run method needs, or names what the compiler does not cover. */
    String plan() {
        if (dev.cgbpf.engine.interp.TailCall.makesTailCalls(program)) {
            // a tail call leaves the compiled method for another program: the interpreter makes it
            return "bpf_tail_call (tail calls run on the interpreter)";
        }
        String why = plan(0, 0, new int[0]);
        if (why != null) {
            return why;
        }
        Instance main = instances.get(0);
        int flagsFrom = VIEWS + views().size();
        for (int pc = main.flow.reachable.nextSetBit(0); pc >= 0 && pc < main.flow.n;
                pc = main.flow.reachable.nextSetBit(pc + 1)) {
            Insn insn = program.get(pc);
            InsnKind k = InsnKind.of(insn.code());
            long co = k == InsnKind.LDX || k == InsnKind.LDSX ? ctxOffset(main, pc, insn.src(), insn.off()) : -1;
            if (co >= 0 && ctxFlags.size() < MAX_CTX_FLAGS) {
                ctxFlags.putIfAbsent(co << 4 | InsnKind.size(insn.code()), flagsFrom + ctxFlags.size());
            }
        }
        int promotedFrom = flagsFrom + ctxFlags.size();
        int sites = reloadSites();
        if (ctxFlags.size() * sites <= MAX_RELOADS) {
            for (Long key : ctxFlags.keySet()) {
                ctxCache.put(key, promotedFrom);
                promotedFrom += 2;
            }
        }
        PromotedSlots p = PromotedSlots.of(program, main.flow, promotedFrom);
        promoted = p.count() * sites <= MAX_RELOADS ? p : PromotedSlots.none(promotedFrom);
        divTmp = promoted.localsEnd();
        carry();
        return null;
    }

    /**
     * Decides what a part passes to the next (see {@link CarriedLocals}): always the context, its
     * tables, the running frame and the read flags; the promoted slots and cached context values
     * too while the parameters fit the JVM's 255 slots (else they are written back to the frame
     * before the call and read again after it).
     */
    private void carry() {
        carried.add(CTX, "L" + CTX_TYPE + ";");
        carried.add(CTX_SIZE, "I");
        carried.add(CTX_READS, "[B");
        carried.add(CTX_IMAGE, "[B");
        carried.add(stackSlot(0), "[B");
        carried.add(fpSlot(0), "J");
        for (int flag : ctxFlags.values()) {
            carried.add(flag, "I");
        }
        int more = 2 * (ctxCache.size() + promoted.count());
        carrySlots = PART_FIXED_SLOTS + carried.slots() + more <= CarriedLocals.MAX_PARAM_SLOTS;
        if (carrySlots) {
            for (int local : ctxCache.values()) {
                carried.add(local, "J");
            }
            for (int fi : promoted.frameIndices()) {
                carried.add(promoted.local(fi), "J");
            }
        }
    }

    /** Whether a cut passes the promoted slots and cached context values as parameters. */
    boolean carriesSlots() {
        return carrySlots;
    }

    /** The descriptor of the parts after the first. */
    String partDescriptor() {
        return PART_PARAMS + carried.descriptor() + ")J";
    }

    /** The instructions after whose call out the promoted slots are read again (see {@link #reload}). */
    private int reloadSites() {
        int sites = 0;
        for (Instance in : instances) {
            FunctionFlow f = in.flow;
            for (int pc = f.reachable.nextSetBit(0); pc >= 0 && pc < f.n; pc = f.reachable.nextSetBit(pc + 1)) {
                Insn insn = program.get(pc);
                InsnKind k = InsnKind.of(insn.code());
                boolean store = (k == InsnKind.ST || k == InsnKind.STX)
                        && frameIndex(in, pc, insn.dst(), insn.off(), InsnKind.size(insn.code())) < 0;
                if (store || k == InsnKind.ATOMIC || (k == InsnKind.CALL && insn.src() == 0)) {
                    sites++;
                }
            }
        }
        return sites;
    }

    PromotedSlots promoted() {
        return promoted;
    }

    private String plan(int entry, int depth, int[] returnPcs) {
        FunctionFlow f = flows.computeIfAbsent(entry, e -> new FunctionFlow(program, e, e == 0 && depth == 0));
        inlined += f.instructionCount();
        if (inlined > MAX_INLINED) {
            return "more than " + MAX_INLINED + " instructions once bpf-to-bpf calls are inlined";
        }
        counting |= f.loops;
        instances.add(new Instance(f, depth, returnPcs, new Label[f.n + 1], new Label()));
        if (depth + 1 >= DEPTHS) {
            return null; // its calls fault (too deep), as the interpreter's do
        }
        for (int pc = f.calls.nextSetBit(0); pc >= 0; pc = f.calls.nextSetBit(pc + 1)) {
            int[] rp = java.util.Arrays.copyOf(returnPcs, depth + 1);
            rp[depth] = pc;
            String why = plan(f.callee(pc), depth + 1, rp);
            if (why != null) {
                return why;
            }
        }
        return null;
    }

    boolean counting() {
        return counting;
    }

    int inlinedInstructions() {
        return inlined;
    }

    /**
     * Cuts the main function into {@code parts} methods (fewer when it has too few instructions),
     * for programs whose code HotSpot would not compile as one method, or would compile without
     * inlining the accessors (its inlining budget, DesiredMethodLimit, counts the caller's own
     * bytecode). Only programs without loops are cut: with counting, the budget would have to
     * cross methods too; without loops every branch goes forward, so the parts call each other in
     * a chain that ends. A part is entered at its first instruction or at any instruction a branch
     * or a return from an inlined call reaches from an earlier part (its {@code entry} parameter,
     * dispatched with a lookupswitch); the registers travel as parameters, and the part called
     * returns r0 to its caller's caller.
     *
     * @return the number of parts
     */
    int split(int parts) {
        if (counting || parts <= 1) {
            bounds = new int[0];
            return 1;
        }
        FunctionFlow f = instances.get(0).flow;
        List<Integer> pcs = new ArrayList<>();
        for (int pc = f.reachable.nextSetBit(1); pc >= 0 && pc < f.n; pc = f.reachable.nextSetBit(pc + 1)) {
            pcs.add(pc);
        }
        List<Integer> chosen = new ArrayList<>();
        for (int k = 1; k < parts && !pcs.isEmpty(); k++) {
            int b = pcs.get((int) ((long) pcs.size() * k / parts));
            if (chosen.isEmpty() || b > chosen.get(chosen.size() - 1)) {
                chosen.add(b);
            }
        }
        bounds = chosen.stream().mapToInt(Integer::intValue).toArray();
        entries = new ArrayList<>();
        for (int k = 0; k <= bounds.length; k++) {
            entries.add(new java.util.TreeSet<>());
        }
        for (int pc = f.reachable.nextSetBit(0); pc >= 0 && pc < f.n; pc = f.reachable.nextSetBit(pc + 1)) {
            List<Integer> targets = new ArrayList<>();
            for (int t : f.successors(pc)) {
                targets.add(t);
            }
            if (f.calls.get(pc)) {
                targets.add(pc + 1); // where the inlined callee returns
            }
            for (int t : targets) {
                if (t >= 0 && t <= f.n && partOf(t) != partOf(pc)) {
                    entries.get(partOf(t)).add(t);
                }
            }
        }
        return bounds.length + 1;
    }

    /** The part holding main-function instruction {@code pc}. */
    private int partOf(int pc) {
        int k = 0;
        while (k < bounds.length && bounds[k] <= pc) {
            k++;
        }
        return k;
    }

    static String partName(int k) {
        return k == 0 ? "run" : "part" + k;
    }

    /**
     * Emits part {@code k}'s code (part 0 is {@code JitCode.run}); parts must be emitted in order.
     * Returns a label at its end (its offset is the code's length once written).
     */
    Label emitPart(MethodVisitor mv, int k) {
        this.mv = mv;
        faultRanges.clear();
        faultLabels.clear();
        trampolines.clear();
        rangeFrom = k == 0 ? 0 : bounds[k - 1];
        rangeTo = k < bounds.length ? bounds[k] : Integer.MAX_VALUE;
        mv.visitCode();
        Instance main = instances.get(0);
        if (k == 0) {
            prologue();
            next[0] = 1;
        } else {
            partPrologue();
            java.util.TreeSet<Integer> in = entries.get(k);
            in.add(rangeFrom);
            int[] keys = in.stream().mapToInt(Integer::intValue).toArray();
            Label[] targets = new Label[keys.length];
            for (int i = 0; i < keys.length; i++) {
                targets[i] = label(main, keys[i]);
            }
            mv.visitVarInsn(ILOAD, PC);
            mv.visitLookupSwitchInsn(label(main, rangeFrom), keys, targets);
        }
        emitInstance(main, null, rangeFrom, rangeTo);
        if (k < bounds.length) {
            // the instruction before the cut falls through into the next part
            mv.visitJumpInsn(GOTO, label(main, rangeTo));
        }
        for (Map.Entry<Integer, Label> t : trampolines.entrySet()) {
            // a jump out of this part: the part holding the target, entered there, returns r0
            mv.visitLabel(t.getValue());
            if (!carrySlots) {
                writeBack();
            }
            mv.visitVarInsn(ALOAD, 0);
            mv.visitVarInsn(ALOAD, M);
            mv.visitVarInsn(LLOAD, BUDGET);
            mv.visitVarInsn(ALOAD, INTERP_SLOT);
            for (int r = 0; r <= 10; r++) {
                mv.visitVarInsn(LLOAD, reg(r));
            }
            iconst(t.getKey());
            carried.push(mv);
            mv.visitMethodInsn(INVOKEVIRTUAL, JitCompiler.CLASS_NAME, partName(partOf(t.getKey())), partDescriptor(),
                    false);
            mv.visitInsn(LRETURN);
        }
        for (Instance in : instances) {
            if (counting) {
                emitStub(in);
            }
        }
        Label common = new Label();
        Label unsynced = new Label();
        for (int i = 0; i < faultRanges.size(); i++) {
            Label[] l = faultLabels.get(i);
            mv.visitTryCatchBlock(l[0], l[1], l[2], FAULT);
        }
        for (int i = 0; i < faultRanges.size(); i++) {
            Label[] l = faultLabels.get(i);
            mv.visitLabel(l[2]);
            iconst(faultRanges.get(i)[0]);
            mv.visitJumpInsn(GOTO, faultRanges.get(i)[1] == 1 ? common : unsynced);
        }
        if (!faultRanges.isEmpty()) {
            mv.visitLabel(unsynced);
            writeBack();
            mv.visitLabel(common);
            mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "programFault",
                    "(L" + FAULT + ";I)L" + PROGRAM_FAULT + ";", false);
            mv.visitInsn(ATHROW);
        }
        Label end = new Label();
        mv.visitLabel(end);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
        return end;
    }

    private void prologue() {
        for (int r = 0; r <= 10; r++) {
            mv.visitInsn(LCONST_0);
            mv.visitVarInsn(LSTORE, reg(r));
        }
        mv.visitVarInsn(ALOAD, M);
        mv.visitMethodInsn(INVOKEVIRTUAL, MACHINE, "ctxAddress", "()J", false);
        mv.visitVarInsn(LSTORE, reg(1));
        contextAndFrame();
        frames(true);
        mv.visitVarInsn(LLOAD, fpSlot(0));
        mv.visitVarInsn(LSTORE, reg(10));
        budget();
    }

    /** A later part: the registers and the {@link #carried} locals are its parameters. */
    private void partPrologue() {
        mv.visitVarInsn(ILOAD, PART_FIXED_SLOTS - 1);
        carried.receive(mv, PART_FIXED_SLOTS);
        mv.visitVarInsn(ISTORE, PC);
        frames(!carrySlots);
        mv.visitVarInsn(LLOAD, BUDGET);
        mv.visitVarInsn(LSTORE, LEFT);
    }

    /** The context, its tables and read flags, and the running frame, looked up. */
    private void contextAndFrame() {
        mv.visitVarInsn(ALOAD, M);
        mv.visitMethodInsn(INVOKEVIRTUAL, MACHINE, "ctx", "()L" + CTX_TYPE + ";", false);
        mv.visitInsn(DUP);
        mv.visitVarInsn(ASTORE, CTX);
        mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "ctxSize", "(L" + CTX_TYPE + ";)I", false);
        mv.visitVarInsn(ISTORE, CTX_SIZE);
        mv.visitVarInsn(ALOAD, CTX);
        mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "ctxReads", "(L" + CTX_TYPE + ";)[B", false);
        mv.visitVarInsn(ASTORE, CTX_READS);
        mv.visitVarInsn(ALOAD, CTX);
        mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "ctxImage", "(L" + CTX_TYPE + ";)[B", false);
        mv.visitVarInsn(ASTORE, CTX_IMAGE);
        for (Map.Entry<Long, Integer> f : ctxFlags.entrySet()) {
            // reads[co] & size: the context allows this read directly
            int co = (int) (f.getKey() >>> 4);
            int size = (int) (f.getKey() & 0xf);
            Label no = new Label();
            Label set = new Label();
            iconst(co);
            mv.visitVarInsn(ALOAD, CTX_READS);
            mv.visitInsn(ARRAYLENGTH);
            mv.visitJumpInsn(IF_ICMPGE, no);
            mv.visitVarInsn(ALOAD, CTX_READS);
            iconst(co);
            mv.visitInsn(BALOAD);
            iconst(1 << Integer.numberOfTrailingZeros(size));
            mv.visitInsn(IAND);
            mv.visitJumpInsn(GOTO, set);
            mv.visitLabel(no);
            mv.visitInsn(ICONST_0);
            mv.visitLabel(set);
            mv.visitVarInsn(ISTORE, f.getValue());
        }
        loadFrame(0);
    }

    /**
     * The lookup sites' views and the frames of inlined calls, empty until used; with
     * {@code reload}, the promoted slots and cached context values read from the bytes.
     */
    private void frames(boolean reload) {
        for (int slot : views().values()) {
            mv.visitInsn(ACONST_NULL);
            mv.visitVarInsn(ASTORE, slot);
        }
        int maxDepth = 0;
        for (Instance in : instances) {
            maxDepth = Math.max(maxDepth, in.depth);
        }
        for (int d = 0; d <= maxDepth; d++) {
            if (d > 0) {
                mv.visitInsn(ACONST_NULL);
                mv.visitVarInsn(ASTORE, stackSlot(d));
                mv.visitInsn(LCONST_0);
                mv.visitVarInsn(LSTORE, fpSlot(d));
            }
            if (d < maxDepth) {
                for (int r = 6; r <= 9; r++) {
                    mv.visitInsn(LCONST_0);
                    mv.visitVarInsn(LSTORE, saveSlot(d, r));
                }
            }
        }
        if (reload) {
            reload();
            reloadCtx();
        }
    }

    private void budget() {
        mv.visitVarInsn(LLOAD, BUDGET);
        mv.visitVarInsn(LSTORE, LEFT);
        mv.visitInsn(ICONST_0);
        mv.visitVarInsn(ISTORE, PC);
        if (!counting) {
            // without loops at most `inlined` instructions run: a smaller budget is the interpreter's to enforce
            Label enough = new Label();
            mv.visitVarInsn(LLOAD, BUDGET);
            lconst(inlined);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(IFGE, enough);
            mv.visitVarInsn(ALOAD, INTERP_SLOT);
            mv.visitVarInsn(ALOAD, M);
            mv.visitVarInsn(LLOAD, BUDGET);
            mv.visitMethodInsn(INVOKEVIRTUAL, INTERP, "run", "(L" + MACHINE + ";J)J", false);
            mv.visitInsn(LRETURN);
            mv.visitLabel(enough);
        }
    }

    private void loadFrame(int d) {
        mv.visitVarInsn(ALOAD, M);
        iconst(d);
        mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "stack", "(L" + MACHINE + ";I)[B", false);
        mv.visitVarInsn(ASTORE, stackSlot(d));
        mv.visitVarInsn(ALOAD, M);
        iconst(d);
        mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "fp", "(L" + MACHINE + ";I)J", false);
        mv.visitVarInsn(LSTORE, fpSlot(d));
    }

    /**
     * Emits the instructions {@code from} (inclusive) to {@code to} of one instance (and, at its call
     * sites, the instances inlined there, which are the next ones in {@link #next}).
     */
    private void emitInstance(Instance in, Label returnTo, int from, int to) {
        FunctionFlow f = in.flow;
        for (int pc = f.reachable.nextSetBit(from); pc >= 0 && pc < to; pc = f.reachable.nextSetBit(pc + 1)) {
            mv.visitLabel(label(in, pc));
            if (counting && f.leaders.get(pc)) {
                countBlock(in, pc, f.blockLength(pc));
            }
            if (pc >= f.n) {
                throwFault(pc, "fell off the end of the program");
                continue;
            }
            Insn insn = program.get(pc);
            emitInsn(in, returnTo, pc, insn);
            // fall through to the successor when it is not what comes next
            int[] succ = f.successors(pc);
            InsnKind k = InsnKind.of(insn.code());
            if (succ.length > 0 && k != InsnKind.JA && k != InsnKind.JA32) {
                int ft = succ[0];
                if (f.reachable.nextSetBit(pc + 1) != ft) {
                    mv.visitJumpInsn(GOTO, label(in, ft));
                }
            }
        }
    }

    private Label label(Instance in, int pc) {
        if (in == instances.get(0) && (pc < rangeFrom || pc >= rangeTo)) {
            return trampolines.computeIfAbsent(pc, t -> new Label());
        }
        Label l = in.labels[pc];
        if (l == null) {
            l = new Label();
            in.labels[pc] = l;
        }
        return l;
    }

    private void countBlock(Instance in, int pc, int len) {
        Label ok = new Label();
        mv.visitVarInsn(LLOAD, LEFT);
        lconst(len);
        mv.visitInsn(LSUB);
        mv.visitInsn(DUP2);
        mv.visitVarInsn(LSTORE, LEFT);
        mv.visitInsn(LCONST_0);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFGE, ok);
        mv.visitVarInsn(LLOAD, LEFT);
        lconst(len);
        mv.visitInsn(LADD);
        mv.visitVarInsn(LSTORE, LEFT);
        iconst(pc);
        mv.visitVarInsn(ISTORE, PC);
        mv.visitJumpInsn(GOTO, in.stub);
        mv.visitLabel(ok);
    }

    /** The hand-over to the interpreter at the instruction in PC, with this instance's call stack. */
    private void emitStub(Instance in) {
        mv.visitLabel(in.stub);
        writeBack();
        mv.visitVarInsn(ALOAD, INTERP_SLOT);
        mv.visitVarInsn(ALOAD, M);
        mv.visitVarInsn(LLOAD, BUDGET);
        mv.visitVarInsn(LLOAD, LEFT);
        iconst(11);
        mv.visitIntInsn(NEWARRAY, T_LONG);
        for (int r = 0; r <= 10; r++) {
            mv.visitInsn(DUP);
            iconst(r);
            mv.visitVarInsn(LLOAD, reg(r));
            mv.visitInsn(LASTORE);
        }
        mv.visitVarInsn(ILOAD, PC);
        iconst(in.depth);
        iconst(in.depth);
        mv.visitIntInsn(NEWARRAY, T_INT);
        for (int d = 0; d < in.depth; d++) {
            mv.visitInsn(DUP);
            iconst(d);
            iconst(in.returnPcs[d]);
            mv.visitInsn(IASTORE);
        }
        iconst(5 * in.depth);
        mv.visitIntInsn(NEWARRAY, T_LONG);
        for (int d = 0; d < in.depth; d++) {
            for (int r = 6; r <= 10; r++) {
                mv.visitInsn(DUP);
                iconst(5 * d + r - 6);
                mv.visitVarInsn(LLOAD, r == 10 ? fpSlot(d) : saveSlot(d, r));
                mv.visitInsn(LASTORE);
            }
        }
        mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "resume", "(L" + INTERP + ";L" + MACHINE + ";JJ[JII[I[J)J", false);
        mv.visitInsn(LRETURN);
    }

    private void emitInsn(Instance in, Label returnTo, int pc, Insn insn) {
        int code = insn.code();
        switch (InsnKind.of(code)) {
            case ALU64 -> alu64(insn);
            case ALU32 -> alu32(insn);
            case JA -> mv.visitJumpInsn(GOTO, label(in, pc + 1 + insn.off()));
            case JA32 -> mv.visitJumpInsn(GOTO, label(in, pc + 1 + insn.imm()));
            case COND -> cond(insn, label(in, pc + 1 + insn.off()));
            case LD_IMM64 -> {
                lconst(interp.imm64(pc));
                mv.visitVarInsn(LSTORE, reg(insn.dst()));
            }
            case LDX, LDSX -> load(in, pc, insn);
            case ST, STX -> store(in, pc, insn);
            case ATOMIC -> atomic(pc, insn);
            case LD_ABS -> ldAbs(pc, insn);
            case CALL -> call(in, pc, insn);
            case EXIT -> exit(in, returnTo);
            case INVALID -> throwFault(pc, "invalid opcode 0x" + Integer.toHexString(code));
        }
    }

    // ------------------------------------------------------------------ ALU

    private void src64(Insn insn) {
        if ((insn.code() & 0x08) != 0) {
            mv.visitVarInsn(LLOAD, reg(insn.src()));
        } else {
            lconst(insn.imm());
        }
    }

    private void src32(Insn insn) {
        if ((insn.code() & 0x08) != 0) {
            mv.visitVarInsn(LLOAD, reg(insn.src()));
            mv.visitInsn(L2I);
        } else {
            iconst(insn.imm());
        }
    }

    /** The shift count as an int (the JVM masks it to 63 or 31, as the interpreter's Java shifts do). */
    private void shiftCount(Insn insn) {
        src32(insn);
    }

    private void alu64(Insn insn) {
        int d = reg(insn.dst());
        int op = insn.code() & 0xf0;
        switch (op) {
            case 0xb0 -> {
                if ((insn.code() & 0x08) == 0) {
                    lconst(insn.imm());
                } else {
                    mv.visitVarInsn(LLOAD, reg(insn.src()));
                    switch (insn.off()) {
                        case 0 -> {
                        }
                        case 8 -> signExtend(I2B);
                        case 16 -> signExtend(I2S);
                        case 32 -> signExtend(NOP);
                        default -> {
                        }
                    }
                }
            }
            case 0x80 -> {
                mv.visitVarInsn(LLOAD, d);
                mv.visitInsn(LNEG);
            }
            case 0xd0 -> {
                mv.visitVarInsn(LLOAD, d);
                iconst(insn.imm());
                mv.visitMethodInsn(INVOKESTATIC, INTERP, "bswap", "(JI)J", false);
            }
            case 0x60, 0x70, 0xc0 -> {
                mv.visitVarInsn(LLOAD, d);
                shiftCount(insn);
                mv.visitInsn(op == 0x60 ? LSHL : op == 0x70 ? LUSHR : LSHR);
            }
            case 0x30, 0x90 -> {
                if ((insn.code() & 0x08) == 0) {
                    divConst64(insn, d, op == 0x90);
                    break;
                }
                mv.visitVarInsn(LLOAD, d);
                src64(insn);
                String name = (op == 0x30 ? "div64" : "mod64");
                name = (insn.off() == 0 ? "u" : "s") + name.substring(0, 3) + "64";
                mv.visitMethodInsn(INVOKESTATIC, INTERP, name, "(JJ)J", false);
            }
            default -> {
                mv.visitVarInsn(LLOAD, d);
                src64(insn);
                mv.visitInsn(switch (op) {
                    case 0x00 -> LADD;
                    case 0x10 -> LSUB;
                    case 0x20 -> LMUL;
                    case 0x40 -> LOR;
                    case 0x50 -> LAND;
                    default -> LXOR;
                });
            }
        }
        mv.visitVarInsn(LSTORE, d);
    }

    /**
     * {@code dst /= imm} or {@code dst %= imm}, 64-bit, leaving the result on the stack: the
     * interpreter's {@code udiv64}/{@code sdiv64}/{@code umod64}/{@code smod64} with the divisor
     * known, written out so that C2 sees a division by a constant (a multiply) and no call. An
     * unsigned divisor of 2^63 or more (a negative imm) keeps the call.
     */
    private void divConst64(Insn insn, int d, boolean mod) {
        long b = insn.imm();
        boolean signed = insn.off() != 0;
        if (b == 0) {
            // division by zero gives 0, modulo by zero leaves dst
            if (mod) {
                mv.visitVarInsn(LLOAD, d);
            } else {
                mv.visitInsn(LCONST_0);
            }
        } else if (signed) {
            mv.visitVarInsn(LLOAD, d);
            lconst(b);
            mv.visitInsn(mod ? LREM : LDIV);
        } else if (b < 0) {
            mv.visitVarInsn(LLOAD, d);
            lconst(b);
            mv.visitMethodInsn(INVOKESTATIC, INTERP, mod ? "umod64" : "udiv64", "(JJ)J", false);
        } else if (Long.bitCount(b) == 1) {
            // dst >> log2(imm), dst & (imm - 1)
            mv.visitVarInsn(LLOAD, d);
            if (mod) {
                lconst(b - 1);
                mv.visitInsn(LAND);
            } else {
                iconst(Long.numberOfTrailingZeros(b));
                mv.visitInsn(LUSHR);
            }
        } else {
            // q = ((dst >> 1) / imm) << 1; r = dst - q * imm; if (r >= imm) q++ (Hacker's Delight
            // 9-3: r < 2 * imm, so the signed compare is the unsigned one)
            Label done = new Label();
            mv.visitVarInsn(LLOAD, d);
            mv.visitInsn(ICONST_1);
            mv.visitInsn(LUSHR);
            lconst(b);
            mv.visitInsn(LDIV);
            mv.visitInsn(ICONST_1);
            mv.visitInsn(LSHL);
            mv.visitVarInsn(LSTORE, divTmp);
            mv.visitVarInsn(LLOAD, d);
            mv.visitVarInsn(LLOAD, divTmp);
            lconst(b);
            mv.visitInsn(LMUL);
            mv.visitInsn(LSUB);
            lconst(b);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(IFLT, done);
            mv.visitVarInsn(LLOAD, divTmp);
            mv.visitInsn(LCONST_1);
            mv.visitInsn(LADD);
            mv.visitVarInsn(LSTORE, divTmp);
            mv.visitLabel(done);
            if (mod) {
                mv.visitVarInsn(LLOAD, d);
                mv.visitVarInsn(LLOAD, divTmp);
                lconst(b);
                mv.visitInsn(LMUL);
                mv.visitInsn(LSUB);
            } else {
                mv.visitVarInsn(LLOAD, divTmp);
            }
        }
    }

    /**
     * {@code w(dst) /= imm} or {@code %=}, 32-bit, the result zero-extended on the stack: as the
     * interpreter's {@code udiv32}/{@code sdiv32}/{@code umod32}/{@code smod32}, with the divisor
     * known (unsigned: the operands as non-negative longs).
     */
    private void divConst32(Insn insn, int d, boolean mod) {
        int b = insn.imm();
        boolean signed = insn.off() != 0;
        mv.visitVarInsn(LLOAD, d);
        mv.visitInsn(L2I);
        if (b == 0) {
            // division by zero gives 0, modulo by zero leaves w(dst)
            if (!mod) {
                mv.visitInsn(POP);
                mv.visitInsn(ICONST_0);
            }
            u32();
        } else if (signed) {
            iconst(b);
            mv.visitInsn(mod ? IREM : IDIV);
            u32();
        } else {
            u32();
            lconst(b & 0xffffffffL);
            mv.visitInsn(mod ? LREM : LDIV);
        }
    }

    /** long on the stack → its low bits sign-extended to long (NOP: 32 bits). */
    private void signExtend(int narrow) {
        mv.visitInsn(L2I);
        if (narrow != NOP) {
            mv.visitInsn(narrow);
        }
        mv.visitInsn(I2L);
    }

    private void u32() {
        mv.visitInsn(I2L);
        lconst(0xffffffffL);
        mv.visitInsn(LAND);
    }

    private void alu32(Insn insn) {
        int d = reg(insn.dst());
        int code = insn.code();
        int op = code & 0xf0;
        switch (op) {
            case 0xb0 -> {
                if ((code & 0x08) == 0) {
                    lconst(insn.imm() & 0xffffffffL);
                } else {
                    mv.visitVarInsn(LLOAD, reg(insn.src()));
                    mv.visitInsn(L2I);
                    if (insn.off() == 8) {
                        mv.visitInsn(I2B);
                    } else if (insn.off() == 16) {
                        mv.visitInsn(I2S);
                    }
                    u32();
                }
            }
            case 0xd0 -> {
                mv.visitVarInsn(LLOAD, d);
                iconst(insn.imm());
                mv.visitMethodInsn(INVOKESTATIC, INTERP, code == 0xd4 ? "truncate" : "bswap", "(JI)J", false);
            }
            case 0x30, 0x90 -> {
                if ((code & 0x08) == 0) {
                    divConst32(insn, d, op == 0x90);
                    break;
                }
                mv.visitVarInsn(LLOAD, d);
                mv.visitInsn(L2I);
                src32(insn);
                String name = (insn.off() == 0 ? "u" : "s") + (op == 0x30 ? "div" : "mod") + "32";
                mv.visitMethodInsn(INVOKESTATIC, INTERP, name, "(II)J", false);
            }
            case 0x80 -> {
                mv.visitVarInsn(LLOAD, d);
                mv.visitInsn(L2I);
                mv.visitInsn(INEG);
                u32();
            }
            default -> {
                mv.visitVarInsn(LLOAD, d);
                mv.visitInsn(L2I);
                src32(insn);
                mv.visitInsn(switch (op) {
                    case 0x00 -> IADD;
                    case 0x10 -> ISUB;
                    case 0x20 -> IMUL;
                    case 0x40 -> IOR;
                    case 0x50 -> IAND;
                    case 0x60 -> ISHL;
                    case 0x70 -> IUSHR;
                    case 0xc0 -> ISHR;
                    default -> IXOR;
                });
                u32();
            }
        }
        mv.visitVarInsn(LSTORE, d);
    }

    // ------------------------------------------------------------------ branches

    private void cond(Insn insn, Label target) {
        int code = insn.code();
        int op = code & 0xf0;
        boolean x = (code & 0x08) != 0;
        boolean wide = (code & 0x07) == 0x05;
        boolean unsigned = op == 0x20 || op == 0x30 || op == 0xa0 || op == 0xb0;
        if (wide && unsigned && !x && insn.imm() >= 0) {
            unsignedImm(op, reg(insn.dst()), insn.imm(), target);
            return;
        }
        mv.visitVarInsn(LLOAD, reg(insn.dst()));
        if (wide) {
            if (op == 0x40) {
                src64(insn);
                mv.visitInsn(LAND);
                mv.visitInsn(LCONST_0);
                mv.visitInsn(LCMP);
                mv.visitJumpInsn(IFNE, target);
                return;
            }
            if (unsigned) {
                lconst(Long.MIN_VALUE);
                mv.visitInsn(LXOR);
                if (x) {
                    mv.visitVarInsn(LLOAD, reg(insn.src()));
                    lconst(Long.MIN_VALUE);
                    mv.visitInsn(LXOR);
                } else {
                    lconst((long) insn.imm() ^ Long.MIN_VALUE);
                }
            } else {
                src64(insn);
            }
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(switch (op) {
                case 0x10 -> IFEQ;
                case 0x50 -> IFNE;
                case 0x20, 0x60 -> IFGT;
                case 0x30, 0x70 -> IFGE;
                case 0xa0, 0xc0 -> IFLT;
                default -> IFLE;
            }, target);
            return;
        }
        mv.visitInsn(L2I);
        if (op == 0x40) {
            src32(insn);
            mv.visitInsn(IAND);
            mv.visitJumpInsn(IFNE, target);
            return;
        }
        if (unsigned) {
            iconst(Integer.MIN_VALUE);
            mv.visitInsn(IXOR);
            if (x) {
                mv.visitVarInsn(LLOAD, reg(insn.src()));
                mv.visitInsn(L2I);
                iconst(Integer.MIN_VALUE);
                mv.visitInsn(IXOR);
            } else {
                iconst(insn.imm() ^ Integer.MIN_VALUE);
            }
        } else {
            src32(insn);
        }
        mv.visitJumpInsn(switch (op) {
            case 0x10 -> IF_ICMPEQ;
            case 0x50 -> IF_ICMPNE;
            case 0x20, 0x60 -> IF_ICMPGT;
            case 0x30, 0x70 -> IF_ICMPGE;
            case 0xa0, 0xc0 -> IF_ICMPLT;
            default -> IF_ICMPLE;
        }, target);
    }

    /**
     * {@code if dst OP imm goto target}, unsigned 64-bit, with a non-negative immediate: as two
     * signed compares with small constants (a register with its sign bit set is above every such
     * immediate). The exclusive-or form needs two 64-bit constants per compare, each a move of
     * its own in x86 code; programs mostly compare against small immediates.
     */
    private void unsignedImm(int op, int dst, int imm, Label target) {
        boolean above = op == 0x20 || op == 0x30;
        Label skip = new Label();
        if (above) {
            // dst > imm (>=) as signed longs, or dst < 0
            mv.visitVarInsn(LLOAD, dst);
            lconst(imm);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(op == 0x20 ? IFGT : IFGE, target);
            mv.visitVarInsn(LLOAD, dst);
            mv.visitInsn(LCONST_0);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(IFLT, target);
        } else {
            // dst >= 0 and dst < imm (<=) as signed longs
            mv.visitVarInsn(LLOAD, dst);
            mv.visitInsn(LCONST_0);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(IFLT, skip);
            mv.visitVarInsn(LLOAD, dst);
            lconst(imm);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(op == 0xa0 ? IFLT : IFLE, target);
            mv.visitLabel(skip);
        }
    }

    // ------------------------------------------------------------------ memory

    /** Index into the running frame's bytes when the flow proves the access inside it, else -1. */
    private static int frameIndex(Instance in, int pc, int base, int off, int size) {
        return PromotedSlots.frameIndex(in.flow, pc, base, off, size);
    }

    /** The context offset when the flow proves the base is the context pointer plus a constant, else -1. */
    private static long ctxOffset(Instance in, int pc, int base, int off) {
        if (in.depth != 0 || in.flow.kind(pc, base) != FunctionFlow.CTX) {
            return -1;
        }
        long o = in.flow.offset(pc, base) + off;
        return o >= 0 && o < Integer.MAX_VALUE ? o : -1;
    }

    private void address(int base, int off) {
        mv.visitVarInsn(LLOAD, reg(base));
        lconst(off);
        mv.visitInsn(LADD);
    }

    private void load(Instance in, int pc, Insn insn) {
        int size = InsnKind.size(insn.code());
        boolean sx = InsnKind.of(insn.code()) == InsnKind.LDSX;
        int s = insn.src();
        int fi = frameIndex(in, pc, s, insn.off(), size);
        int local = promotedLocal(in, fi, size);
        if (local >= 0) {
            mv.visitVarInsn(LLOAD, local);
        } else if (fi >= 0) {
            view(size);
            mv.visitVarInsn(ALOAD, stackSlot(in.depth));
            iconst(fi);
            viewGet(size);
        } else {
            Label start = new Label();
            Label end = new Label();
            mv.visitLabel(start);
            long co = ctxOffset(in, pc, s, insn.off());
            Label generic = new Label();
            Label done = new Label();
            if (co >= 0) {
                ctxLoad((int) co, size, generic, done);
            } else {
                Integer view = viewLoad(in, pc, insn);
                if (view != null) {
                    // the value a lookup just returned: read from the array's bytes when the values
                    // region allows the read as Machine.load checks it, else that path (and its fault)
                    mv.visitVarInsn(ALOAD, view);
                    address(s, insn.off());
                    iconst(size);
                    mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "valueIndex", "(L" + VIEW + ";JI)I", false);
                    mv.visitInsn(DUP);
                    mv.visitVarInsn(ISTORE, VALUE_INDEX);
                    mv.visitJumpInsn(IFLT, generic);
                    view(size);
                    mv.visitVarInsn(ALOAD, view);
                    mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "valueBytes", "(L" + VIEW + ";)[B", false);
                    mv.visitVarInsn(ILOAD, VALUE_INDEX);
                    viewGet(size);
                    mv.visitJumpInsn(GOTO, done);
                }
                mv.visitLabel(generic);
                writeBack(); // the address may be in the frame
                mv.visitVarInsn(ALOAD, M);
                address(s, insn.off());
                iconst(size);
                mv.visitMethodInsn(INVOKEVIRTUAL, MACHINE, "load", "(JI)J", false);
            }
            mv.visitLabel(done);
            mv.visitLabel(end);
            faultRange(start, end, pc);
        }
        if (sx) {
            signExtend(size == 4 ? NOP : size == 2 ? I2S : I2B);
        }
        mv.visitVarInsn(LSTORE, reg(insn.dst()));
    }

    /**
     * A context read at offset {@code co} (the kernel's convert_ctx_access): one array read when
     * the context's rule allows it at this offset and size and its value is the image's bytes
     * (tested once per method, see {@link #ctxFlags}); else the context's checked load, or beyond
     * its end the machine's (an address in the context's own 4 GiB window, never the frame: no
     * write-back).
     */
    private void ctxLoad(int co, int size, Label generic, Label done) {
        int flag = ctxFlag(co, size);
        if (flag >= 0) {
            mv.visitVarInsn(ILOAD, flag);
            mv.visitJumpInsn(IFEQ, generic);
            Integer cached = ctxCache.get((long) co << 4 | size);
            if (cached != null) {
                mv.visitVarInsn(LLOAD, cached);
            } else {
                ctxImageGet(co, size);
            }
            mv.visitJumpInsn(GOTO, done);
        }
        mv.visitLabel(generic);
        mv.visitVarInsn(ALOAD, M);
        iconst(co);
        iconst(size);
        mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "ctxLoad", "(L" + MACHINE + ";II)J", false);
    }

    private void storeValue(Insn insn) {
        if (InsnKind.of(insn.code()) == InsnKind.ST) {
            lconst(insn.imm());
        } else {
            mv.visitVarInsn(LLOAD, reg(insn.src()));
        }
    }

    private void store(Instance in, int pc, Insn insn) {
        int size = InsnKind.size(insn.code());
        int d = insn.dst();
        int fi = frameIndex(in, pc, d, insn.off(), size);
        int local = promotedLocal(in, fi, size);
        if (local >= 0) {
            storeValue(insn);
            mv.visitVarInsn(LSTORE, local);
            return;
        }
        if (fi >= 0) {
            view(size);
            mv.visitVarInsn(ALOAD, stackSlot(in.depth));
            iconst(fi);
            storeValue(insn);
            viewSet(size);
            return;
        }
        Label start = new Label();
        Label end = new Label();
        mv.visitLabel(start);
        long co = ctxOffset(in, pc, d, insn.off());
        Label generic = new Label();
        Label done = new Label();
        if (co >= 0) {
            iconst((int) co);
            mv.visitVarInsn(ILOAD, CTX_SIZE);
            mv.visitJumpInsn(IF_ICMPGE, generic);
            mv.visitVarInsn(ALOAD, CTX);
            iconst((int) co);
            iconst(size);
            storeValue(insn);
            mv.visitMethodInsn(INVOKEINTERFACE, CTX_TYPE, "store", "(IIJ)V", true);
            mv.visitJumpInsn(GOTO, done);
        }
        mv.visitLabel(generic);
        if (co < 0) {
            writeBack(); // the address may be in the frame (a context's is in its own window)
        }
        mv.visitVarInsn(ALOAD, M);
        address(d, insn.off());
        iconst(size);
        storeValue(insn);
        mv.visitMethodInsn(INVOKEVIRTUAL, MACHINE, "store", "(JIJ)V", false);
        if (co < 0) {
            reload();
        }
        mv.visitLabel(done);
        mv.visitLabel(end);
        faultRange(start, end, pc);
        reloadCtx(); // the store may have been to the context
    }

    private void atomic(int pc, Insn insn) {
        int size = insn.code() == 0xdb ? 8 : 4;
        Label start = new Label();
        Label end = new Label();
        writeBack(); // the address may be in the frame
        mv.visitLabel(start);
        if (insn.imm() == dev.cgbpf.engine.isa.Opcodes.CMPXCHG) {
            mv.visitVarInsn(ALOAD, M);
            address(insn.dst(), insn.off());
            iconst(size);
            mv.visitVarInsn(LLOAD, reg(0));
            mv.visitVarInsn(LLOAD, reg(insn.src()));
            mv.visitMethodInsn(INVOKEVIRTUAL, MACHINE, "atomicCmpxchg", "(JIJJ)J", false);
            mv.visitVarInsn(LSTORE, reg(0));
        } else {
            mv.visitVarInsn(ALOAD, M);
            iconst(insn.imm() & ~dev.cgbpf.engine.isa.Opcodes.FETCH);
            address(insn.dst(), insn.off());
            iconst(size);
            mv.visitVarInsn(LLOAD, reg(insn.src()));
            mv.visitMethodInsn(INVOKEVIRTUAL, MACHINE, "atomicRmw", "(IJIJ)J", false);
            if ((insn.imm() & dev.cgbpf.engine.isa.Opcodes.FETCH) != 0) {
                mv.visitVarInsn(LSTORE, reg(insn.src()));
            } else {
                mv.visitInsn(POP2);
            }
        }
        mv.visitLabel(end);
        faultRange(start, end, pc);
        reload();
        reloadCtx();
    }

    private void ldAbs(int pc, Insn insn) {
        Label start = new Label();
        Label end = new Label();
        Label ok = new Label();
        mv.visitLabel(start);
        mv.visitVarInsn(ALOAD, M);
        if ((insn.code() & 0xe0) == 0x20) {
            iconst(insn.imm());
        } else {
            mv.visitVarInsn(LLOAD, reg(insn.src()));
            mv.visitInsn(L2I);
            iconst(insn.imm());
            mv.visitInsn(IADD);
        }
        iconst(InsnKind.size(insn.code()));
        mv.visitMethodInsn(INVOKEVIRTUAL, MACHINE, "loadAbs", "(II)J", false);
        mv.visitLabel(end);
        faultRange(start, end, pc);
        mv.visitVarInsn(LSTORE, reg(0));
        mv.visitVarInsn(LLOAD, reg(0));
        mv.visitInsn(LCONST_0);
        mv.visitInsn(LCMP);
        mv.visitJumpInsn(IFGE, ok);
        // out of the packet: the program ends with 0, from any depth
        writeBack();
        mv.visitInsn(LCONST_0);
        mv.visitInsn(LRETURN);
        mv.visitLabel(ok);
    }

    // ------------------------------------------------------------------ calls

    private void call(Instance in, int pc, Insn insn) {
        int key = insn.src() == 0 && insn.imm() == dev.cgbpf.engine.interp.BaseHelpers.MAP_LOOKUP_ELEM
                ? frameIndex(in, pc, 2, 0, 4) : -1;
        Integer view = key >= 0 ? views().get(siteKey(in, pc)) : null;
        if (view != null) {
            // r1 is a constant map: resolved once per run, then the array's bounds check inline
            Label start = new Label();
            Label end = new Label();
            Label have = new Label();
            writeBack(); // the helper may read or write the frame
            mv.visitLabel(start);
            mv.visitVarInsn(ALOAD, view);
            mv.visitJumpInsn(IFNONNULL, have);
            mv.visitVarInsn(ALOAD, M);
            lconst(constR1(in, pc));
            mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "arrayView", "(L" + MACHINE + ";J)L" + VIEW + ";", false);
            mv.visitVarInsn(ASTORE, view);
            mv.visitLabel(have);
            mv.visitVarInsn(ALOAD, view);
            mv.visitVarInsn(ALOAD, M);
            for (int r = 1; r <= 5; r++) {
                mv.visitVarInsn(LLOAD, reg(r));
            }
            mv.visitVarInsn(ALOAD, stackSlot(in.depth));
            iconst(key);
            mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "arrayLookup", "(L" + VIEW + ";L" + MACHINE + ";JJJJJ[BI)J", false);
            mv.visitLabel(end);
            faultRange(start, end, pc, true);
            mv.visitVarInsn(LSTORE, reg(0));
            reload();
            reloadCtx();
            return;
        }
        if (key >= 0) {
            // bpf_map_lookup_elem with its key in the frame: inlined for array maps (map_gen_lookup)
            Label start = new Label();
            Label end = new Label();
            writeBack(); // the helper may read or write the frame
            mv.visitLabel(start);
            mv.visitVarInsn(ALOAD, M);
            for (int r = 1; r <= 5; r++) {
                mv.visitVarInsn(LLOAD, reg(r));
            }
            mv.visitVarInsn(ALOAD, stackSlot(in.depth));
            iconst(key);
            mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "mapLookup", "(L" + MACHINE + ";JJJJJ[BI)J", false);
            mv.visitLabel(end);
            faultRange(start, end, pc, true);
            mv.visitVarInsn(LSTORE, reg(0));
            reload();
            reloadCtx();
            return;
        }
        if (insn.src() == 0) {
            Label start = new Label();
            Label end = new Label();
            writeBack(); // the helper may read or write the frame
            mv.visitLabel(start);
            mv.visitVarInsn(ALOAD, M);
            mv.visitMethodInsn(INVOKEVIRTUAL, MACHINE, "helpers", "()L" + HELPERS + ";", false);
            iconst(insn.imm());
            mv.visitMethodInsn(INVOKEVIRTUAL, HELPERS, "get", "(I)L" + HELPER + ";", false);
            mv.visitVarInsn(ALOAD, M);
            for (int r = 1; r <= 5; r++) {
                mv.visitVarInsn(LLOAD, reg(r));
            }
            mv.visitMethodInsn(INVOKEINTERFACE, HELPER, "call", "(L" + MACHINE + ";JJJJJ)J", true);
            mv.visitLabel(end);
            faultRange(start, end, pc, true);
            mv.visitVarInsn(LSTORE, reg(0));
            reload();
            reloadCtx();
            return;
        }
        if (insn.src() != dev.cgbpf.engine.isa.Opcodes.PSEUDO_CALL) {
            throwFault(pc, "kfunc calls are not supported by the engine");
            return;
        }
        if (in.depth + 1 >= DEPTHS) {
            throwFault(pc, "the call stack of " + Machine.MAX_FRAMES + " frames is too deep");
            return;
        }
        for (int r = 6; r <= 9; r++) {
            mv.visitVarInsn(LLOAD, reg(r));
            mv.visitVarInsn(LSTORE, saveSlot(in.depth, r));
        }
        loadFrame(in.depth + 1);
        mv.visitVarInsn(LLOAD, fpSlot(in.depth + 1));
        mv.visitVarInsn(LSTORE, reg(10));
        // the callee's code follows; its entry need not be its lowest instruction
        Instance callee = instances.get(next[0]++);
        mv.visitJumpInsn(GOTO, label(callee, callee.flow.entry));
        emitInstance(callee, label(in, pc + 1), 0, Integer.MAX_VALUE);
    }

    private void exit(Instance in, Label returnTo) {
        if (in.depth == 0) {
            writeBack();
            mv.visitVarInsn(LLOAD, reg(0));
            mv.visitInsn(LRETURN);
            return;
        }
        int caller = in.depth - 1;
        for (int r = 6; r <= 9; r++) {
            mv.visitVarInsn(LLOAD, saveSlot(caller, r));
            mv.visitVarInsn(LSTORE, reg(r));
        }
        mv.visitVarInsn(LLOAD, fpSlot(caller));
        mv.visitVarInsn(LSTORE, reg(10));
        mv.visitJumpInsn(GOTO, returnTo);
    }

    // ------------------------------------------------------------------ frame bytes and promoted slots

    /** The flag local of the context read at {@code co} of {@code size} bytes, or -1. */
    private int ctxFlag(long co, int size) {
        Integer l = ctxFlags.get(co << 4 | size);
        return l == null ? -1 : l;
    }

    /** The local of a promoted slot for an access of {@code size} bytes at frame index {@code fi} of depth 0, or -1. */
    private int promotedLocal(Instance in, int fi, int size) {
        return fi >= 0 && size == 8 && in.depth == 0 ? promoted.local(fi) : -1;
    }

    /**
     * Pushes the little-endian view of a byte array for {@code size}-byte accesses (nothing for
     * one byte). Invoked from the compiled code itself, the VarHandle's methods are all
     * force-inlined by C2, whatever the size of the method (a static accessor of our own is not
     * inlined once the method's own bytecode exceeds C2's inlining budget).
     */
    private void view(int size) {
        if (size > 1) {
            String name = size == 2 ? "SHORTS" : size == 4 ? "INTS" : "LONGS";
            mv.visitFieldInsn(GETSTATIC, RUNTIME, name, "L" + VAR_HANDLE + ";");
        }
    }

    /** Pushes the {@code size}-byte field at {@code co} of the context image, zero-extended to a long. */
    private void ctxImageGet(int co, int size) {
        view(size);
        mv.visitVarInsn(ALOAD, CTX_IMAGE);
        iconst(co);
        viewGet(size);
    }

    /** After {@link #view}, an array and an index: the value read, zero-extended to a long. */
    private void viewGet(int size) {
        switch (size) {
            case 1 -> {
                mv.visitInsn(BALOAD);
                mv.visitIntInsn(SIPUSH, 0xff);
                mv.visitInsn(IAND);
                mv.visitInsn(I2L);
            }
            case 2 -> {
                mv.visitMethodInsn(INVOKEVIRTUAL, VAR_HANDLE, "get", "([BI)S", false);
                mv.visitLdcInsn(0xffff);
                mv.visitInsn(IAND);
                mv.visitInsn(I2L);
            }
            case 4 -> {
                mv.visitMethodInsn(INVOKEVIRTUAL, VAR_HANDLE, "get", "([BI)I", false);
                u32();
            }
            default -> mv.visitMethodInsn(INVOKEVIRTUAL, VAR_HANDLE, "get", "([BI)J", false);
        }
    }

    /** After {@link #view}, an array, an index and a long: stores its low {@code size} bytes. */
    private void viewSet(int size) {
        switch (size) {
            case 1 -> {
                mv.visitInsn(L2I);
                mv.visitInsn(BASTORE);
            }
            case 2 -> {
                mv.visitInsn(L2I);
                mv.visitInsn(I2S);
                mv.visitMethodInsn(INVOKEVIRTUAL, VAR_HANDLE, "set", "([BIS)V", false);
            }
            case 4 -> {
                mv.visitInsn(L2I);
                mv.visitMethodInsn(INVOKEVIRTUAL, VAR_HANDLE, "set", "([BII)V", false);
            }
            default -> mv.visitMethodInsn(INVOKEVIRTUAL, VAR_HANDLE, "set", "([BIJ)V", false);
        }
    }

    /** Reads the cached context values ({@link #ctxCache}) from the image, each under its flag. */
    private void reloadCtx() {
        for (Map.Entry<Long, Integer> c : ctxCache.entrySet()) {
            int co = (int) (c.getKey() >>> 4);
            int size = (int) (c.getKey() & 0xf);
            Label no = new Label();
            Label set = new Label();
            mv.visitVarInsn(ILOAD, ctxFlags.get(c.getKey()));
            mv.visitJumpInsn(IFEQ, no);
            ctxImageGet(co, size);
            mv.visitJumpInsn(GOTO, set);
            mv.visitLabel(no);
            mv.visitInsn(LCONST_0);
            mv.visitLabel(set);
            mv.visitVarInsn(LSTORE, c.getValue());
        }
    }

    /** Reads the promoted slots from the frame's bytes (a method's start; after a call out that may write them). */
    private void reload() {
        for (int fi : promoted.frameIndices()) {
            view(8);
            mv.visitVarInsn(ALOAD, stackSlot(0));
            iconst(fi);
            viewGet(8);
            mv.visitVarInsn(LSTORE, promoted.local(fi));
        }
    }

    /** Writes the promoted slots back to the frame's bytes: one call of the class's {@link #SYNC} method. */
    private void writeBack() {
        if (promoted.count() == 0) {
            return;
        }
        mv.visitVarInsn(ALOAD, stackSlot(0));
        for (int fi : promoted.frameIndices()) {
            mv.visitVarInsn(LLOAD, promoted.local(fi));
        }
        mv.visitMethodInsn(INVOKESTATIC, JitCompiler.CLASS_NAME, SYNC, syncDescriptor(), false);
    }

    /** The descriptor of {@link #SYNC}: the frame's bytes, then each promoted slot's value. */
    String syncDescriptor() {
        return "([B" + "J".repeat(promoted.count()) + ")V";
    }

    /** The body of {@link #SYNC} (a static method of the class; written only when slots are promoted). */
    void emitSync(MethodVisitor mv) {
        this.mv = mv;
        mv.visitCode();
        int param = 1;
        for (int fi : promoted.frameIndices()) {
            view(8);
            mv.visitVarInsn(ALOAD, 0);
            iconst(fi);
            mv.visitVarInsn(LLOAD, param);
            viewSet(8);
            param += 2;
        }
        mv.visitInsn(RETURN);
        mv.visitMaxs(0, 0);
        mv.visitEnd();
    }

    // ------------------------------------------------------------------ array-map lookups

    private long siteKey(Instance in, int pc) {
        return ((long) instances.indexOf(in) << 32) | pc;
    }

    /** The lookup sites whose r1 is a constant map and whose key is in the frame, with their locals. */
    private Map<Long, Integer> views() {
        if (viewSlots != null) {
            return viewSlots;
        }
        viewSlots = new HashMap<>();
        for (Instance in : instances) {
            FunctionFlow f = in.flow;
            for (int pc = f.reachable.nextSetBit(0); pc >= 0 && pc < f.n; pc = f.reachable.nextSetBit(pc + 1)) {
                Insn insn = program.get(pc);
                if (InsnKind.of(insn.code()) == InsnKind.CALL && insn.src() == 0
                        && insn.imm() == dev.cgbpf.engine.interp.BaseHelpers.MAP_LOOKUP_ELEM
                        && frameIndex(in, pc, 2, 0, 4) >= 0 && constR1(in, pc) != -1
                        && viewSlots.size() < MAX_VIEWS) {
                    viewSlots.put(siteKey(in, pc), VIEWS + viewSlots.size());
                }
            }
        }
        return viewSlots;
    }

    /** [0]: how many reachable instructions of {@code f} lead to each index; [1]: the last of them. */
    private int[][] preds(FunctionFlow f) {
        return preds.computeIfAbsent(f, ff -> {
            int[] count = new int[ff.n + 1];
            int[] from = new int[ff.n + 1];
            for (int pc = ff.reachable.nextSetBit(0); pc >= 0 && pc < ff.n; pc = ff.reachable.nextSetBit(pc + 1)) {
                int[] succ = ff.successors(pc);
                for (int i = 0; i < succ.length; i++) {
                    int t = succ[i];
                    if (t >= 0 && t <= ff.n && (i == 0 || t != succ[0])) {
                        count[t]++;
                        from[t] = pc;
                    }
                }
            }
            return new int[][] {count, from};
        });
    }

    /** The only instruction leading to {@code pc} (not the function's entry), or -1. */
    private int onlyPred(FunctionFlow f, int pc) {
        int[][] p = preds(f);
        return pc != f.entry && pc <= f.n && p[0][pc] == 1 ? p[1][pc] : -1;
    }

    /**
     * The map object address r1 holds at the call at {@code pc}: an ld_imm64 of a map fd on the
     * only path to it (each instruction back to it having a single predecessor), with nothing
     * between that may write r1; -1 when not proven.
     */
    private long constR1(Instance in, int pc) {
        FunctionFlow f = in.flow;
        int q = pc;
        for (int steps = 0; steps < 64; steps++) {
            q = onlyPred(f, q);
            if (q < 0) {
                return -1;
            }
            Insn insn = program.get(q);
            InsnKind k = InsnKind.of(insn.code());
            switch (k) {
                case LD_IMM64 -> {
                    if (insn.dst() == 1) {
                        return insn.src() == dev.cgbpf.engine.isa.Opcodes.PSEUDO_MAP_FD ? interp.imm64(q) : -1;
                    }
                }
                case ALU64, ALU32, LDX, LDSX -> {
                    if (insn.dst() == 1) {
                        return -1;
                    }
                }
                case ST, STX, COND, JA, JA32 -> {
                }
                default -> {
                    return -1; // calls, atomics, packet loads, exits: r1 may change
                }
            }
        }
        return -1;
    }

    /**
     * The view local of the lookup whose result the load at {@code pc} reads through: the load's
     * base is r0, its only predecessor is the non-null side of {@code if r0 == 0} / {@code if r0
     * != 0}, whose only predecessor is a lookup site with a view. Null otherwise. (The read itself
     * is checked against the view at run time, so this only picks the view.)
     */
    private Integer viewLoad(Instance in, int pc, Insn load) {
        if (load.src() != 0 || viewSlots == null || viewSlots.isEmpty()) {
            return null;
        }
        FunctionFlow f = in.flow;
        int q1 = onlyPred(f, pc);
        if (q1 < 0) {
            return null;
        }
        Insn c = program.get(q1);
        boolean nonNullSide = c.dst() == 0 && c.imm() == 0
                && ((c.code() == 0x15 && pc == q1 + 1 && q1 + 1 + c.off() != pc)
                || (c.code() == 0x55 && pc == q1 + 1 + c.off() && q1 + 1 != pc));
        if (!nonNullSide) {
            return null;
        }
        int q0 = onlyPred(f, q1);
        return q0 >= 0 && q0 + 1 == q1 ? viewSlots.get(siteKey(in, q0)) : null;
    }

    // ------------------------------------------------------------------ faults and constants

    private void faultRange(Label start, Label end, int pc) {
        faultRange(start, end, pc, false);
    }

    /**
     * @param synced the range is a helper's call, before which the promoted slots were written
     *               back: the frame's bytes are what the helper left (perhaps written, then
     *               faulted) and must not be overwritten; any other fault leaves the frame
     *               untouched and the slots are written back
     */
    private void faultRange(Label start, Label end, int pc, boolean synced) {
        faultRanges.add(new int[] {pc, synced ? 1 : 0});
        faultLabels.add(new Label[] {start, end, new Label()});
    }

    private void throwFault(int pc, String reason) {
        writeBack();
        mv.visitLdcInsn(reason);
        mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "fault", "(Ljava/lang/String;)L" + FAULT + ";", false);
        iconst(pc);
        mv.visitMethodInsn(INVOKESTATIC, RUNTIME, "programFault", "(L" + FAULT + ";I)L" + PROGRAM_FAULT + ";", false);
        mv.visitInsn(ATHROW);
    }

    private void lconst(long v) {
        if (v == 0) {
            mv.visitInsn(LCONST_0);
        } else if (v == 1) {
            mv.visitInsn(LCONST_1);
        } else {
            mv.visitLdcInsn(v);
        }
    }

    private void iconst(int v) {
        if (v >= -1 && v <= 5) {
            mv.visitInsn(ICONST_0 + v);
        } else if (v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE) {
            mv.visitIntInsn(BIPUSH, v);
        } else if (v >= Short.MIN_VALUE && v <= Short.MAX_VALUE) {
            mv.visitIntInsn(SIPUSH, v);
        } else {
            mv.visitLdcInsn(v);
        }
    }
}
