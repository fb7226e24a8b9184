package dev.cgbpf.engine.verifier;

/**
 * Register and stack state in the verifier log's notation (print_verifier_state):
 * {@code R0=0 R1=ctx() R10=fp0}, {@code scalar(smin=..,umax=..,var_off=(0x0; 0xff))},
 * {@code map_value(map=hash,ks=4,vs=8)}, {@code fp-8}, {@code pkt(r=14)}.
 */
final class StatePrinter {
    private StatePrinter() {
    }

    /** A register as a state dump of frame 0 shows it. */
    static String reg(RegState r) {
        return reg(r, 0);
    }

    /**
     * A register as the dump of frame {@code frameno} shows it: a pointer into another frame's
     * stack names that frame, {@code fp[0]-8}.
     */
    static String reg(RegState r, int frameno) {
        if (r.isScalar()) {
            if (r.id() != 0 && !r.val().isConst()) {
                String body = scalarBody(r.val());
                boolean shifted = (r.id() & RegState.ADD_CONST) != 0;
                String id = (r.id() & ~RegState.ADD_CONST) + (shifted ? (r.off() >= 0 ? "+" : "") + r.off() : "");
                return "scalar(id=" + id + (body.isEmpty() ? "" : "," + body) + ")";
            }
            return scalar(r.val());
        }
        StringBuilder sb = new StringBuilder(r.typeName());
        if (r.type() == RegType.PTR_TO_BTF_ID) {
            sb.append(RegType.BTF_TASK_STRUCT);
        }
        if (r.type() == RegType.PTR_TO_STACK && r.frameno() != frameno) {
            sb.append('[').append(r.frameno()).append(']');
        }
        if (r.type() == RegType.PTR_TO_STACK && !r.maybeNull() && r.val().isConst() && r.val().constValue() == 0) {
            return sb.append(r.off() == 0 ? "0" : Integer.toString(r.off())).toString();
        }
        sb.append('(');
        String sep = "";
        // print_reg_state's order: ids, the map, the fixed offset, then what the type adds
        if (r.id() != 0) {
            sb.append("id=").append(r.id());
            sep = ",";
        }
        if (r.refObjId() != 0) {
            sb.append(sep).append("ref_obj_id=").append(r.refObjId());
            sep = ",";
        }
        if (r.map() != null) {
            sb.append(sep).append("map=").append(r.map().name()).append(",ks=").append(r.map().keySize())
                    .append(",vs=").append(r.map().valueSize());
            sep = ",";
        }
        if (r.off() != 0) {
            sb.append(sep).append("off=").append(r.off());
            sep = ",";
        }
        if (r.type().isPacket()) {
            // AT_PKT_END and BEYOND_PKT_END are negative ranges, printed as unsigned 64-bit
            sb.append(sep).append("r=").append(udec(r.range()));
            sep = ",";
        }
        if (r.type() == RegType.PTR_TO_RINGBUF_MEM) {
            sb.append(sep).append("sz=").append(udec(Integer.toUnsignedLong(r.range())));
            sep = ",";
        }
        if (r.val().isConst()) {
            if (r.val().constValue() != 0) {
                sb.append(sep).append("imm=").append(Long.toHexString(r.val().constValue()));
            }
        } else {
            String s = scalarBody(r.val());
            if (!s.isEmpty()) {
                sb.append(sep).append(s);
            }
        }
        return sb.append(')').toString();
    }

    static String scalar(Scalar s) {
        if (s.isConst()) {
            return dec(s.constValue());
        }
        return "scalar(" + scalarBody(s) + ")";
    }

