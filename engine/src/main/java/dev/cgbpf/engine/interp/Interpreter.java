package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.MalformedProgramException;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;

/**
 * The eBPF interpreter: RFC 9669 semantics, checked against the running kernel.
 *
 * <p>The program is decoded once into two int arrays (opcode|dst|src|off packed into one int, and
 * imm) plus the resolved 64-bit constants of LD_IMM64; the run loop is a switch over the opcode
 * byte that allocates nothing per instruction (a run allocates its registers, and call frames at
 * its first bpf-to-bpf call). One decoded program may run on many threads at once, each with its
 * own {@link Machine}.
 *
 * <p>Semantics worth a note (all as the kernel and RFC 9669 define them): 32-bit ALU results are
 * zero-extended; shift counts are masked to 31/63; unsigned and signed division by zero yields 0
 * and modulo by zero leaves dst unchanged (the 32-bit forms still truncate dst to 32 bits);
 * signed INT_MIN / -1 is INT_MIN and INT_MIN % -1 is 0 (Java's operators do exactly that);
 * LD_ABS/LD_IND out of the packet ends the program with r0 = 0.
 */
public final class Interpreter {
    public static final long DEFAULT_BUDGET = 1_000_000;
    /** r10, the frame pointer, is the last register. */
    private static final int MAX_REG = 10;

    private final int[] ops;
    private final int[] imms;
    private final long[] wide;
    private final int length;

    private Interpreter(int[] ops, int[] imms, long[] wide, int length) {
        this.ops = ops;
        this.imms = imms;
        this.wide = wide;
        this.length = length;
    }

    /**
     * Decodes a structurally valid program. Refuses what would let the interpreter leave the
     * program (jumps and calls out of range), which the kernel's verifier refuses as well, with
     * the verifier's message.
     *
     * @throws MalformedProgramException for out-of-range jumps or unresolvable LD_IMM64
     */
    public static Interpreter decode(Program program, PseudoResolver resolver) {
        int n = program.size();
        // one sentinel slot (opcode 0 is no instruction) catches falling off the end
        int[] ops = new int[n + 1];
        int[] imms = new int[n + 1];
        long[] wide = new long[n + 1];
        for (int i = 0; i < n; i++) {
            Insn insn = program.get(i);
            ops[i] = insn.code() | insn.dst() << 8 | insn.src() << 12 | insn.off() << 16;
            imms[i] = insn.imm();
        }
        for (int i = 0; i < n; i++) {
            Insn insn = program.get(i);
            int code = insn.code();
            int cls = Opcodes.cls(code);
            if (insn.dst() > MAX_REG || insn.src() > MAX_REG) {
                // the run loop's register file has 16 slots and indexes it unchecked: r11-r15 must not run
                throw new MalformedProgramException(i, "register r" + Math.max(insn.dst(), insn.src())
                        + " does not exist (r0..r10)");
            }
            if (insn.isLdImm64()) {
                if (i + 1 >= n) {
                    throw new MalformedProgramException(i, "ld_imm64 is missing its second slot");
                }
                int next = program.get(i + 1).imm();
                if (insn.src() == 0) {
                    wide[i] = (insn.imm() & 0xffffffffL) | ((long) next << 32);
                } else {
                    try {
                        wide[i] = resolver.resolve(insn.src(), insn.imm(), next);
                    } catch (Fault f) {
                        throw new MalformedProgramException(i, f.getMessage());
                    }
                }
                i++;
                continue;
            }
            if (cls != Opcodes.JMP && cls != Opcodes.JMP32) {
                continue;
            }
            int op = Opcodes.op(code);
            if (op == Opcodes.EXIT || (op == Opcodes.CALL && insn.src() != Opcodes.PSEUDO_CALL)) {
                continue;
            }
            long target;
            if (op == Opcodes.CALL) {
                target = (long) i + 1 + insn.imm();
                if (target < 0 || target >= n) {
                    throw new MalformedProgramException(i, "call to invalid destination (insn " + target + ")");
                }
            } else {
                target = (long) i + 1 + (code == (Opcodes.JMP32 | Opcodes.JA) ? insn.imm() : insn.off());
                if (target < 0 || target >= n) {
                    throw new MalformedProgramException(i, "jump out of range from insn " + i + " to " + target);
                }
            }
        }
        return new Interpreter(ops, imms, wide, n);
    }

