package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.Opcodes.*;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Prints instructions exactly as the kernel's verifier log does (kernel/bpf/disasm.c
 * print_bpf_insn with the verifier's callbacks), e.g. {@code (bf) r6 = r1},
 * {@code (69) r7 = *(u16 *)(r6 +0)}, {@code (85) call bpf_get_current_cgroup_id#80}.
 *
 * <p>Three forms: {@link #line} is the kernel's text with the {@code (xx) } opcode prefix,
 * {@link #listing} adds the {@code N: } slot index as the log does, and {@link #bare} is the
 * assembly syntax of scenario files, which {@link Assembler} reads back to the same slots.
 * The bare form is the kernel's text without the prefix, with two differences that keep it
 * unambiguous: a 64-bit immediate load of a plain constant ends in {@code " ll"} (as in llvm's
 * assembly), since {@code r1 = 0x5} is otherwise also a 32-bit {@code mov}; and the two fields
 * the kernel never prints are lost (the offset of {@code exit}, which it ignores, and the BTF
 * fd index in {@code off} of a kfunc call).
 *
 * <p>Where the kernel prints a kernel address (64-bit loads of maps and BTF ids, which are
 * only known after loading) this class prints what the program says instead, in the style of
 * bpftool's xlated dump:
 * <ul>
 *   <li>src=1 map fd: {@code r1 = map[NAME]} with a name resolver that knows the fd,
 *       else {@code r1 = map[fd:N]}</li>
 *   <li>src=2 map value: {@code r1 = map[NAME][0]+OFF} (OFF from the second slot, unsigned)</li>
 *   <li>src=3 BTF id: {@code r1 = btf_id[ID]}, or {@code btf_id[ID][btf_fd:FD]} for a module BTF</li>
 *   <li>src=4 function: {@code r1 = func[pc+N]}</li>
 *   <li>src=5 map index: {@code r1 = map[idx:N]}, src=6: {@code r1 = map[idx:N][0]+OFF}</li>
 * </ul>
 * A kfunc call prints as the kernel prints one it cannot name: {@code call kernel-function#ID}.
 */
public final class Disassembler {
    private static final String[] ALU_OPS = {"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=",
        "s>>=", "endian", null, null};
    private static final String[] JMP_OPS = {"jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=",
        "s<", "s<=", null, null};
    private static final String[] ATOMIC_ALU = {"add", null, null, null, "or", "and", null, null, null, null, "xor",
        null, null, null, null, null};
    private static final String[] CLASSES = {"ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64"};

    private final IntFunction<String> mapNames;

    /** Prints maps as {@code map[fd:N]}. */
    public Disassembler() {
        this(fd -> null);
    }

    /** @param mapNames map fd to the map's name, or null when unknown ({@code map[fd:N]} then) */
    public Disassembler(IntFunction<String> mapNames) {
        this.mapNames = mapNames;
    }

    /** The kernel's text of slot {@code index}: {@code (bf) r6 = r1}. */
    public String line(Program p, int index) {
        String text = text(p, index, false);
        // the kernel prints an instruction it cannot decode without its opcode in parentheses
        return text.startsWith("BUG_") ? text : "(" + hex2(p.get(index).code()) + ") " + text;
    }

    /** The assembly form of slot {@code index}, as {@link Assembler} reads it: {@code r6 = r1}. */
    public String bare(Program p, int index) {
        return text(p, index, true);
    }

    /** The log's listing: {@code N: (xx) ...} for every instruction, N the slot index. */
    public List<String> listing(Program p) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < p.size(); i += p.get(i).isLdImm64() ? 2 : 1) {
            out.add(i + ": " + line(p, i));
        }
        return out;
    }

    /** One assembly line per instruction (an LD_IMM64 pair is one line). */
    public List<String> bareLines(Program p) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < p.size(); i += p.get(i).isLdImm64() ? 2 : 1) {
            out.add(bare(p, i));
        }
        return out;
    }

    private String text(Program p, int index, boolean bare) {
        Insn insn = p.get(index);
        return switch (insn.cls()) {
            case ALU, ALU64 -> alu(insn);
            case STX -> stx(insn);
            case ST -> st(insn);
            case LDX -> ldx(insn);
            case LD -> ld(p, index, bare);
            case JMP, JMP32 -> jmp(insn);
            default -> CLASSES[insn.cls()];
        };
    }

    private static String alu(Insn insn) {
        char w = insn.cls() == ALU ? 'w' : 'r';
        int op = op(insn.code());
        int d = insn.dst();
        if (op == END) {
            if (insn.cls() == ALU64) {
                return "r" + d + " = bswap" + insn.imm() + " r" + d;
            }
            return "r" + d + " = " + (src(insn.code()) == TO_BE ? "be" : "le") + insn.imm() + " r" + d;
        }
        if (op == NEG) {
            return w + "" + d + " = -" + w + d;
        }
        String sym = (op == DIV || op == MOD) && insn.off() == 1 ? "s" + ALU_OPS[op >> 4] : str(ALU_OPS[op >> 4]);
        if (src(insn.code()) == X) {
            if (op == MOV && insn.cls() == ALU64 && insn.off() == 1) { // BPF_ADDR_SPACE_CAST
                return "r" + d + " = addr_space_cast(r" + insn.src() + ", " + (insn.imm() >>> 16) + ", "
                        + (insn.imm() & 0xffff) + ")";
            }
            String cast = "";
            if (op == MOV) {
                cast = switch (insn.off()) {
                    case 8 -> "(s8)";
                    case 16 -> "(s16)";
                    case 32 -> "(s32)";
                    default -> "";
                };
            }
            return w + "" + d + " " + sym + " " + cast + w + insn.src();
        }
        return w + "" + d + " " + sym + " " + insn.imm();
    }

    private static String stx(Insn insn) {
        String size = ldst(insn.code());
        String mem = "(" + size + " *)(r" + insn.dst() + " " + signed(insn.off()) + ")";
        int mode = mode(insn.code());
        if (mode == MEM) {
            return "*" + mem + " = r" + insn.src();
        }
        if (mode != ATOMIC) {
            return "BUG_" + hex2(insn.code());
        }
        int imm = insn.imm();
        String bits = size(insn.code()) == DW ? "64" : "";
        int s = insn.src();
        if (imm == ADD || imm == AND || imm == OR || imm == XOR) {
            return "lock *" + mem + " " + ALU_OPS[imm >> 4] + " r" + s;
        }
        if (imm == (ADD | FETCH) || imm == (AND | FETCH) || imm == (OR | FETCH) || imm == (XOR | FETCH)) {
            return "r" + s + " = atomic" + bits + "_fetch_" + ATOMIC_ALU[imm >> 4] + "(" + mem + ", r" + s + ")";
        }
        if (imm == CMPXCHG) {
            return "r0 = atomic" + bits + "_cmpxchg(" + mem + ", r0, r" + s + ")";
        }
        if (imm == XCHG) {
            return "r" + s + " = atomic" + bits + "_xchg(" + mem + ", r" + s + ")";
        }
        if (imm == 0x100) { // load_acquire: dst is the destination, src the address base
            return "r" + insn.dst() + " = load_acquire((" + size + " *)(r" + s + " " + signed(insn.off()) + "))";
        }
        if (imm == 0x110) { // store_release
            return "store_release(" + mem + ", r" + s + ")";
        }
        return "BUG_" + hex2(insn.code());
    }

    private static String st(Insn insn) {
        if (mode(insn.code()) == MEM) {
            return "*(" + ldst(insn.code()) + " *)(r" + insn.dst() + " " + signed(insn.off()) + ") = " + insn.imm();
        }
        return mode(insn.code()) == 0xc0 ? "nospec" : "BUG_st_" + hex2(insn.code());
    }

    private static String ldx(Insn insn) {
        int mode = mode(insn.code());
        if (mode != MEM && mode != MEMSX) {
            return "BUG_ldx_" + hex2(insn.code());
        }
        String size = mode == MEM ? ldst(insn.code()) : ldsx(insn.code());
        return "r" + insn.dst() + " = *(" + size + " *)(r" + insn.src() + " " + signed(insn.off()) + ")";
    }

    private String ld(Program p, int index, boolean bare) {
        Insn insn = p.get(index);
        int mode = mode(insn.code());
        if (mode == ABS) {
            return "r0 = *(" + ldst(insn.code()) + " *)skb[" + insn.imm() + "]";
        }
        if (mode == IND) {
            return "r0 = *(" + ldst(insn.code()) + " *)skb[r" + insn.src() + " + " + insn.imm() + "]";
        }
        if (mode != IMM || size(insn.code()) != DW) {
            return "BUG_ld_" + hex2(insn.code());
        }
        if (index + 1 >= p.size()) {
            throw new MalformedProgramException(index, "ld_imm64 is missing its second slot");
        }
        int hi = p.get(index + 1).imm();
        String lhs = "r" + insn.dst() + " = ";
        return lhs + switch (insn.src()) {
            case 0 -> "0x" + Long.toHexString(((long) hi << 32) | Integer.toUnsignedLong(insn.imm())) + (bare ? " ll" : "");
            case PSEUDO_MAP_FD -> mapRef(insn.imm());
            case PSEUDO_MAP_VALUE -> mapRef(insn.imm()) + "[0]+" + Integer.toUnsignedString(hi);
            case PSEUDO_BTF_ID -> "btf_id[" + insn.imm() + "]" + (hi == 0 ? "" : "[btf_fd:" + hi + "]");
            case PSEUDO_FUNC -> "func[pc" + signed(insn.imm()) + "]";
            case PSEUDO_MAP_IDX -> "map[idx:" + insn.imm() + "]";
            case PSEUDO_MAP_IDX_VALUE -> "map[idx:" + insn.imm() + "][0]+" + Integer.toUnsignedString(hi);
            default -> "0x" + Long.toHexString(((long) hi << 32) | Integer.toUnsignedLong(insn.imm()));
        };
    }

    private String mapRef(int fd) {
        String name = mapNames.apply(fd);
        return name != null ? "map[" + name + "]" : "map[fd:" + fd + "]";
    }

    private static String jmp(Insn insn) {
        int op = op(insn.code());
        char w = insn.cls() == JMP32 ? 'w' : 'r';
        if (op == CALL) {
            if (insn.src() == PSEUDO_CALL) {
                return "call pc" + signed(insn.imm());
            }
            String name;
            if (insn.src() == 0) {
                name = HelperIds.name(insn.imm()).orElse("unknown");
            } else {
                name = insn.src() == PSEUDO_KFUNC_CALL ? "kernel-function" : "unknown";
            }
            return "call " + name + "#" + insn.imm();
        }
        if (insn.code() == (JMP | JA)) {
            return "goto pc" + signed(insn.off());
        }
        if (insn.code() == (JMP32 | JA)) {
            return "gotol pc" + signed(insn.imm());
        }
        if (insn.code() == (JMP | EXIT)) {
            return "exit";
        }
        String sym = str(JMP_OPS[op >> 4]);
        if (src(insn.code()) == X) {
            return "if " + w + insn.dst() + " " + sym + " " + w + insn.src() + " goto pc" + signed(insn.off());
        }
        return "if " + w + insn.dst() + " " + sym + " 0x" + Integer.toHexString(insn.imm()) + " goto pc" + signed(insn.off());
    }

    /** printf's %+d. */
    static String signed(int v) {
        return v < 0 ? Integer.toString(v) : "+" + v;
    }

    private static String ldst(int code) {
        return switch (size(code)) {
            case W -> "u32";
            case H -> "u16";
            case B -> "u8";
            default -> "u64";
        };
    }

    private static String ldsx(int code) {
        return switch (size(code)) {
            case W -> "s32";
            case H -> "s16";
            case B -> "s8";
            default -> "(null)"; // the kernel's table has no entry for DW
        };
    }

    /** printf prints a NULL %s argument as "(null)": what the kernel shows for undefined ops. */
    private static String str(String s) {
        return s == null ? "(null)" : s;
    }

    static String hex2(int code) {
        return String.format("%02x", code);
    }
}