    /**
     * print_scalar_ranges plus var_off: each bound that says something, in the order smin, smax,
     * umin, umax, smin32, smax32, umin32, umax32, with later bounds of the same value and sign
     * folded into the first ({@code smax=umax=0xffffffff}).
     */
    private static String scalarBody(Scalar s) {
        String[] names = {"smin", "smax", "umin", "umax", "smin32", "smax32", "umin32", "umax32"};
        long[] vals = {s.smin(), s.smax(), s.umin(), s.umax(), s32Shown(s.s32min()), s32Shown(s.s32max()),
            Integer.toUnsignedLong(s.u32min()), Integer.toUnsignedLong(s.u32max())};
        boolean[] omit = {s.smin() == Long.MIN_VALUE, s.smax() == Long.MAX_VALUE, s.umin() == 0, s.umax() == -1L,
            s.s32min() == Integer.MIN_VALUE, s.s32max() == Integer.MAX_VALUE, s.u32min() == 0, s.u32max() == -1};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            if (omit[i]) {
                continue;
            }
            boolean neg1 = names[i].charAt(0) == 's' && vals[i] < 0;
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(names[i]).append('=');
            for (int j = i + 2; j < names.length; j += 2) {
                if (omit[j]) {
                    continue;
                }
                boolean neg2 = names[j].charAt(0) == 's' && vals[j] < 0;
                if (neg1 == neg2 && vals[i] == vals[j]) {
                    sb.append(names[j]).append('=');
                    omit[j] = true;
                }
            }
            sb.append(names[i].charAt(0) == 's' ? dec(vals[i]) : udec(vals[i]));
        }
        if (!s.var().isUnknown()) {
            add(sb, "var_off=" + s.var());
        }
        return sb.toString();
    }

    /**
     * A 32-bit signed bound as print_scalar_ranges holds it: the signed value when it prints in
     * decimal, else its 32 bits as an unsigned number, so smin32 -2^30 prints 0xc0000000 and folds
     * into an equal umin32 ({@code smin32=umin32=0xc0000000}, asked of 6.18), not into smin.
     */
    private static long s32Shown(int v) {
        return v >= Short.MIN_VALUE && v <= Short.MAX_VALUE ? v : Integer.toUnsignedLong(v);
    }

    private static void add(StringBuilder sb, String s) {
        if (sb.length() > 0) {
            sb.append(',');
        }
        sb.append(s);
    }

    /** verbose_snum: numbers within s16 in decimal, others as unsigned hex. */
    static String dec(long v) {
        return v >= Short.MIN_VALUE && v <= Short.MAX_VALUE ? Long.toString(v) : "0x" + Long.toHexString(v);
    }

    /** verbose_unum: numbers up to u16 max in decimal. */
    static String udec(long v) {
        return Long.compareUnsigned(v, 0xffff) <= 0 ? Long.toUnsignedString(v) : "0x" + Long.toHexString(v);
    }

    /** One stack slot of the current frame ({@code k} counts from fp-512), or null when empty. */
    static String slot(VerifierState st, int k) {
        return slot(st.cur(), k);
    }

    /** One stack slot ({@code k} counts from fp-512) as the state dump shows it, or null when empty. */
    static String slot(FuncState st, int k) {
        int off = -VerifierState.MAX_BPF_STACK + 8 * k;
        if (st.spill[k] != null) {
            // a narrow spill shows the bytes above it first (highest address first): fp-8=mmmm0
            StringBuilder above = new StringBuilder();
            for (int i = 8 * k + 7; i >= 8 * k && st.stype[i] != VerifierState.STACK_SPILL; i--) {
                above.append(typeChar(st.stype[i]));
            }
            return "fp" + off + "=" + above + reg(st.spill[k], st.frameno);
        }
        StringBuilder types = new StringBuilder();
        boolean any = false;
        for (int i = 8 * k + 7; i >= 8 * k; i--) {
            byte t = st.stype[i];
            any |= t != VerifierState.STACK_INVALID;
            types.append(typeChar(t));
        }
        return any ? "fp" + off + "=" + types : null;
    }

    /** slot_type_char: how the log shows one stack byte's type. */
    private static char typeChar(byte t) {
        return t == VerifierState.STACK_MISC ? 'm' : t == VerifierState.STACK_ZERO ? '0' : '?';
    }

    /** The current frame's state, and the references the path holds. */
    static String state(VerifierState st) {
        return state(st.cur()) + refs(st);
    }

    /**
     * print_verifier_state of one frame: {@code frameN: } for a subprogram's frame, all
     * initialised registers, then stack slots that hold something.
     */
    static String state(FuncState st) {
        StringBuilder sb = new StringBuilder(framePrefix(st.frameno));
        for (int i = 0; i < st.regs.length; i++) {
            RegState r = st.regs[i];
            if (r != null && r.isInit()) {
                if (sb.length() > 0) {
                    sb.append(' ');
                }
                sb.append('R').append(i).append('=').append(reg(r, st.frameno));
            }
        }
        for (int k = st.spill.length - 1; k >= 0; k--) {
            String slot = slot(st, k);
            if (slot != null) {
                sb.append(' ').append(slot);
            }
        }
        return sb.toString();
    }

    /** What print_verifier_state adds after the registers and stack: the references held, {@code refs=2,3}. */
    static String refs(VerifierState st) {
        if (st.refs.length == 0) {
            return "";
        }
        StringBuilder sb = new StringBuilder(" refs=");
        for (int i = 0; i < st.refs.length; i++) {
            sb.append(i == 0 ? "" : ",").append(st.refs[i].id());
        }
        return sb.toString();
    }

    /** What the log puts before a frame's registers: nothing for the main program, {@code frame1:} for the first callee. */
    static String framePrefix(int frameno) {
        return frameno == 0 ? "" : "frame" + frameno + ":";
    }
}