    public int length() {
        return length;
    }

    /** The 64-bit value the LD_IMM64 at {@code pc} loads, map references resolved (for the compiler). */
    public long imm64(int pc) {
        return wide[pc];
    }

    /**
     * Runs the program with r1 = the context address and returns r0 (all 64 bits).
     *
     * <p>Shape, for the JIT: one loop with a dense switch over the opcode byte; every case is a
     * line or two and whatever is long or rare (division, byte swaps, calls, atomics, faults, memory
     * outside the running frame) is a call out of the loop, so C2 compiles and inlines the whole hot
     * path. The instruction count is an int that is topped up from the long budget: a long counter
     * as the loop's exit test made C2 transform the loop into a nested long-counted loop whose
     * hoisted predicates kept failing, deoptimising the method every second or so.
     *
     * @param budget instructions to execute at most before the run stops with a fault
     * @throws ProgramFault on any fault, naming the instruction
     */
    public long run(Machine m, long budget) {
        m.startRun();
        return runTail(m, budget);
    }

    /**
     * Runs the program as the target of a tail call: as {@link #run}, but within the run that
     * made the call (its count of tail calls goes on).
     */
    public long runTail(Machine m, long budget) {
        long[] r = new long[16];
        r[1] = m.ctxAddress();
        r[10] = m.frameTop(0);
        return loop(m, budget, budget, r, 0, null);
    }

    /**
     * Continues a run that compiled code began: the tiering's way back to the reference for what
     * the compiled code leaves to the interpreter (an instruction budget about to run out inside
     * a block). The state is exactly the interpreter's at instruction {@code pc}.
     *
     * @param budget the run's whole budget (for the fault message)
     * @param remaining instructions the run may still execute
     * @param regs r0..r10
     * @param depth the call depth of the running function
     * @param returnPcs for each depth below {@code depth}, the index of its call instruction
     * @param saved for each depth below {@code depth}, that caller's r6..r10 (five values each)
     */
    public long resume(Machine m, long budget, long remaining, long[] regs, int pc, int depth, int[] returnPcs,
                       long[] saved) {
        long[] r = new long[16];
        System.arraycopy(regs, 0, r, 0, MAX_REG + 1);
        CallFrames calls = depth == 0 ? null : CallFrames.resumed(depth, returnPcs, saved);
        return loop(m, budget, remaining, r, pc, calls);
    }

