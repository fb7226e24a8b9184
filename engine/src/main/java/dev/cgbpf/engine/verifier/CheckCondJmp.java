package dev.cgbpf.engine.verifier;

import static dev.cgbpf.engine.isa.Opcodes.*;

import dev.cgbpf.engine.isa.Insn;

/**
 * check_cond_jmp_op's knowledge: which way a comparison must go (is_branch_taken), and what each
 * side of one that can go either way learns: scalar bounds (reg_set_min_max) shared with linked
 * copies (sync_linked_regs), NULL or not for a maybe-null pointer and its copies
 * (mark_ptr_or_null_regs), and the readable range of packet pointers (try_match_pkt_pointers).
 */
final class CheckCondJmp {
    /** The ranges of a packet pointer known to be at (pkt >= end) or past (pkt > end) the packet's end. */
    static final int AT_PKT_END = -1;
    static final int BEYOND_PKT_END = -2;

    /** The registers live before each instruction: a dead copy is not refined. */
    private final short[] liveBefore;

    CheckCondJmp(short[] liveBefore) {
        this.liveBefore = liveBefore;
    }

    /**
     * What the two sides of the conditional jump at {@code idx} learn: {@code fall} is the state
     * that falls through, {@code taken} the one that jumps; {@code src} is the immediate as a
     * constant for BPF_K.
     */
    void refine(int idx, Insn insn, RegState dst, RegState src, VerifierState fall, VerifierState taken) {
        int op = op(insn.code());
        boolean jmp32 = insn.cls() == JMP32;
        boolean x = src(insn.code()) == X;
        if (dst.isScalar() && src.isScalar()) {
            Branches.Pair t = Branches.refine(dst.val(), src.val(), op, jmp32);
            Branches.Pair f = Branches.refine(dst.val(), src.val(), Branches.negate(op), jmp32);
            taken.regs[insn.dst()] = dst.withVal(t.dst());
            fall.regs[insn.dst()] = dst.withVal(f.dst());
            if (x && insn.src() != insn.dst()) {
                taken.regs[insn.src()] = src.withVal(t.src());
                fall.regs[insn.src()] = src.withVal(f.src());
            }
            // sync_linked_regs: the source's copies first, then the destination's
            if (x) {
                syncLinkedRegs(fall, fall.regs[insn.src()], idx);
                syncLinkedRegs(taken, taken.regs[insn.src()], idx);
            }
            syncLinkedRegs(fall, fall.regs[insn.dst()], idx);
            syncLinkedRegs(taken, taken.regs[insn.dst()], idx);
        }
        if (!jmp32 && !x && insn.imm() == 0 && (op == JEQ || op == JNE) && dst.maybeNull()) {
            markPtrOrNull(fall, dst.id(), op == JNE);
            markPtrOrNull(taken, dst.id(), op == JEQ);
        } else if (x && !jmp32) { // try_match_pkt_pointers ignores 32-bit comparisons
            matchPktPointers(insn, op, dst, src, fall, taken);
        }
    }

    /**
     * collect_linked_regs and sync_linked_regs: every scalar that shares the refined register's id
     * (a copy made by a mov or a spill) learns the same bounds: in every frame, the registers
     * live there (at the branch in the current frame, at the call in a caller's: 6.18 leaves a
     * dead copy as it was, which shows in the log) and the spilled copies.
     */
    private void syncLinkedRegs(VerifierState st, RegState known, int insnIdx) {
        if (!known.isScalar() || known.id() == 0) {
            return;
        }
        for (int fr = 0; fr <= st.curframe(); fr++) {
            FuncState f = st.frame(fr);
            int live = liveBefore[st.frameInsn(fr, insnIdx)];
            for (int r = 0; r < 10; r++) {
                if ((live & (1 << r)) != 0) {
                    f.regs[r] = synced(f.regs[r], known);
                }
            }
            for (int k = 0; k < f.spill.length; k++) {
                if (f.spill[k] != null) {
                    f.spill[k] = synced(f.spill[k], known);
                }
            }
        }
    }

    /** One linked register after {@code known} was refined: the same bounds, shifted by their constants. */
    private static RegState synced(RegState r, RegState known) {
        if (!r.isScalar() || (r.id() & ~RegState.ADD_CONST) != (known.id() & ~RegState.ADD_CONST)) {
            return r;
        }
        boolean shifted = (r.id() & RegState.ADD_CONST) != 0;
        boolean knownShifted = (known.id() & RegState.ADD_CONST) != 0;
        if (!shifted && !knownShifted || r.off() == known.off()) {
            return known;
        }
        // r = known + (r's constant - known's constant), keeping r's own id and constant; a 32-bit
        // link adds in 32 bits and zero-extends
        boolean in32 = ((r.id() | known.id()) & RegState.ADD_CONST32) != 0;
        Scalar delta = Scalar.constant((long) r.off() - known.off());
        return r.withVal(ScalarAlu.compute(ADD, known.val(), delta, in32));
    }

