package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.Opcodes.*;

/**
 * Encoding rules of RFC 9669: which opcodes exist, which fields must be zero, and that
 * 64-bit immediate loads come as intact pairs.
 *
 * <p>The reserved-field rules are the ones the kernel enforces (kernel/bpf/verifier.c:
 * resolve_pseudo_ldimm64, check_alu_op, check_ld_abs, check_ld_imm, check_cond_jmp_op,
 * check_atomic and do_check's per-class checks), so a program this class accepts is one the
 * kernel decodes too. Everything the kernel checks later, with knowledge of types and control flow
 * (jump targets, division by a constant zero, shift ranges, helper ids, writes to r10), belongs to
 * the verifier, not here.
 *
 * <p>One field the kernel ignores although RFC 9669 leaves it unused: the offset of {@code exit}.
 * The kernel accepts and does not print it, so it is accepted here too (kernel first); the
 * {@link Disassembler} then cannot show it.
 *
 * <p>Kernel extensions beyond RFC 9669 are rejected with a message that names them:
 * may_goto, gotox, addr_space_cast, load_acquire/store_release, nospec.
 */
public final class Encoding {
    private Encoding() {
    }

    /** Register numbers r0..r10; the kernel's check_reg_arg rejects higher ones ("R11 is invalid"). */
    public static final int MAX_REG = 10;

    /** Throws {@link MalformedProgramException} at the first slot that breaks an encoding rule. */
    public static void check(Program p) {
        for (int i = 0; i < p.size(); i++) {
            Insn insn = p.get(i);
            String why = insn.isLdImm64() ? checkLdImm64(p, i) : checkOne(insn);
            if (why != null) {
                throw new MalformedProgramException(i, why);
            }
            if (insn.isLdImm64()) {
                i++;
            }
        }
    }

    /** The reason a single (non-LD_IMM64) slot is invalid, or null when it is valid. */
    static String checkOne(Insn insn) {
        return switch (insn.cls()) {
            case ALU, ALU64 -> checkAlu(insn);
            case JMP, JMP32 -> checkJmp(insn);
            case LD -> checkLd(insn);
            case LDX -> checkLdx(insn);
            case ST -> checkSt(insn);
            case STX -> checkStx(insn);
            default -> throw new AssertionError("class " + insn.cls());
        };
    }

    private static String checkLdImm64(Program p, int i) {
        Insn first = p.get(i);
        if (i + 1 >= p.size()) {
            return "ld_imm64 is missing its second slot";
        }
        Insn second = p.get(i + 1);
        if (second.code() != 0 || second.dst() != 0 || second.src() != 0 || second.off() != 0) {
            // resolve_pseudo_ldimm64: "invalid bpf_ld_imm64 insn"
            return "ld_imm64 second slot must be all zero except imm (code=0x"
                    + hex2(second.code()) + " dst=" + second.dst() + " src=" + second.src() + " off=" + second.off() + ")";
        }
        if (first.off() != 0) {
            return "ld_imm64 uses reserved field off=" + first.off();
        }
        if (first.dst() > MAX_REG) {
            return badReg("dst", first.dst());
        }
        return switch (first.src()) {
            case 0, PSEUDO_MAP_VALUE, PSEUDO_MAP_IDX_VALUE, PSEUDO_BTF_ID -> null;
            case PSEUDO_MAP_FD, PSEUDO_MAP_IDX -> second.imm() == 0 ? null
                    : "ld_imm64 of a map (src=" + first.src() + ") must have imm=0 in its second slot, not " + second.imm();
            case PSEUDO_FUNC -> second.imm() == 0 ? null
                    : "ld_imm64 of a function (src=4) must have imm=0 in its second slot, not " + second.imm();
            default -> "ld_imm64 has unknown pseudo source src=" + first.src();
        };
    }