    private long loop(Machine m, long budget, long remaining, long[] r, int startPc, CallFrames startCalls) {
        final int[] ops = this.ops;
        final int[] imms = this.imms;
        // 16 registers, not 11: indexes masked to 4 bits then need no bounds check (decode refused r11-r15)
        CallFrames calls = startCalls;
        // the running function's stack frame, for the fast path of stack loads and stores
        Region frame = m.frame(calls == null ? 0 : calls.depth());
        byte[] stack = frame.bytes;
        long stackBase = frame.base;
        int pc = startPc;
        int left = (int) Math.min(remaining, Integer.MAX_VALUE);
        long spare = remaining - left;
        try {
            while (true) {
                if (--left < 0) {
                    if (spare <= 0) {
                        throw new Fault("instruction budget of " + budget + " exhausted (endless loop?)");
                    }
                    left = (int) Math.min(spare, Integer.MAX_VALUE) - 1;
                    spare -= left + 1;
                }
                final int op = ops[pc];
                final int imm = imms[pc];
                final int d = (op >>> 8) & 0xf;
                final int s = (op >>> 12) & 0xf;
                final int off = op >> 16;
                switch (op & 0xff) {
                    // ---- ALU64, K and X; off selects signed division and movsx ----
                    case 0x07 -> r[d] += imm;
                    case 0x0f -> r[d] += r[s];
                    case 0x17 -> r[d] -= imm;
                    case 0x1f -> r[d] -= r[s];
                    case 0x27 -> r[d] *= imm;
                    case 0x2f -> r[d] *= r[s];
                    case 0x37 -> r[d] = div64(r[d], imm, off);
                    case 0x3f -> r[d] = div64(r[d], r[s], off);
                    case 0x47 -> r[d] |= imm;
                    case 0x4f -> r[d] |= r[s];
                    case 0x57 -> r[d] &= imm;
                    case 0x5f -> r[d] &= r[s];
                    case 0x67 -> r[d] <<= imm;
                    case 0x6f -> r[d] <<= r[s];
                    case 0x77 -> r[d] >>>= imm;
                    case 0x7f -> r[d] >>>= r[s];
                    case 0x87 -> r[d] = -r[d];
                    case 0x97 -> r[d] = mod64(r[d], imm, off);
                    case 0x9f -> r[d] = mod64(r[d], r[s], off);
                    case 0xa7 -> r[d] ^= imm;
                    case 0xaf -> r[d] ^= r[s];
                    case 0xb7 -> r[d] = imm;
                    case 0xbf -> r[d] = off == 0 ? r[s] : movsx64(r[s], off);
                    case 0xc7 -> r[d] >>= imm;
                    case 0xcf -> r[d] >>= r[s];
                    case 0xd7 -> r[d] = bswap(r[d], imm);
                    // ---- ALU (32-bit), results zero-extended ----
                    case 0x04 -> r[d] = u32((int) r[d] + imm);
                    case 0x0c -> r[d] = u32((int) r[d] + (int) r[s]);
                    case 0x14 -> r[d] = u32((int) r[d] - imm);
                    case 0x1c -> r[d] = u32((int) r[d] - (int) r[s]);
                    case 0x24 -> r[d] = u32((int) r[d] * imm);
                    case 0x2c -> r[d] = u32((int) r[d] * (int) r[s]);
                    case 0x34 -> r[d] = div32((int) r[d], imm, off);
                    case 0x3c -> r[d] = div32((int) r[d], (int) r[s], off);
                    case 0x44 -> r[d] = u32((int) r[d] | imm);
                    case 0x4c -> r[d] = u32((int) r[d] | (int) r[s]);
                    case 0x54 -> r[d] = u32((int) r[d] & imm);
                    case 0x5c -> r[d] = u32((int) r[d] & (int) r[s]);
                    case 0x64 -> r[d] = u32((int) r[d] << imm);
                    case 0x6c -> r[d] = u32((int) r[d] << r[s]);
                    case 0x74 -> r[d] = u32((int) r[d] >>> imm);
                    case 0x7c -> r[d] = u32((int) r[d] >>> r[s]);
                    case 0x84 -> r[d] = u32(-(int) r[d]);
                    case 0x94 -> r[d] = mod32((int) r[d], imm, off);
                    case 0x9c -> r[d] = mod32((int) r[d], (int) r[s], off);
                    case 0xa4 -> r[d] = u32((int) r[d] ^ imm);
                    case 0xac -> r[d] = u32((int) r[d] ^ (int) r[s]);
                    case 0xb4 -> r[d] = u32(imm);
                    case 0xbc -> r[d] = u32(off == 0 ? (int) r[s] : movsx32(r[s], off));
                    case 0xc4 -> r[d] = u32((int) r[d] >> imm);
                    case 0xcc -> r[d] = u32((int) r[d] >> r[s]);
                    case 0xd4 -> r[d] = truncate(r[d], imm); // to little endian: the host order
                    case 0xdc -> r[d] = bswap(r[d], imm); // to big endian
                    // ---- JMP (64-bit compares) ----
                    case 0x05 -> pc += off;
                    case 0x15 -> pc += r[d] == imm ? off : 0;
                    case 0x1d -> pc += r[d] == r[s] ? off : 0;
                    case 0x25 -> pc += ult(imm, r[d]) ? off : 0;
                    case 0x2d -> pc += ult(r[s], r[d]) ? off : 0;
                    case 0x35 -> pc += !ult(r[d], imm) ? off : 0;
                    case 0x3d -> pc += !ult(r[d], r[s]) ? off : 0;
                    case 0x45 -> pc += (r[d] & imm) != 0 ? off : 0;
                    case 0x4d -> pc += (r[d] & r[s]) != 0 ? off : 0;
                    case 0x55 -> pc += r[d] != imm ? off : 0;
                    case 0x5d -> pc += r[d] != r[s] ? off : 0;
                    case 0x65 -> pc += r[d] > imm ? off : 0;
                    case 0x6d -> pc += r[d] > r[s] ? off : 0;
                    case 0x75 -> pc += r[d] >= imm ? off : 0;
                    case 0x7d -> pc += r[d] >= r[s] ? off : 0;
                    case 0xa5 -> pc += ult(r[d], imm) ? off : 0;
                    case 0xad -> pc += ult(r[d], r[s]) ? off : 0;
                    case 0xb5 -> pc += !ult(imm, r[d]) ? off : 0;
                    case 0xbd -> pc += !ult(r[s], r[d]) ? off : 0;
                    case 0xc5 -> pc += r[d] < imm ? off : 0;
                    case 0xcd -> pc += r[d] < r[s] ? off : 0;
                    case 0xd5 -> pc += r[d] <= imm ? off : 0;
                    case 0xdd -> pc += r[d] <= r[s] ? off : 0;
                    // ---- JMP32 (32-bit compares); 0x06 is gotol with its offset in imm ----
                    case 0x06 -> pc += imm;
                    case 0x16 -> pc += (int) r[d] == imm ? off : 0;
                    case 0x1e -> pc += (int) r[d] == (int) r[s] ? off : 0;
                    case 0x26 -> pc += ult32(imm, (int) r[d]) ? off : 0;
                    case 0x2e -> pc += ult32((int) r[s], (int) r[d]) ? off : 0;
                    case 0x36 -> pc += !ult32((int) r[d], imm) ? off : 0;
                    case 0x3e -> pc += !ult32((int) r[d], (int) r[s]) ? off : 0;
                    case 0x46 -> pc += ((int) r[d] & imm) != 0 ? off : 0;
                    case 0x4e -> pc += ((int) r[d] & (int) r[s]) != 0 ? off : 0;
                    case 0x56 -> pc += (int) r[d] != imm ? off : 0;
                    case 0x5e -> pc += (int) r[d] != (int) r[s] ? off : 0;
                    case 0x66 -> pc += (int) r[d] > imm ? off : 0;
                    case 0x6e -> pc += (int) r[d] > (int) r[s] ? off : 0;
                    case 0x76 -> pc += (int) r[d] >= imm ? off : 0;
                    case 0x7e -> pc += (int) r[d] >= (int) r[s] ? off : 0;
                    case 0xa6 -> pc += ult32((int) r[d], imm) ? off : 0;
                    case 0xae -> pc += ult32((int) r[d], (int) r[s]) ? off : 0;
                    case 0xb6 -> pc += !ult32(imm, (int) r[d]) ? off : 0;
                    case 0xbe -> pc += !ult32((int) r[s], (int) r[d]) ? off : 0;
                    case 0xc6 -> pc += (int) r[d] < imm ? off : 0;
                    case 0xce -> pc += (int) r[d] < (int) r[s] ? off : 0;
                    case 0xd6 -> pc += (int) r[d] <= imm ? off : 0;
                    case 0xde -> pc += (int) r[d] <= (int) r[s] ? off : 0;
                    // ---- call and exit ----
                    case 0x85 -> {
                        if (s == 0 && imm == TailCall.HELPER_ID) {
                            // the verifier made r1 the context; the target starts afresh on it
                            TailCall.Target t = TailCall.target(m, r[2], r[3]);
                            if (t != null) {
                                return t.runTail(m, left + spare);
                            }
                        } else if (s == 0) {
                            r[0] = m.helpers().get(imm).call(m, r[1], r[2], r[3], r[4], r[5]);
                        } else if (s == Opcodes.PSEUDO_CALL) {
                            if (calls == null) {
                                calls = new CallFrames();
                            }
                            pc = calls.call(r, pc, imm, m);
                            frame = m.frame(calls.depth());
                            stack = frame.bytes;
                            stackBase = frame.base;
                        } else {
                            throw new Fault("kfunc calls are not supported by the engine");
                        }
                    }
                    case 0x95 -> {
                        if (calls == null || calls.depth() == 0) {
                            return r[0];
                        }
                        pc = calls.exit(r);
                        frame = m.frame(calls.depth());
                        stack = frame.bytes;
                        stackBase = frame.base;
                    }
                    // ---- loads and stores: the running frame directly, anything else through the machine ----
                    case 0x18 -> r[d] = wide[pc++];
                    case 0x61 -> {
                        long o = r[s] + off - stackBase;
                        r[d] = inFrame(o, 4) ? (int) Region.INTS.get(stack, (int) o) & 0xffffffffL : m.load(r[s] + off, 4);
                    }
                    case 0x69 -> {
                        long o = r[s] + off - stackBase;
                        r[d] = inFrame(o, 2) ? (short) Region.SHORTS.get(stack, (int) o) & 0xffffL : m.load(r[s] + off, 2);
                    }
                    case 0x71 -> {
                        long o = r[s] + off - stackBase;
                        r[d] = inFrame(o, 1) ? stack[(int) o] & 0xffL : m.load(r[s] + off, 1);
                    }
                    case 0x79 -> {
                        long o = r[s] + off - stackBase;
                        r[d] = inFrame(o, 8) ? (long) Region.LONGS.get(stack, (int) o) : m.load(r[s] + off, 8);
                    }
                    // sign-extending loads (ldsx) are rare: the machine path
                    case 0x81 -> r[d] = (int) m.load(r[s] + off, 4);
                    case 0x89 -> r[d] = (short) m.load(r[s] + off, 2);
                    case 0x91 -> r[d] = (byte) m.load(r[s] + off, 1);
                    case 0x62 -> store(m, stack, r[d] + off - stackBase, r[d] + off, 4, imm);
                    case 0x6a -> store(m, stack, r[d] + off - stackBase, r[d] + off, 2, imm);
                    case 0x72 -> store(m, stack, r[d] + off - stackBase, r[d] + off, 1, imm);
                    case 0x7a -> store(m, stack, r[d] + off - stackBase, r[d] + off, 8, imm);
                    case 0x63 -> store(m, stack, r[d] + off - stackBase, r[d] + off, 4, r[s]);
                    case 0x6b -> store(m, stack, r[d] + off - stackBase, r[d] + off, 2, r[s]);
                    case 0x73 -> store(m, stack, r[d] + off - stackBase, r[d] + off, 1, r[s]);
                    case 0x7b -> store(m, stack, r[d] + off - stackBase, r[d] + off, 8, r[s]);
                    case 0xc3 -> atomic(m, r, d, s, off, imm, 4);
                    case 0xdb -> atomic(m, r, d, s, off, imm, 8);
                    // ---- legacy packet loads: r0 = big-endian bytes, or the program ends with 0 ----
                    case 0x20, 0x28, 0x30, 0x40, 0x48, 0x50 -> {
                        long v = ldAbs(m, op, (op & 0xe0) == Opcodes.ABS ? imm : (int) r[s] + imm);
                        if (v < 0) {
                            return 0;
                        }
                        r[0] = v;
                    }
                    default -> throw new Fault(pc == length
                            ? "fell off the end of the program"
                            : "invalid opcode 0x" + Integer.toHexString(op & 0xff));
                }
                pc++;
            }
        } catch (Fault f) {
            throw new ProgramFault(pc, f.getMessage());
        }
    }

