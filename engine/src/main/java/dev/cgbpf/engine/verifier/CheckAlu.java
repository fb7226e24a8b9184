package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static dev.cgbpf.engine.verifier.CheckRegArg.*;

import dev.cgbpf.engine.isa.Insn;

/**
 * check_alu_op and adjust_reg_min_max_vals: reserved fields, division by a constant zero, shift
 * ranges, scalar arithmetic ({@link ScalarAlu}) and the rules of pointer arithmetic, with the
 * messages of Linux 6.18 for a privileged loader.
 */
final class CheckAlu {
    private final VerifierEnv env;

    CheckAlu(VerifierEnv env) {
        this.env = env;
    }

    private static final String[] ALU_STR = {"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=",
        "s>>=", "endian"};

    void checkAlu(Insn insn, VerifierState st) throws VerifierError {
        int op = op(insn.code());
        boolean x = src(insn.code()) == X;
        boolean alu64 = insn.cls() == ALU64;
        if (op == END || op == NEG) {
            if (op == NEG) {
                if (x || insn.src() != 0 || insn.off() != 0 || insn.imm() != 0) {
                    throw VerifierError.einval("BPF_NEG uses reserved fields");
                }
            } else if (insn.src() != 0 || insn.off() != 0 || (insn.imm() != 16 && insn.imm() != 32 && insn.imm() != 64)
                    || (alu64 && x)) {
                throw VerifierError.einval("BPF_END uses reserved fields");
            }
            checkRegRead(st, insn.dst());
            checkRegWrite(insn.dst());
            RegState d = st.regs[insn.dst()];
            if (op == NEG) {
                // a privileged loader may negate a pointer: the result is a fully unknown number
                st.regs[insn.dst()] = d.isScalar() ? RegState.scalar(ScalarAlu.compute(NEG, d.val(), d.val(), !alu64))
                        : RegState.UNKNOWN;
            } else {
                // likewise a byte swap of a pointer, whatever the width (asked of 6.18)
                st.regs[insn.dst()] = d.isScalar()
                        ? RegState.scalar(ScalarAlu.endian(d.val(), insn.imm(), alu64 || x, alu64)) : RegState.UNKNOWN;
            }
            return;
        }
        if (op == MOV) {
            if (x && alu64 && insn.off() == 1) {
                if (insn.imm() != 1 && insn.imm() != 1 << 16) {
                    throw VerifierError.einval("addr_space_cast insn can only convert between address space 1 and 0");
                }
                throw VerifierError.einval("addr_space_cast insn can only be used in a program that has an associated arena");
            }
            if (x) {
                boolean okOff = insn.off() == 0 || insn.off() == 8 || insn.off() == 16 || (alu64 && insn.off() == 32);
                if (!okOff || insn.imm() != 0) {
                    throw VerifierError.einval("BPF_MOV uses reserved fields");
                }
                checkRegRead(st, insn.src());
            } else if (insn.src() != 0 || insn.off() != 0) {
                throw VerifierError.einval("BPF_MOV uses reserved fields");
            }
            checkRegWrite(insn.dst());
            if (x) {
                RegState s = st.regs[insn.src()];
                RegState r;
                if (insn.off() == 0) {
                    if (s.isScalar() && (alu64 || fitsIn(s.val(), 32))) {
                        // the copy is exact: both registers share an id, and what a branch learns
                        // about one it learns about the other (sync_linked_regs)
                        s = linkable(env, s);
                        st.regs[insn.src()] = s;
                        r = alu64 ? s : RegState.scalar(s.val().zext()).withId(s.id());
                    } else if (alu64) {
                        r = s;
                    } else {
                        r = s.isScalar() ? RegState.scalar(s.val().zext()) : RegState.scalar(Scalar.UNKNOWN.zext());
                    }
                } else if (s.isScalar()) {
                    r = RegState.scalar(ScalarAlu.signExtend(s.val(), insn.off(), !alu64));
                } else {
                    r = alu64 ? RegState.UNKNOWN : RegState.scalar(Scalar.UNKNOWN.zext());
                }
                st.regs[insn.dst()] = r;
            } else {
                st.regs[insn.dst()] = RegState.constant(alu64 ? insn.imm() : Integer.toUnsignedLong(insn.imm()));
            }
            return;
        }
        if (op > END) {
            throw VerifierError.einval("invalid BPF_ALU opcode " + Integer.toHexString(op));
        }
        boolean signedDivMod = insn.off() == 1 && (op == DIV || op == MOD);
        if (x) {
            if (insn.imm() != 0 || (insn.off() != 0 && !signedDivMod)) {
                throw VerifierError.einval("BPF_ALU uses reserved fields");
            }
            checkRegRead(st, insn.src());
        } else if (insn.src() != 0 || (insn.off() != 0 && !signedDivMod)) {
            throw VerifierError.einval("BPF_ALU uses reserved fields");
        }
        checkRegRead(st, insn.dst());
        if ((op == MOD || op == DIV) && !x && insn.imm() == 0) {
            throw VerifierError.einval("div by zero");
        }
        if ((op == LSH || op == RSH || op == ARSH) && !x) {
            int bits = alu64 ? 64 : 32;
            if (insn.imm() < 0 || insn.imm() >= bits) {
                throw VerifierError.einval("invalid shift " + insn.imm());
            }
        }
        checkRegWrite(insn.dst());
        RegState dst = st.regs[insn.dst()];
        RegState srcReg = x ? st.regs[insn.src()] : RegState.constant(insn.imm());
        st.regs[insn.dst()] = adjustRegMinMax(insn, op, alu64, dst, srcReg, x);
    }