    private static String checkAlu(Insn insn) {
        int op = op(insn.code());
        boolean x = src(insn.code()) == X;
        boolean alu64 = insn.cls() == ALU64;
        String name = alu64 ? "alu64" : "alu";
        if (insn.dst() > MAX_REG) {
            return badReg("dst", insn.dst());
        }
        if (x && insn.src() > MAX_REG) {
            return badReg("src", insn.src());
        }
        switch (op) {
            case NEG -> {
                if (x || insn.src() != 0 || insn.off() != 0 || insn.imm() != 0) {
                    return x ? unknown(insn) : "neg uses reserved fields (src, off and imm must be 0)";
                }
                return null;
            }
            case END -> {
                if (alu64 && x) {
                    return unknown(insn); // 0xdf: bswap has no direction bit
                }
                if (insn.src() != 0 || insn.off() != 0) {
                    return (alu64 ? "bswap" : "end") + " uses reserved fields (src and off must be 0)";
                }
                if (insn.imm() != 16 && insn.imm() != 32 && insn.imm() != 64) {
                    return (alu64 ? "bswap" : "end") + " width imm=" + insn.imm() + " is not 16, 32 or 64";
                }
                return null;
            }
            case MOV -> {
                if (!x) {
                    return insn.src() != 0 || insn.off() != 0 ? name + " mov uses reserved fields (src and off must be 0)" : null;
                }
                if (insn.imm() != 0) {
                    return name + " mov uses reserved field imm=" + insn.imm();
                }
                if (alu64 && insn.off() == 1) {
                    return "addr_space_cast (mov off=1) is a kernel extension beyond RFC 9669, not supported";
                }
                boolean movsx = insn.off() == 8 || insn.off() == 16 || (alu64 && insn.off() == 32);
                if (insn.off() != 0 && !movsx) {
                    return name + " movsx offset " + insn.off() + " is not " + (alu64 ? "8, 16 or 32" : "8 or 16");
                }
                return null;
            }
            case ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, MOD, XOR, ARSH -> {
                if (x ? insn.imm() != 0 : insn.src() != 0) {
                    return name + " uses reserved field " + (x ? "imm=" + insn.imm() : "src=" + insn.src());
                }
                if (insn.off() == 1 && op != DIV && op != MOD) {
                    return name + " offset 1 (signed) applies only to div and mod";
                }
                if (insn.off() != 0 && insn.off() != 1) {
                    return name + " uses reserved field off=" + insn.off();
                }
                return null;
            }
            default -> {
                return unknown(insn);
            }
        }
    }

    private static String checkJmp(Insn insn) {
        int op = op(insn.code());
        boolean x = src(insn.code()) == X;
        boolean jmp32 = insn.cls() == JMP32;
        switch (op) {
            case CALL -> {
                if (x || jmp32) {
                    return unknown(insn);
                }
                if (insn.dst() != 0) {
                    return "call uses reserved field dst=" + insn.dst();
                }
                if (insn.src() != 0 && insn.src() != PSEUDO_CALL && insn.src() != PSEUDO_KFUNC_CALL) {
                    return "call has unknown source src=" + insn.src() + " (0 helper, 1 bpf-to-bpf call, 2 kfunc)";
                }
                if (insn.src() != PSEUDO_KFUNC_CALL && insn.off() != 0) {
                    return "call uses reserved field off=" + insn.off();
                }
                return null;
            }
            case EXIT -> {
                if (x || jmp32) {
                    return unknown(insn);
                }
                if (insn.dst() != 0 || insn.src() != 0 || insn.imm() != 0) {
                    return "exit uses reserved fields (dst, src and imm must be 0)";
                }
                return null; // off is ignored by the kernel (see class comment)
            }
            case JA -> {
                if (x) {
                    return jmp32 ? unknown(insn) : "gotox (jmp|ja|x) is a kernel extension beyond RFC 9669, not supported";
                }
                if (insn.dst() != 0 || insn.src() != 0) {
                    return (jmp32 ? "gotol" : "goto") + " uses reserved fields (dst and src must be 0)";
                }
                if (jmp32 ? insn.off() != 0 : insn.imm() != 0) {
                    return jmp32 ? "gotol uses reserved field off=" + insn.off() + " (its target is in imm)"
                            : "goto uses reserved field imm=" + insn.imm() + " (its target is in off)";
                }
                return null;
            }
            case JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, JLT, JLE, JSLT, JSLE -> {
                if (insn.dst() > MAX_REG) {
                    return badReg("dst", insn.dst());
                }
                if (x && insn.src() > MAX_REG) {
                    return badReg("src", insn.src());
                }
                if (x ? insn.imm() != 0 : insn.src() != 0) {
                    return (jmp32 ? "jmp32" : "jmp") + " uses reserved field " + (x ? "imm=" + insn.imm() : "src=" + insn.src());
                }
                return null;
            }
            default -> {
                return op == 0xe0 && !jmp32 && !x
                        ? "may_goto (jmp|jcond) is a kernel extension beyond RFC 9669, not supported"
                        : unknown(insn);
            }
        }
    }