    /** Whether {@code size} bytes at offset {@code o} from the running frame's bottom lie inside it. */
    private static boolean inFrame(long o, int size) {
        return o >= 0 && o <= Machine.STACK_SIZE - size;
    }

    /** A store: straight into the running frame when it is in it ({@code o} as for {@link #inFrame}), else checked. */
    private static void store(Machine m, byte[] stack, long o, long address, int size, long value) {
        if (!inFrame(o, size)) {
            m.store(address, size, value);
            return;
        }
        int i = (int) o;
        switch (size) {
            case 1 -> stack[i] = (byte) value;
            case 2 -> Region.SHORTS.set(stack, i, (short) value);
            case 4 -> Region.INTS.set(stack, i, (int) value);
            default -> Region.LONGS.set(stack, i, value);
        }
    }

    private static long ldAbs(Machine m, int op, int offset) {
        int size = (op & 0x18) == Opcodes.W ? 4 : (op & 0x18) == Opcodes.H ? 2 : 1;
        return m.loadAbs(offset, size);
    }

    private static void atomic(Machine m, long[] r, int d, int s, int off, int imm, int size) {
        long address = r[d] + off;
        if (imm == Opcodes.CMPXCHG) {
            r[0] = m.atomicCmpxchg(address, size, r[0], r[s]);
            return;
        }
        long old = m.atomicRmw(imm & ~Opcodes.FETCH, address, size, r[s]);
        if ((imm & Opcodes.FETCH) != 0) {
            r[s] = old;
        }
    }

