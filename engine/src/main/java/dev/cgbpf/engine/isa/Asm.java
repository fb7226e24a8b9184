package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.Opcodes.*;

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
 * {@link #atomic} and {@link #raw} cover what has no named shortcut. A label may be defined
 * once and named before or after its definition; {@link #build()} fails with a clear message for
 * an undefined label or a target beyond the 16-bit offset of a conditional jump, and checks the
 * result with {@link Encoding#check}.
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

    /** ALU64 {@code op} (an Opcodes ALU operation) with a register source. */
    public Asm alu64(int op, Reg dst, Reg src) {
        return emit(ALU64 | op | X, dst, src, 0, 0);
    }

    public Asm alu64(int op, Reg dst, int imm) {
        return emit(ALU64 | op | K, dst, null, 0, imm);
    }

    public Asm alu32(int op, Reg dst, Reg src) {
        return emit(ALU | op | X, dst, src, 0, 0);
    }

    public Asm alu32(int op, Reg dst, int imm) {
        return emit(ALU | op | K, dst, null, 0, imm);
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
        return emit(ALU64 | DIV | X, dst, src, 1, 0);
    }

    public Asm sdiv(Reg dst, int imm) {
        return emit(ALU64 | DIV | K, dst, null, 1, imm);
    }

    public Asm smod(Reg dst, Reg src) {
        return emit(ALU64 | MOD | X, dst, src, 1, 0);
    }

    public Asm smod(Reg dst, int imm) {
        return emit(ALU64 | MOD | K, dst, null, 1, imm);
    }

    public Asm sdiv32(Reg dst, Reg src) {
        return emit(ALU | DIV | X, dst, src, 1, 0);
    }

    public Asm sdiv32(Reg dst, int imm) {
        return emit(ALU | DIV | K, dst, null, 1, imm);
    }

    public Asm smod32(Reg dst, Reg src) {
        return emit(ALU | MOD | X, dst, src, 1, 0);
    }

    public Asm smod32(Reg dst, int imm) {
        return emit(ALU | MOD | K, dst, null, 1, imm);
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
        return emit(ALU64 | NEG, dst, null, 0, 0);
    }

    public Asm neg32(Reg dst) {
        return emit(ALU | NEG, dst, null, 0, 0);
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
        return emit(ALU64 | MOV | X, dst, src, bits, 0);
    }

    /** {@code wDst = (sBITS) wSrc}: bits 8 or 16. */
    public Asm movsx32(Reg dst, Reg src, int bits) {
        return emit(ALU | MOV | X, dst, src, bits, 0);
    }

    /** {@code dst = be16/32/64 dst}: to big endian (ALU END TO_BE). */
    public Asm be(Reg dst, int bits) {
        return emit(ALU | END | TO_BE, dst, null, 0, bits);
    }

    /** {@code dst = le16/32/64 dst}: to little endian (ALU END TO_LE). */
    public Asm le(Reg dst, int bits) {
        return emit(ALU | END | TO_LE, dst, null, 0, bits);
    }

    /** {@code dst = bswap16/32/64 dst}: unconditional byte swap (ALU64 END). */
    public Asm bswap(Reg dst, int bits) {
        return emit(ALU64 | END | TO_LE, dst, null, 0, bits);
    }

    // ---- jumps ----

    public Asm ja(String label) {
        return emitTo(label, false, JMP | JA, null, null, 0);
    }

    public Asm ja(int off) {
        return emit(JMP | JA, null, null, off, 0);
    }

    /** The 32-bit-offset jump (JMP32 | JA, target in imm). */
    public Asm gotol(String label) {
        return emitTo(label, true, JMP32 | JA, null, null, 0);
    }

    public Asm gotol(int off) {
        return emit(JMP32 | JA, null, null, 0, off);
    }

    /** Conditional 64-bit jump; {@code op} is an Opcodes jump operation (JEQ, JGT, ...). */
    public Asm jmp(int op, Reg dst, int imm, String label) {
        return emitTo(label, false, JMP | op | K, dst, null, imm);
    }

    public Asm jmp(int op, Reg dst, Reg src, String label) {
        return emitTo(label, false, JMP | op | X, dst, src, 0);
    }

    public Asm jmp32(int op, Reg dst, int imm, String label) {
        return emitTo(label, false, JMP32 | op | K, dst, null, imm);
    }

    public Asm jmp32(int op, Reg dst, Reg src, String label) {
        return emitTo(label, false, JMP32 | op | X, dst, src, 0);
    }

    /** Conditional jump with a numeric offset instead of a label. */
    public Asm jmp(int op, Reg dst, int imm, int off) {
        return emit(JMP | op | K, dst, null, off, imm);
    }

    public Asm jmp(int op, Reg dst, Reg src, int off) {
        return emit(JMP | op | X, dst, src, off, 0);
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

    /** {@code dst = *(size *)(src + off)}; size is Opcodes.B/H/W/DW. */
    public Asm ldx(int size, Reg dst, Reg src, int off) {
        return emit(LDX | MEM | size, dst, src, off, 0);
    }

    /** Sign-extending load: size B, H or W. */
    public Asm ldxs(int size, Reg dst, Reg src, int off) {
        return emit(LDX | MEMSX | size, dst, src, off, 0);
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
    public Asm stx(int size, Reg dst, int off, Reg src) {
        return emit(STX | MEM | size, dst, src, off, 0);
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
    public Asm st(int size, Reg dst, int off, int imm) {
        return emit(ST | MEM | size, dst, null, off, imm);
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
    public Asm ldAbs(int size, int imm) {
        return emit(LD | ABS | size, null, null, 0, imm);
    }

    /** Legacy packet load {@code r0 = *(size *)skb[src + imm]}. */
    public Asm ldInd(int size, Reg src, int imm) {
        return emit(LD | IND | size, null, src, 0, imm);
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

    /** STX|ATOMIC with operation {@code op} in imm (Opcodes ADD/OR/AND/XOR, |FETCH, XCHG, CMPXCHG). */
    public Asm atomic(int size, int op, Reg dst, int off, Reg src) {
        return emit(STX | ATOMIC | size, dst, src, off, op);
    }

    /** {@code lock *(size *)(dst + off) += src}. */
    public Asm atomicAdd(int size, Reg dst, int off, Reg src) {
        return atomic(size, ADD, dst, off, src);
    }

    public Asm atomicOr(int size, Reg dst, int off, Reg src) {
        return atomic(size, OR, dst, off, src);
    }

    public Asm atomicAnd(int size, Reg dst, int off, Reg src) {
        return atomic(size, AND, dst, off, src);
    }

    public Asm atomicXor(int size, Reg dst, int off, Reg src) {
        return atomic(size, XOR, dst, off, src);
    }

    /** {@code src = atomic_fetch_<op>((size *)(dst + off), src)}; op ADD, OR, AND or XOR. */
    public Asm atomicFetch(int size, int op, Reg dst, int off, Reg src) {
        return atomic(size, op | FETCH, dst, off, src);
    }

    /** {@code src = atomic_xchg((size *)(dst + off), src)}. */
    public Asm xchg(int size, Reg dst, int off, Reg src) {
        return atomic(size, XCHG, dst, off, src);
    }

    /** {@code r0 = atomic_cmpxchg((size *)(dst + off), r0, src)}. */
    public Asm cmpxchg(int size, Reg dst, int off, Reg src) {
        return atomic(size, CMPXCHG, dst, off, src);
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