    private static String checkLd(Insn insn) {
        int mode = mode(insn.code());
        if ((mode != ABS && mode != IND) || size(insn.code()) == DW) {
            // LD|IMM|DW is handled as a pair; every other LD opcode does not exist
            return unknown(insn);
        }
        if (insn.dst() != 0 || insn.off() != 0 || (mode == ABS && insn.src() != 0)) {
            return "ld_" + (mode == ABS ? "abs" : "ind") + " uses reserved fields (dst, off"
                    + (mode == ABS ? ", src" : "") + " must be 0)";
        }
        if (insn.src() > MAX_REG) {
            return badReg("src", insn.src());
        }
        return null;
    }

    private static String checkLdx(Insn insn) {
        int mode = mode(insn.code());
        if (mode != MEM && !(mode == MEMSX && size(insn.code()) != DW)) {
            return unknown(insn);
        }
        if (insn.imm() != 0) {
            return "ldx uses reserved field imm=" + insn.imm();
        }
        return regs(insn);
    }

    private static String checkSt(Insn insn) {
        int mode = mode(insn.code());
        if (mode != MEM) {
            return mode == 0xc0 ? "nospec (st|0xc0) is kernel-internal, not an instruction" : unknown(insn);
        }
        if (insn.src() != 0) {
            return "st uses reserved field src=" + insn.src();
        }
        return insn.dst() > MAX_REG ? badReg("dst", insn.dst()) : null;
    }

    private static String checkStx(Insn insn) {
        int mode = mode(insn.code());
        if (mode == MEM) {
            if (insn.imm() != 0) {
                return "stx uses reserved field imm=" + insn.imm();
            }
            return regs(insn);
        }
        if (mode != ATOMIC) {
            return unknown(insn);
        }
        int imm = insn.imm();
        if (imm == 0x100 || imm == 0x110) {
            return (imm == 0x100 ? "load_acquire" : "store_release")
                    + " (atomic imm 0x" + Integer.toHexString(imm) + ") is a kernel extension beyond RFC 9669, not supported";
        }
        if (!isAtomicOp(imm)) {
            return "atomic has unknown operation imm=0x" + Integer.toHexString(imm);
        }
        if (size(insn.code()) != W && size(insn.code()) != DW) {
            return "atomic operand size must be u32 or u64";
        }
        return regs(insn);
    }

    /** The imm values of RFC 9669's atomic operations. */
    public static boolean isAtomicOp(int imm) {
        return AtomicOp.of(imm).isPresent();
    }

    private static String regs(Insn insn) {
        if (insn.dst() > MAX_REG) {
            return badReg("dst", insn.dst());
        }
        return insn.src() > MAX_REG ? badReg("src", insn.src()) : null;
    }

    private static String badReg(String field, int reg) {
        return field + " register r" + reg + " does not exist (r0..r10)";
    }

    private static String unknown(Insn insn) {
        return "unknown opcode 0x" + hex2(insn.code());
    }

    private static String hex2(int code) {
        return String.format("%02x", code);
    }
}