    /** Unsigned a < b: flipping the sign bits maps unsigned order onto signed order. */
    private static boolean ult(long a, long b) {
        return a + Long.MIN_VALUE < b + Long.MIN_VALUE;
    }

    private static boolean ult32(int a, int b) {
        return a + Integer.MIN_VALUE < b + Integer.MIN_VALUE;
    }

    /** BPF_DIV, 64-bit: off 0 unsigned, off 1 signed (sdiv). */
    public static long div64(long a, long b, int off) {
        return off == 0 ? udiv64(a, b) : sdiv64(a, b);
    }

    /** BPF_MOD, 64-bit: off 0 unsigned, off 1 signed (smod). */
    public static long mod64(long a, long b, int off) {
        return off == 0 ? umod64(a, b) : smod64(a, b);
    }

    public static long div32(int a, int b, int off) {
        return off == 0 ? udiv32(a, b) : sdiv32(a, b);
    }

    public static long mod32(int a, int b, int off) {
        return off == 0 ? umod32(a, b) : smod32(a, b);
    }

    public static long u32(int v) {
        return v & 0xffffffffL;
    }

    public static long udiv64(long a, long b) {
        if (b <= 0) {
            // 0, or a divisor of 2^63 or more: the quotient is 0 or 1
            return b == 0 ? 0 : Long.compareUnsigned(a, b) < 0 ? 0 : 1;
        }
        if (a >= 0) {
            return a / b;
        }
        // JDK 17's Long.divideUnsigned takes BigInteger for a dividend with its top bit set: halve
        // it, divide, and correct the quotient by at most one (Hacker's Delight, 9-3)
        long q = ((a >>> 1) / b) << 1;
        long rem = a - q * b;
        return Long.compareUnsigned(rem, b) >= 0 ? q + 1 : q;
    }