    static int branchTaken(RegState dst, RegState src, int op, boolean jmp32) {
        if (dst.isScalar() && src.isScalar()) {
            return Branches.taken(dst.val(), src.val(), op, jmp32);
        }
        if (isPktPointerAny(dst) && isPktPointerAny(src) && !jmp32) {
            return pktPtrBranchTaken(dst, src, op);
        }
        // a pointer the kernel knows is not NULL (reg_not_null: map values, sockets, map pointers;
        // not ctx, stack or packet pointers) compared with the constant 0
        RegState ptr = dst.isPointer() ? dst : src;
        RegState other = dst.isPointer() ? src : dst;
        if (!other.isScalar()) {
            return -1;
        }
        Scalar c = other.val();
        boolean zero = jmp32 ? c.isSubregConst() && (int) c.var().value() == 0 : c.isConst() && c.constValue() == 0;
        if (!zero || !ptr.notNull()) {
            return -1;
        }
        return op == JEQ ? 0 : op == JNE ? 1 : -1;
    }

    /**
     * mark_ptr_or_null_regs: after {@code if rX == 0}, copies of the pointer are NULL or valid,
     * in registers and spills of every frame.
     */
    private static void markPtrOrNull(VerifierState st, int id, boolean isNull) {
        if (isNull) {
            CheckReferences.nullBranch(st, id); // a NULL from an acquiring helper holds no reference
        }
        st.mapAllRegs(r -> nullMark(r, id, isNull));
    }

    private static RegState nullMark(RegState r, int id, boolean isNull) {
        if (!r.maybeNull() || r.id() != id) {
            return r;
        }
        if (isNull) {
            return RegState.constant(0);
        }
        return r.nonNull().withId(0);
    }

    /** try_match_pkt_pointers: a packet pointer compared with pkt_end proves a readable range. */
    private void matchPktPointers(Insn insn, int op, RegState dst, RegState src, VerifierState fall,
                                  VerifierState taken) {
        RegState pkt;
        boolean pktIsDst;
        if (dst.type() == RegType.PTR_TO_PACKET && src.type() == RegType.PTR_TO_PACKET_END) {
            pkt = dst;
            pktIsDst = true;
        } else if (src.type() == RegType.PTR_TO_PACKET && dst.type() == RegType.PTR_TO_PACKET_END) {
            pkt = src;
            pktIsDst = false;
        } else {
            return;
        }
        int o = pktIsDst ? op : flip(op); // as "pkt OP end"
        if (o != JGT && o != JGE && o != JLT && o != JLE) {
            return;
        }
        // after pkt > end or pkt >= end the fall-through is inside the packet; after < or <= the jump
        boolean fallIsGood = o == JGT || o == JGE;
        VerifierState good = fallIsGood ? fall : taken;
        VerifierState beyond = fallIsGood ? taken : fall;
        // pkt < end proves one byte more than pkt <= end
        boolean openRight = o == JGE || o == JLT;
        findGoodPktPointers(good, pkt, openRight);
        // mark_pkt_end: where the pointer is at or past the end, that register (not its copies)
        // remembers it, so a later comparison of it with pkt_end is decided
        int regno = pktIsDst ? insn.dst() : insn.src();
        beyond.regs[regno] = beyond.regs[regno].withRange(o == JGT || o == JLE ? BEYOND_PKT_END : AT_PKT_END);
    }

    /** reg_is_pkt_pointer_any: packet, packet meta or packet end pointers. */
    private static boolean isPktPointerAny(RegState r) {
        return r.type().isPacket() || r.type() == RegType.PTR_TO_PACKET_END;
    }

    /** flip_opcode: "a OP b" as "b OP' a". */
    private static int flip(int op) {
        return switch (op) {
            case JGT -> JLT;
            case JLT -> JGT;
            case JGE -> JLE;
            case JLE -> JGE;
            case JSGT -> JSLT;
            case JSLT -> JSGT;
            case JSGE -> JSLE;
            case JSLE -> JSGE;
            default -> op;
        };
    }

    /**
     * is_pkt_ptr_branch_taken: a comparison with pkt_end of a pointer marked at or past the end.
     * 1 taken, 0 not taken, -1 unknown.
     */
    private static int pktPtrBranchTaken(RegState dst, RegState src, int op) {
        RegState pkt;
        if (src.type() == RegType.PTR_TO_PACKET_END) {
            pkt = dst;
        } else if (dst.type() == RegType.PTR_TO_PACKET_END) {
            pkt = src;
            op = flip(op);
        } else {
            return -1;
        }
        if (pkt.range() >= 0) {
            return -1;
        }
        return switch (op) {
            case JLE, JGT -> pkt.range() == BEYOND_PKT_END ? (op == JGT ? 1 : 0) : -1;
            case JLT, JGE -> op == JGE ? 1 : 0;
            default -> -1;
        };
    }

    private static void findGoodPktPointers(VerifierState st, RegState pkt, boolean openRight) {
        if (pkt.off() < 0 || (pkt.off() == 0 && openRight)) {
            return;
        }
        if (Long.compareUnsigned(pkt.val().umax(), 0xffff) > 0 || pkt.val().umax() + pkt.off() > 0xffff) {
            return;
        }
        // pkt + off < end (right-open) proves one byte more than pkt + off <= end
        int newRange = pkt.off() + (openRight ? 1 : 0);
        // every copy of the pointer, in registers and spills of every frame
        st.mapAllRegs(r -> r.type() == pkt.type() && r.id() == pkt.id() && r.range() < newRange
                ? r.withRange(newRange) : r);
    }

}
