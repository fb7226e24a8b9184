package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.AluOp.*;
import static dev.cgbpf.engine.isa.JumpOp.*;
import static dev.cgbpf.engine.isa.Opcodes.ABS;
import static dev.cgbpf.engine.isa.Opcodes.ALU;
import static dev.cgbpf.engine.isa.Opcodes.ALU64;
import static dev.cgbpf.engine.isa.Opcodes.ATOMIC;
import static dev.cgbpf.engine.isa.Opcodes.CALL;
import static dev.cgbpf.engine.isa.Opcodes.EXIT;
import static dev.cgbpf.engine.isa.Opcodes.IND;
import static dev.cgbpf.engine.isa.Opcodes.JMP;
import static dev.cgbpf.engine.isa.Opcodes.JMP32;
import static dev.cgbpf.engine.isa.Opcodes.K;
import static dev.cgbpf.engine.isa.Opcodes.LD;
import static dev.cgbpf.engine.isa.Opcodes.LDX;
import static dev.cgbpf.engine.isa.Opcodes.LD_IMM64;
import static dev.cgbpf.engine.isa.Opcodes.MEM;
import static dev.cgbpf.engine.isa.Opcodes.MEMSX;
import static dev.cgbpf.engine.isa.Opcodes.PSEUDO_CALL;
import static dev.cgbpf.engine.isa.Opcodes.PSEUDO_KFUNC_CALL;
import static dev.cgbpf.engine.isa.Opcodes.PSEUDO_MAP_FD;
import static dev.cgbpf.engine.isa.Opcodes.PSEUDO_MAP_VALUE;
import static dev.cgbpf.engine.isa.Opcodes.ST;
import static dev.cgbpf.engine.isa.Opcodes.STX;
import static dev.cgbpf.engine.isa.Opcodes.TO_BE;
import static dev.cgbpf.engine.isa.Opcodes.TO_LE;
import static dev.cgbpf.engine.isa.Opcodes.X;
import static dev.cgbpf.engine.isa.Size.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A fluent builder of programs for code generators, with jump targets by label resolved in
 * {@link #build()}:
 *
 * <pre>{@code
 * new Asm().ldxW(R2, R1, 0).jne(R2, 1, "deny").movImm(R0, 1).exit()
 *          .label("deny").movImm(R0, 0).exit().build()
 * }</pre>
 *
 * Method names follow the kernel's instruction macros (filter.h BPF_ALU64_REG, BPF_LDX_MEM, ...):
 * plain names are 64-bit, a {@code 32} suffix is the 32-bit (ALU / JMP32) form. Every class is
 * reachable; the generic {@link #alu64}, {@link #alu32}, {@link #jmp}, {@link #jmp32},
 * {@link #atomic} and {@link #raw} cover what has no named shortcut. Operations and sizes are
 * typed ({@link AluOp}, {@link JumpOp}, {@link Size}, {@link AtomicOp}), so a jump operation
 * cannot be passed where an ALU operation belongs although both are 4-bit fields with the same
 * values (JNE and AND are both 0x50). A label may be defined
 * once and named before or after its definition; {@link #build()} fails with a clear message for
 * an undefined label or a target beyond the 16-bit offset of a conditional jump, and checks the
 * result with {@link Encoding#check}.
 *
 * <p>Why one long class: it is the builder's whole public surface, one short method per
 * instruction form (each ALU, jump, load, store and atomic shape in both widths), so that a
 * compiler's emitted program reads as a chain of calls on one type.
 */
public final class Asm {
    private final List<Insn> slots = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();
    private final List<Fixup> fixups = new ArrayList<>();

    private record Fixup(int slot, String label, boolean inImm) {
    }

    /** Defines {@code name} as the index of the next instruction. */
    public Asm label(String name) {
        if (labels.putIfAbsent(name, slots.size()) != null) {
            throw new IllegalArgumentException("label '" + name + "' is defined twice");
        }
        return this;
    }

    /** The slot index the next instruction gets. */
    public int here() {
        return slots.size();
    }

    /** Appends a raw slot, for encodings without a named method. */
    public Asm raw(Insn insn) {
        slots.add(insn);
        return this;
    }

    private Asm emit(int code, Reg dst, Reg src, int off, int imm) {
        return raw(new Insn(code, dst == null ? 0 : dst.id(), src == null ? 0 : src.id(), off, imm));
    }

    private Asm emitTo(String label, boolean inImm, int code, Reg dst, Reg src, int imm) {
        fixups.add(new Fixup(slots.size(), label, inImm));
        return emit(code, dst, src, 0, imm);
    }

    // ---- ALU ----

    /** ALU64 {@code op} with a register source: {@code dst op= src}. */
    public Asm alu64(AluOp op, Reg dst, Reg src) {
        return emit(ALU64 | op.bits() | X, dst, src, 0, 0);
    }

    /** ALU64 {@code op} with an immediate, sign-extended to 64 bits: {@code dst op= imm}. */
    public Asm alu64(AluOp op, Reg dst, int imm) {
        return emit(ALU64 | op.bits() | K, dst, null, 0, imm);
    }

    /** 32-bit ALU {@code op} with a register source: {@code wDst op= wSrc}, upper half zeroed. */
    public Asm alu32(AluOp op, Reg dst, Reg src) {
        return emit(ALU | op.bits() | X, dst, src, 0, 0);
    }

    /** 32-bit ALU {@code op} with an immediate: {@code wDst op= imm}, upper half zeroed. */
    public Asm alu32(AluOp op, Reg dst, int imm) {
        return emit(ALU | op.bits() | K, dst, null, 0, imm);
    }

    public Asm add(Reg dst, Reg src) {
        return alu64(ADD, dst, src);
    }

    public Asm add(Reg dst, int imm) {
        return alu64(ADD, dst, imm);
    }

    public Asm sub(Reg dst, Reg src) {
        return alu64(SUB, dst, src);
    }

    public Asm sub(Reg dst, int imm) {
        return alu64(SUB, dst, imm);
    }

    public Asm mul(Reg dst, Reg src) {
        return alu64(MUL, dst, src);
    }

    public Asm mul(Reg dst, int imm) {
        return alu64(MUL, dst, imm);
    }

    public Asm div(Reg dst, Reg src) {
        return alu64(DIV, dst, src);
    }

    public Asm div(Reg dst, int imm) {
        return alu64(DIV, dst, imm);
    }

    public Asm mod(Reg dst, Reg src) {
        return alu64(MOD, dst, src);
    }

    public Asm mod(Reg dst, int imm) {
        return alu64(MOD, dst, imm);
    }

    /** Signed division: DIV with off=1. */
    public Asm sdiv(Reg dst, Reg src) {
        return emit(ALU64 | DIV.bits() | X, dst, src, 1, 0);
    }

    public Asm sdiv(Reg dst, int imm) {
        return emit(ALU64 | DIV.bits() | K, dst, null, 1, imm);
    }

    public Asm smod(Reg dst, Reg src) {
        return emit(ALU64 | MOD.bits() | X, dst, src, 1, 0);
    }

    public Asm smod(Reg dst, int imm) {
        return emit(ALU64 | MOD.bits() | K, dst, null, 1, imm);
    }

    public Asm sdiv32(Reg dst, Reg src) {
        return emit(ALU | DIV.bits() | X, dst, src, 1, 0);
    }

    public Asm sdiv32(Reg dst, int imm) {
        return emit(ALU | DIV.bits() | K, dst, null, 1, imm);
    }

    public Asm smod32(Reg dst, Reg src) {
        return emit(ALU | MOD.bits() | X, dst, src, 1, 0);
    }

    public Asm smod32(Reg dst, int imm) {
        return emit(ALU | MOD.bits() | K, dst, null, 1, imm);
    }

    public Asm or(Reg dst, Reg src) {
        return alu64(OR, dst, src);
    }

    public Asm or(Reg dst, int imm) {
        return alu64(OR, dst, imm);
    }

    public Asm and(Reg dst, Reg src) {
        return alu64(AND, dst, src);
    }

    public Asm and(Reg dst, int imm) {
        return alu64(AND, dst, imm);
    }

    public Asm xor(Reg dst, Reg src) {
        return alu64(XOR, dst, src);
    }

    public Asm xor(Reg dst, int imm) {
        return alu64(XOR, dst, imm);
    }

    public Asm lsh(Reg dst, Reg src) {
        return alu64(LSH, dst, src);
    }

    public Asm lsh(Reg dst, int imm) {
        return alu64(LSH, dst, imm);
    }

    public Asm rsh(Reg dst, Reg src) {
        return alu64(RSH, dst, src);
    }

    public Asm rsh(Reg dst, int imm) {
        return alu64(RSH, dst, imm);
    }

    public Asm arsh(Reg dst, Reg src) {
        return alu64(ARSH, dst, src);
    }

    public Asm arsh(Reg dst, int imm) {
        return alu64(ARSH, dst, imm);
    }

    public Asm neg(Reg dst) {
        return emit(ALU64 | NEG.bits(), dst, null, 0, 0);
    }

    public Asm neg32(Reg dst) {
        return emit(ALU | NEG.bits(), dst, null, 0, 0);
    }

    public Asm mov(Reg dst, Reg src) {
        return alu64(MOV, dst, src);
    }

    /** {@code dst = imm}, sign-extended to 64 bits. */
    public Asm movImm(Reg dst, int imm) {
        return alu64(MOV, dst, imm);
    }

    public Asm mov32(Reg dst, Reg src) {
        return alu32(MOV, dst, src);
    }

    /** {@code wDst = imm}: the upper 32 bits become zero. */
    public Asm movImm32(Reg dst, int imm) {
        return alu32(MOV, dst, imm);
    }

    /** {@code dst = (sBITS) src}: sign-extending move, bits 8, 16 or 32. */
    public Asm movsx(Reg dst, Reg src, int bits) {
        return emit(ALU64 | MOV.bits() | X, dst, src, bits, 0);
    }

    /** {@code wDst = (sBITS) wSrc}: bits 8 or 16. */
    public Asm movsx32(Reg dst, Reg src, int bits) {
        return emit(ALU | MOV.bits() | X, dst, src, bits, 0);
    }

    /** {@code dst = be16/32/64 dst}: to big endian (ALU END TO_BE). */
    public Asm be(Reg dst, int bits) {
        return emit(ALU | END.bits() | TO_BE, dst, null, 0, bits);
    }

    /** {@code dst = le16/32/64 dst}: to little endian (ALU END TO_LE). */
    public Asm le(Reg dst, int bits) {
        return emit(ALU | END.bits() | TO_LE, dst, null, 0, bits);
    }

    /** {@code dst = bswap16/32/64 dst}: unconditional byte swap (ALU64 END). */
    public Asm bswap(Reg dst, int bits) {
        return emit(ALU64 | END.bits() | TO_LE, dst, null, 0, bits);
    }

    // ---- jumps ----

    public Asm ja(String label) {
        return emitTo(label, false, JMP | JA.bits(), null, null, 0);
    }

    public Asm ja(int off) {
        return emit(JMP | JA.bits(), null, null, off, 0);
    }

    /** The 32-bit-offset jump (JMP32 | JA.bits(), target in imm). */
    public Asm gotol(String label) {
        return emitTo(label, true, JMP32 | JA.bits(), null, null, 0);
    }

    public Asm gotol(int off) {
        return emit(JMP32 | JA.bits(), null, null, 0, off);
    }

    /** Conditional 64-bit jump to a label: {@code if (dst op imm) goto label}, imm sign-extended. */
    public Asm jmp(JumpOp op, Reg dst, int imm, String label) {
        return emitTo(label, false, JMP | conditional(op) | K, dst, null, imm);
    }

    /** {@code if (dst op src) goto label}. */
    public Asm jmp(JumpOp op, Reg dst, Reg src, String label) {
        return emitTo(label, false, JMP | conditional(op) | X, dst, src, 0);
    }

    /** Conditional 32-bit jump (JMP32): {@code if (wDst op imm) goto label}. */
    public Asm jmp32(JumpOp op, Reg dst, int imm, String label) {
        return emitTo(label, false, JMP32 | conditional(op) | K, dst, null, imm);
    }

    /** {@code if (wDst op wSrc) goto label}. */
    public Asm jmp32(JumpOp op, Reg dst, Reg src, String label) {
        return emitTo(label, false, JMP32 | conditional(op) | X, dst, src, 0);
    }

    /** Conditional jump with a numeric offset instead of a label. */
    public Asm jmp(JumpOp op, Reg dst, int imm, int off) {
        return emit(JMP | conditional(op) | K, dst, null, off, imm);
    }

    public Asm jmp(JumpOp op, Reg dst, Reg src, int off) {
        return emit(JMP | conditional(op) | X, dst, src, off, 0);
    }

    public Asm jmp32(JumpOp op, Reg dst, int imm, int off) {
        return emit(JMP32 | conditional(op) | K, dst, null, off, imm);
    }

    public Asm jmp32(JumpOp op, Reg dst, Reg src, int off) {
        return emit(JMP32 | conditional(op) | X, dst, src, off, 0);
    }

    /** The bits of a conditional jump; JA has no operands to compare ({@link #ja}, {@link #gotol}). */
    private static int conditional(JumpOp op) {
        if (!op.conditional()) {
            throw new IllegalArgumentException(op + " is not a conditional jump: use ja or gotol");
        }
        return op.bits();
    }

    public Asm jeq(Reg dst, int imm, String label) {
        return jmp(JEQ, dst, imm, label);
    }

    public Asm jeq(Reg dst, Reg src, String label) {
        return jmp(JEQ, dst, src, label);
    }

    public Asm jne(Reg dst, int imm, String label) {
        return jmp(JNE, dst, imm, label);
    }

    public Asm jne(Reg dst, Reg src, String label) {
        return jmp(JNE, dst, src, label);
    }

    public Asm jgt(Reg dst, int imm, String label) {
        return jmp(JGT, dst, imm, label);
    }

    public Asm jgt(Reg dst, Reg src, String label) {
        return jmp(JGT, dst, src, label);
    }

    public Asm jge(Reg dst, int imm, String label) {
        return jmp(JGE, dst, imm, label);
    }

    public Asm jge(Reg dst, Reg src, String label) {
        return jmp(JGE, dst, src, label);
    }

    public Asm jlt(Reg dst, int imm, String label) {
        return jmp(JLT, dst, imm, label);
    }

    public Asm jlt(Reg dst, Reg src, String label) {
        return jmp(JLT, dst, src, label);
    }

    public Asm jle(Reg dst, int imm, String label) {
        return jmp(JLE, dst, imm, label);
    }

    public Asm jle(Reg dst, Reg src, String label) {
        return jmp(JLE, dst, src, label);
    }

    public Asm jset(Reg dst, int imm, String label) {
        return jmp(JSET, dst, imm, label);
    }

    public Asm jset(Reg dst, Reg src, String label) {
        return jmp(JSET, dst, src, label);
    }

    public Asm jsgt(Reg dst, int imm, String label) {
        return jmp(JSGT, dst, imm, label);
    }

    public Asm jsgt(Reg dst, Reg src, String label) {
        return jmp(JSGT, dst, src, label);
    }

    public Asm jsge(Reg dst, int imm, String label) {
        return jmp(JSGE, dst, imm, label);
    }

    public Asm jsge(Reg dst, Reg src, String label) {
        return jmp(JSGE, dst, src, label);
    }

    public Asm jslt(Reg dst, int imm, String label) {
        return jmp(JSLT, dst, imm, label);
    }

    public Asm jslt(Reg dst, Reg src, String label) {
        return jmp(JSLT, dst, src, label);
    }

    public Asm jsle(Reg dst, int imm, String label) {
        return jmp(JSLE, dst, imm, label);
    }

    public Asm jsle(Reg dst, Reg src, String label) {
        return jmp(JSLE, dst, src, label);
    }

    /** Helper call by id (enum bpf_func_id). */
    public Asm call(int helperId) {
        return emit(JMP | CALL, null, null, 0, helperId);
    }

    /** Helper call by the name the log prints, e.g. {@code bpf_map_lookup_elem}. */
    public Asm call(String helperName) {
        int id = HelperIds.id(helperName)
                .orElseThrow(() -> new IllegalArgumentException("unknown helper '" + helperName + "'"));
        return call(id);
    }

    /** bpf-to-bpf call of the function at {@code label}. */
    public Asm callLabel(String label) {
        fixups.add(new Fixup(slots.size(), label, true));
        return raw(new Insn(JMP | CALL, 0, PSEUDO_CALL, 0, 0));
    }

    /** Kernel function call by BTF id ({@code btfFdIndex} 0 = vmlinux). */
    public Asm kfunc(int btfId, int btfFdIndex) {
        return raw(new Insn(JMP | CALL, 0, PSEUDO_KFUNC_CALL, btfFdIndex, btfId));
    }

    public Asm exit() {
        return emit(JMP | EXIT, null, null, 0, 0);
    }

    // ---- loads and stores ----

    /** {@code dst = *(size *)(src + off)}. */
    public Asm ldx(Size size, Reg dst, Reg src, int off) {
        return emit(LDX | MEM | size.bits(), dst, src, off, 0);
    }

    /** Sign-extending load {@code dst = *(s8/s16/s32 *)(src + off)}: size B, H or W. */
    public Asm ldxs(Size size, Reg dst, Reg src, int off) {
        return emit(LDX | MEMSX | size.bits(), dst, src, off, 0);
    }

    public Asm ldxB(Reg dst, Reg src, int off) {
        return ldx(B, dst, src, off);
    }

    public Asm ldxH(Reg dst, Reg src, int off) {
        return ldx(H, dst, src, off);
    }

    public Asm ldxW(Reg dst, Reg src, int off) {
        return ldx(W, dst, src, off);
    }

    public Asm ldxDW(Reg dst, Reg src, int off) {
        return ldx(DW, dst, src, off);
    }

    /** {@code *(size *)(dst + off) = src}. */
    public Asm stx(Size size, Reg dst, int off, Reg src) {
        return emit(STX | MEM | size.bits(), dst, src, off, 0);
    }

    public Asm stxB(Reg dst, int off, Reg src) {
        return stx(B, dst, off, src);
    }

    public Asm stxH(Reg dst, int off, Reg src) {
        return stx(H, dst, off, src);
    }

    public Asm stxW(Reg dst, int off, Reg src) {
        return stx(W, dst, off, src);
    }

    public Asm stxDW(Reg dst, int off, Reg src) {
        return stx(DW, dst, off, src);
    }

    /** {@code *(size *)(dst + off) = imm}. */
    public Asm st(Size size, Reg dst, int off, int imm) {
        return emit(ST | MEM | size.bits(), dst, null, off, imm);
    }

    public Asm stB(Reg dst, int off, int imm) {
        return st(B, dst, off, imm);
    }

    public Asm stH(Reg dst, int off, int imm) {
        return st(H, dst, off, imm);
    }

    public Asm stW(Reg dst, int off, int imm) {
        return st(W, dst, off, imm);
    }

    public Asm stDW(Reg dst, int off, int imm) {
        return st(DW, dst, off, imm);
    }

    /** Legacy packet load {@code r0 = *(size *)skb[imm]}. */
    public Asm ldAbs(Size size, int imm) {
        return emit(LD | ABS | size.bits(), null, null, 0, imm);
    }

    /** Legacy packet load {@code r0 = *(size *)skb[src + imm]}. */
    public Asm ldInd(Size size, Reg src, int imm) {
        return emit(LD | IND | size.bits(), null, src, 0, imm);
    }

    /** 64-bit immediate load (two slots). */
    public Asm ldImm64(Reg dst, long value) {
        return ldImm64(dst, 0, (int) value, (int) (value >>> 32));
    }

    /** Loads the map with this fd (LD_IMM64 src=PSEUDO_MAP_FD). */
    public Asm ldMapFd(Reg dst, int fd) {
        return ldImm64(dst, PSEUDO_MAP_FD, fd, 0);
    }

    /** Loads the address of the value of an array map plus {@code off} (src=PSEUDO_MAP_VALUE). */
    public Asm ldMapValue(Reg dst, int fd, int off) {
        return ldImm64(dst, PSEUDO_MAP_VALUE, fd, off);
    }

    /** Any LD_IMM64 pair: {@code src} is the pseudo source (0 for a plain constant). */
    public Asm ldImm64(Reg dst, int src, int lo, int hi) {
        raw(new Insn(LD_IMM64, dst.id(), src, 0, lo));
        return raw(new Insn(0, 0, 0, 0, hi));
    }

    // ---- atomics ----

    /** STX|ATOMIC of {@code size} (W or DW) with operation {@code op} in imm. */
    public Asm atomic(Size size, AtomicOp op, Reg dst, int off, Reg src) {
        return emit(STX | ATOMIC | size.bits(), dst, src, off, op.imm());
    }

    /** {@code lock *(size *)(dst + off) += src}. */
    public Asm atomicAdd(Size size, Reg dst, int off, Reg src) {
        return atomic(size, AtomicOp.ADD, dst, off, src);
    }

    public Asm atomicOr(Size size, Reg dst, int off, Reg src) {
        return atomic(size, AtomicOp.OR, dst, off, src);
    }

    public Asm atomicAnd(Size size, Reg dst, int off, Reg src) {
        return atomic(size, AtomicOp.AND, dst, off, src);
    }

    public Asm atomicXor(Size size, Reg dst, int off, Reg src) {
        return atomic(size, AtomicOp.XOR, dst, off, src);
    }

    /**
     * {@code src = atomic_fetch_<op>((size *)(dst + off), src)}: the fetching form of {@code op}
     * ({@link AtomicOp#fetch}), e.g. ADD gives FETCH_ADD.
     */
    public Asm atomicFetch(Size size, AtomicOp op, Reg dst, int off, Reg src) {
        return atomic(size, op.fetch(), dst, off, src);
    }

    /** {@code src = atomic_xchg((size *)(dst + off), src)}. */
    public Asm xchg(Size size, Reg dst, int off, Reg src) {
        return atomic(size, AtomicOp.XCHG, dst, off, src);
    }

    /** {@code r0 = atomic_cmpxchg((size *)(dst + off), r0, src)}. */
    public Asm cmpxchg(Size size, Reg dst, int off, Reg src) {
        return atomic(size, AtomicOp.CMPXCHG, dst, off, src);
    }

    // ---- result ----

    /** Resolves labels and checks the encoding. */
    public Program build() {
        List<Insn> out = new ArrayList<>(slots);
        for (Fixup f : fixups) {
            Integer target = labels.get(f.label());
            if (target == null) {
                throw new IllegalArgumentException("insn " + f.slot() + ": label '" + f.label() + "' is not defined");
            }
            int rel = target - (f.slot() + 1);
            Insn i = out.get(f.slot());
            if (f.inImm()) {
                out.set(f.slot(), new Insn(i.code(), i.dst(), i.src(), i.off(), rel));
            } else {
                if (rel < Short.MIN_VALUE || rel > Short.MAX_VALUE) {
                    throw new IllegalArgumentException("insn " + f.slot() + ": label '" + f.label() + "' is " + rel
                            + " slots away, beyond a 16-bit jump offset (gotol reaches further)");
                }
                out.set(f.slot(), new Insn(i.code(), i.dst(), i.src(), rel, i.imm()));
            }
        }
        Program p = new Program(out);
        Encoding.check(p);
        return p;
    }
}