    public static long sdiv64(long a, long b) {
        return b == 0 ? 0 : a / b;
    }

    public static long umod64(long a, long b) {
        return b == 0 ? a : a - udiv64(a, b) * b;
    }

    public static long smod64(long a, long b) {
        return b == 0 ? a : a % b;
    }

    public static long udiv32(int a, int b) {
        return b == 0 ? 0 : u32(Integer.divideUnsigned(a, b));
    }

    public static long sdiv32(int a, int b) {
        return b == 0 ? 0 : u32(a / b);
    }

    public static long umod32(int a, int b) {
        return b == 0 ? u32(a) : u32(Integer.remainderUnsigned(a, b));
    }

    public static long smod32(int a, int b) {
        return b == 0 ? u32(a) : u32(a % b);
    }

    /** BPF_MOV64 with off 0 (plain move) or 8/16/32 (movsx: sign-extend that many low bits). */
    public static long movsx64(long v, int off) {
        return switch (off) {
            case 8 -> (byte) v;
            case 16 -> (short) v;
            case 32 -> (int) v;
            default -> v;
        };
    }

    /** BPF_MOV32 with off 0 or 8/16 (sign-extend into 32 bits, then zero-extend). */
    public static int movsx32(long v, int off) {
        return switch (off) {
            case 8 -> (byte) v;
            case 16 -> (short) v;
            default -> (int) v;
        };
    }

    /** Byte swap of the low {@code bits} bits, zero-extended (be16/32/64, bswap16/32/64). */
    public static long bswap(long v, int bits) {
        return switch (bits) {
            case 16 -> Short.reverseBytes((short) v) & 0xffffL;
            case 32 -> Integer.reverseBytes((int) v) & 0xffffffffL;
            default -> Long.reverseBytes(v);
        };
    }

    /** le16/32/64 on a little-endian machine: only the truncation remains. */
    public static long truncate(long v, int bits) {
        return switch (bits) {
            case 16 -> v & 0xffffL;
            case 32 -> v & 0xffffffffL;
            default -> v;
        };
    }
}