    /**
     * assign_scalar_id_before_mov: an unknown scalar about to be copied gets an id (constants need
     * none: there is nothing to learn about them).
     */
    static RegState linkable(VerifierEnv env, RegState s) {
        if (!s.isScalar()) {
            return s;
        }
        if ((s.id() & RegState.ADD_CONST) != 0) {
            s = s.withId(0).withOff(0); // a copy of a shifted copy starts a link of its own
        }
        return s.id() == 0 && !s.val().isConst() ? s.withId(env.nextId()) : s;
    }

    /** get_reg_width(reg) <= bits: the value's unsigned maximum needs at most that many bits. */
    static boolean fitsIn(Scalar v, int bits) {
        return 64 - Long.numberOfLeadingZeros(v.umax()) <= bits;
    }

    private RegState adjustRegMinMax(Insn insn, int op, boolean alu64, RegState dst, RegState src, boolean x)
            throws VerifierError {
        int d = insn.dst();
        if (x && !src.isScalar()) {
            if (!dst.isScalar()) {
                if (op == SUB) {
                    return RegState.UNKNOWN; // root may subtract pointers: an unknown scalar
                }
                throw VerifierError.eacces("R" + d + " pointer " + ALU_STR[op >> 4] + " pointer prohibited");
            }
            return adjustPtr(insn, op, alu64, src, dst, true);
        }
        if (!dst.isScalar()) {
            return adjustPtr(insn, op, alu64, dst, src, false);
        }
        Scalar sv = x ? src.val() : (alu64 ? Scalar.constant(insn.imm()) : Scalar.constant(Integer.toUnsignedLong(insn.imm())));
        RegState r = RegState.scalar(ScalarAlu.compute(op, dst.val(), sv, !alu64));
        return (op == ADD || op == SUB) && dst.id() != 0 && sv.isConst() ? linkedPlusConst(dst, r, op, sv, alu64) : r;
    }

    /**
     * A linked copy plus or minus a constant stays linked, once (BPF_ADD_CONST64/32), as 6.18
     * keeps it: 64-bit with a constant in s32 range, 32-bit while the copy fits 32 bits; any other
     * operation on it breaks the link.
     */
    private static RegState linkedPlusConst(RegState dst, RegState result, int op, Scalar sv, boolean alu64) {
        if ((dst.id() & RegState.ADD_CONST) != 0) {
            return result;
        }
        long val = alu64 ? sv.constValue() : sv.constValue() & 0xffffffffL;
        if (alu64 ? val != (int) val : !fitsIn(dst.val(), 32)) {
            return result;
        }
        int off = (int) val;
        if (op == SUB) {
            if (off == Integer.MIN_VALUE) {
                return result; // its negation overflows
            }
            off = -off;
        }
        return result.withId(dst.id() | (alu64 ? RegState.ADD_CONST64 : RegState.ADD_CONST32)).withOff(off);
    }

    /** adjust_ptr_min_max_vals: pointer plus or minus a scalar. */
    private RegState adjustPtr(Insn insn, int op, boolean alu64, RegState ptr, RegState off, boolean scalarPlusPtr)
            throws VerifierError {
        int d = insn.dst();
        if (!alu64) {
            if (op == SUB) {
                return RegState.UNKNOWN;
            }
            throw VerifierError.eacces("R" + d + " 32-bit pointer arithmetic prohibited");
        }
        if (ptr.maybeNull()) {
            throw VerifierError.eacces("R" + d + " pointer arithmetic on " + ptr.typeName() + " prohibited, null-check it first");
        }
        Scalar ov = off.val();
        boolean known = ov.isConst();
        switch (ptr.type()) {
            case PTR_TO_CTX, PTR_TO_MAP_VALUE, PTR_TO_STACK, PTR_TO_PACKET, PTR_TO_PACKET_META, PTR_TO_RINGBUF_MEM,
                    PTR_TO_BTF_ID -> {
            }
            case CONST_PTR_TO_MAP -> {
                if (!(known && ov.constValue() == 0 && op == ADD)) {
                    throw VerifierError.eacces("R" + d + " pointer arithmetic on " + ptr.typeName() + " prohibited");
                }
            }
            default -> throw VerifierError.eacces("R" + d + " pointer arithmetic on " + ptr.typeName() + " prohibited");
        }
        if (ov.isEmpty()) {
            return RegState.UNKNOWN;
        }
        // The offset register's own fixed offset is 0 here: a linked scalar's constant (id=N+K) is
        // not checked as an offset (asked of 6.18: r7 = r6 + 2^30 with r7 in [0, 5] passes this
        // check, and r7 in [2^30, 2^30+5] fails on its smin, "value ... makes fp pointer be out of bounds").
        saneOffset(off.val(), 0, ptr.typeName());
        saneOffset(ptr.val(), ptr.off(), ptr.typeName());
        RegState r;
        switch (op) {
            case ADD -> {
                long sum = ptr.off() + ov.smin();
                if (known && sum == (int) sum) {
                    r = ptr.withOff((int) sum);
                } else {
                    r = ptr.withVal(ScalarAlu.compute(ADD, ptr.val(), ov, false));
                    if (ptr.type().isPacket()) {
                        r = r.withId(env.nextId()).withRange(0);
                    }
                }
            }
            case SUB -> {
                if (scalarPlusPtr) {
                    throw VerifierError.eacces("R" + d + " tried to subtract pointer from scalar");
                }
                if (ptr.type() == RegType.PTR_TO_STACK) {
                    throw VerifierError.eacces("R" + d + " subtraction from stack pointer prohibited");
                }
                long diff = ptr.off() - ov.smin();
                if (known && diff == (int) diff) {
                    r = ptr.withOff((int) diff);
                } else {
                    r = ptr.withVal(ScalarAlu.compute(SUB, ptr.val(), ov, false));
                    if (ptr.type().isPacket()) {
                        r = r.withId(env.nextId()).withRange(0);
                    }
                }
            }
            case AND, OR, XOR -> throw VerifierError.eacces("R" + d + " bitwise operator " + ALU_STR[op >> 4]
                    + " on pointer prohibited");
            default -> throw VerifierError.eacces("R" + d + " pointer arithmetic with " + ALU_STR[op >> 4]
                    + " operator prohibited");
        }
        saneOffset(r.val(), r.off(), ptr.typeName());
        return r;
    }

    /** check_reg_sane_offset: offsets beyond +-2^29 are refused (EINVAL). */
    private static void saneOffset(Scalar v, int fixedOff, String typeName) throws VerifierError {
        if (v.isConst() && (v.constValue() >= DoCheck.MAX_VAR_OFF || v.constValue() <= -DoCheck.MAX_VAR_OFF)) {
            throw VerifierError.einval("math between " + typeName + " pointer and " + v.constValue() + " is not allowed");
        }
        if (fixedOff >= DoCheck.MAX_VAR_OFF || fixedOff <= -DoCheck.MAX_VAR_OFF) {
            throw VerifierError.einval(typeName + " pointer offset " + fixedOff + " is not allowed");
        }
        if (v.smin() == Long.MIN_VALUE) {
            throw VerifierError.einval("math between " + typeName
                    + " pointer and register with unbounded min value is not allowed");
        }
        if (v.smin() >= DoCheck.MAX_VAR_OFF || v.smin() <= -DoCheck.MAX_VAR_OFF) {
            throw VerifierError.einval("value " + v.smin() + " makes " + typeName + " pointer be out of bounds");
        }
    }
}
