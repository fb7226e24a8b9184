package dev.cgbpf.engine.isa;

import static dev.cgbpf.engine.isa.Opcodes.*;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the verifier log's instruction syntax (what {@link Disassembler#bare} prints) back into
 * instruction slots.
 *
 * <p>Lines may carry the log's {@code N: (xx) } prefix, which is ignored except for one thing: a
 * constant load with the prefix {@code (18)} is a 64-bit immediate load. Without the prefix, a
 * constant load {@code rN = C} is a 64-bit immediate load when it ends in {@code " ll"} or when C
 * does not fit the sign-extended 32-bit immediate of {@code mov}; otherwise it is a {@code mov}.
 * So {@code r1 = 5} is {@code (b7)}, {@code r1 = 0x5 ll} and {@code (18) r1 = 0x5} are {@code (18)},
 * and {@code r1 = 0xffffffff} is {@code (18)} because as a {@code mov} it would mean -1.
 *
 * <p>Immediates are decimal or hex, optionally negative, as the kernel prints them. A 32-bit
 * immediate that the kernel prints as unsigned hex (jump constants, {@code w} registers) may be
 * written up to 0xffffffff and means the same bit pattern; a 64-bit register compared with
 * {@code 0xffffffff} is compared with -1, exactly as the kernel shows it.
 *
 * <p>Also: {@code label:} definitions (on their own line or before an instruction) and label
 * names as jump or call targets; comments from {@code //} or {@code ;} to the end of the line
 * (so a pasted log line with its {@code ; R0_w=0} state still reads) and lines starting with
 * {@code #}; {@code rN = map[NAME]} with a resolver from map name to fd, and {@code map[fd:N]}.
 * The result must pass {@link Encoding#check}. Errors are {@link AsmSyntaxException}s,
 * {@code line L col C: reason}.
 *
 * <p>Why one long class: the grammar of the verifier log's statements, one method per statement
 * form, kept together so it reads top to bottom; the lexical side is {@link Cursor}.
 */
public final class Assembler {
    private static final Pattern SLOT_PREFIX = Pattern.compile("\\d+:\\s*");
    private static final Pattern OPCODE_PREFIX = Pattern.compile("\\(([0-9a-fA-F]{2})\\)\\s*");
    private static final Pattern LABEL_DEF = Pattern.compile("([A-Za-z_][A-Za-z0-9_.]*)\\s*:");
    static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");
    private static final Pattern REG = Pattern.compile("([rw])([0-9]+)(?![A-Za-z0-9_])");
    static final Pattern NUMBER = Pattern.compile("-?(?:0[xX][0-9a-fA-F]+|[0-9]+)(?![A-Za-z0-9_])");
    private static final Pattern PC_REL = Pattern.compile("pc([+-][0-9]+)(?![A-Za-z0-9_])");
    private static final Pattern ALU_OP = Pattern.compile("s>>=|s/=|s%=|<<=|>>=|\\+=|-=|\\*=|/=|\\|=|&=|%=|\\^=|=(?!=)");
    private static final Pattern JMP_OP = Pattern.compile("==|!=|s>=|s<=|s>|s<|>=|<=|>|<|&");
    private static final Pattern SIZE = Pattern.compile("(u8|u16|u32|u64|s8|s16|s32)(?![A-Za-z0-9_])");
    private static final Pattern MOVSX = Pattern.compile("\\((s8|s16|s32)\\)");
    private static final Pattern ENDIAN = Pattern.compile("(be|le|bswap)([0-9]+)(?![A-Za-z0-9_])");
    private static final Pattern ATOMIC_CALL =
            Pattern.compile("atomic(64)?_(fetch_add|fetch_and|fetch_or|fetch_xor|xchg|cmpxchg)\\(");
    private static final Pattern HELPER = Pattern.compile("([A-Za-z_][A-Za-z0-9_-]*)(?:#(-?[0-9]+))?(?![A-Za-z0-9_#-])");

    private static final BigInteger S32_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
    private static final BigInteger S32_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger U32_MAX = BigInteger.valueOf(0xffffffffL);
    private static final BigInteger S64_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final Function<String, Integer> mapFds;

    /** Maps can be named only as {@code map[fd:N]}. */
    public Assembler() {
        this(name -> null);
    }

    /** @param mapFds map name to the fd a program loads it by, or null for an unknown name */
    public Assembler(Function<String, Integer> mapFds) {
        this.mapFds = mapFds;
    }

    /** Assembles newline-separated lines. */
    public Program assemble(String text) {
        return assemble(Arrays.asList(text.split("\r?\n", -1)));
    }

    public Program assemble(List<String> lines) {
        Session s = new Session();
        for (int i = 0; i < lines.size(); i++) {
            s.line(i + 1, lines.get(i));
        }
        return s.finish();
    }

    /** A reference to a label, patched when all labels are known. */
    private record Fixup(int slot, String label, int line, int col, boolean inImm) {
    }

    private record Reg(int n, boolean wide, int col) {
        String text() {
            return (wide ? "r" : "w") + n;
        }
    }

    private record Mem(int size, boolean signed, int reg, int off) {
    }

    /** The state of one assembly run. */
    private final class Session {
        private final List<Insn> slots = new ArrayList<>();
        private final List<Integer> slotLines = new ArrayList<>();
        private final Map<String, Integer> labels = new HashMap<>();
        private final List<Fixup> fixups = new ArrayList<>();

        void line(int lineNo, String raw) {
            Cursor c = new Cursor(lineNo, stripComment(raw));
            if (c.atEnd()) {
                return;
            }
            if (c.match(SLOT_PREFIX) != null) {
                c.ws();
            }
            boolean ld64 = false;
            Matcher op = c.matcher(OPCODE_PREFIX);
            if (op != null) {
                ld64 = Integer.parseInt(op.group(1), 16) == LD_IMM64;
                c.ws();
            }
            Matcher label = c.matcher(LABEL_DEF);
            if (label != null) {
                String name = label.group(1);
                if (labels.putIfAbsent(name, slots.size()) != null) {
                    throw c.errAt(label.start() + 1, "label '" + name + "' is defined twice");
                }
            }
            if (c.atEnd()) {
                return;
            }
            int before = slots.size();
            statement(c, ld64);
            if (!c.atEnd()) {
                throw c.err("unexpected '" + c.rest() + "'");
            }
            while (slotLines.size() < slots.size()) {
                slotLines.add(lineNo);
            }
            assert slots.size() > before;
        }

        Program finish() {
            for (Fixup f : fixups) {
                Integer target = labels.get(f.label());
                if (target == null) {
                    throw new AsmSyntaxException(f.line(), f.col(), "unknown label '" + f.label() + "'");
                }
                int rel = target - (f.slot() + 1);
                Insn i = slots.get(f.slot());
                if (f.inImm()) {
                    slots.set(f.slot(), new Insn(i.code(), i.dst(), i.src(), i.off(), rel));
                } else {
                    if (rel < Short.MIN_VALUE || rel > Short.MAX_VALUE) {
                        throw new AsmSyntaxException(f.line(), f.col(), "label '" + f.label() + "' is " + rel
                                + " slots away, beyond a 16-bit jump offset (gotol reaches further)");
                    }
                    slots.set(f.slot(), new Insn(i.code(), i.dst(), i.src(), rel, i.imm()));
                }
            }
            Program p = new Program(slots);
            try {
                Encoding.check(p);
            } catch (MalformedProgramException e) {
                throw new AsmSyntaxException(slotLines.get(e.index()), 1, e.reason());
            }
            return p;
        }

        private void emit(int code, int dst, int src, int off, int imm) {
            slots.add(new Insn(code, dst, src, off, imm));
        }

        private void statement(Cursor c, boolean ld64) {
            int col = c.col();
            String word = c.peekWord();
            switch (word) {
                case "exit" -> {
                    c.word();
                    emit(JMP | EXIT, 0, 0, 0, 0);
                }
                case "goto" -> {
                    c.word();
                    emit(JMP | JA, 0, 0, target(c, false), 0);
                }
                case "gotol" -> {
                    c.word();
                    emit(JMP32 | JA, 0, 0, 0, target(c, true));
                }
                case "call" -> {
                    c.word();
                    call(c);
                }
                case "if" -> {
                    c.word();
                    condJump(c);
                }
                case "lock" -> {
                    c.word();
                    atomicAlu(c);
                }
                case "store_release" -> {
                    c.word();
                    c.expect("(");
                    Mem m = mem(c, false);
                    c.expect(",");
                    Reg v = reg(c, true);
                    c.expect(")");
                    emit(STX | ATOMIC | m.size(), m.reg(), v.n(), m.off(), 0x110);
                }
                default -> {
                    if (c.peek('*')) {
                        store(c);
                    } else if (c.peekMatches(REG)) {
                        assign(c, ld64);
                    } else {
                        throw c.errAt(col, "expected an instruction, found '" + c.rest() + "'");
                    }
                }
            }
        }

        /** {@code pc+N}, {@code pc-N} or a label; returns the offset (0 for a label, patched later). */
        private int target(Cursor c, boolean inImm) {
            c.ws();
            int col = c.col();
            Matcher pc = c.matcher(PC_REL);
            if (pc != null) {
                BigInteger v = new BigInteger(pc.group(1));
                return inImm ? (int) c.range(v, S32_MIN, S32_MAX, col, "jump offset")
                        : (int) c.range(v, BigInteger.valueOf(Short.MIN_VALUE), BigInteger.valueOf(Short.MAX_VALUE),
                        col, "jump offset");
            }
            String label = c.match(IDENT);
            if (label == null) {
                throw c.err("expected a jump target (pc+N, pc-N or a label)");
            }
            fixups.add(new Fixup(slots.size(), label, c.line, col, inImm));
            return 0;
        }

        private void call(Cursor c) {
            c.ws();
            int col = c.col();
            if (c.peekMatches(PC_REL)) {
                emit(JMP | CALL, 0, PSEUDO_CALL, 0, target(c, true));
                return;
            }
            Matcher m = c.matcher(HELPER);
            if (m == null) {
                throw c.err("expected a helper name#id, pc+N or a label after call");
            }
            String name = m.group(1);
            if (m.group(2) == null) {
                Integer id = HelperIds.id(name).orElse(null);
                if (id != null) {
                    emit(JMP | CALL, 0, 0, 0, id);
                } else if (IDENT.matcher(name).matches() && !name.startsWith("bpf_")) {
                    fixups.add(new Fixup(slots.size(), name, c.line, col, true));
                    emit(JMP | CALL, 0, PSEUDO_CALL, 0, 0);
                } else {
                    throw c.errAt(col, "unknown helper '" + name + "'");
                }
                return;
            }
            int id = (int) c.range(new BigInteger(m.group(2)), S32_MIN, S32_MAX, col, "call id");
            if (name.equals("kernel-function")) {
                emit(JMP | CALL, 0, PSEUDO_KFUNC_CALL, 0, id);
                return;
            }
            String known = HelperIds.name(id).orElse(null);
            if (!name.equals("unknown") && !name.equals(known)) {
                Integer byName = HelperIds.id(name).orElse(null);
                throw c.errAt(col, byName != null ? name + " is helper #" + byName + ", not #" + id
                        : "unknown helper '" + name + "'" + (known != null ? " (#" + id + " is " + known + ")" : ""));
            }
            emit(JMP | CALL, 0, 0, 0, id);
        }

        private void condJump(Cursor c) {
            Reg d = reg(c, null);
            c.ws();
            int opCol = c.col();
            String op = c.match(JMP_OP);
            if (op == null) {
                throw c.err("expected a comparison (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &)");
            }
            int code = (d.wide() ? JMP : JMP32) | jmpOp(op, c, opCol);
            c.ws();
            if (c.peekMatches(REG)) {
                Reg s = reg(c, d.wide());
                c.expectWord("goto");
                emit(code | X, d.n(), s.n(), target(c, false), 0);
            } else {
                int imm = c.imm32(S32_MIN, U32_MAX, "jump constant");
                c.expectWord("goto");
                emit(code | K, d.n(), 0, target(c, false), imm);
            }
        }

        private void atomicAlu(Cursor c) {
            c.expect("*");
            Mem m = mem(c, false);
            c.ws();
            int col = c.col();
            String op = c.match(ALU_OP);
            int imm = switch (op == null ? "" : op) {
                case "+=" -> ADD;
                case "|=" -> OR;
                case "&=" -> AND;
                case "^=" -> XOR;
                default -> throw c.errAt(col, "expected +=, |=, &= or ^= after lock *(...)");
            };
            Reg v = reg(c, true);
            emit(STX | ATOMIC | m.size(), m.reg(), v.n(), m.off(), imm);
        }

        private void store(Cursor c) {
            c.expect("*");
            Mem m = mem(c, false);
            c.expect("=");
            c.ws();
            if (c.peekMatches(REG)) {
                Reg v = reg(c, true);
                emit(STX | MEM | m.size(), m.reg(), v.n(), m.off(), 0);
            } else {
                int imm = c.imm32(S32_MIN, m.size() == DW ? S32_MAX : U32_MAX, "store constant");
                emit(ST | MEM | m.size(), m.reg(), 0, m.off(), imm);
            }
        }

        private void assign(Cursor c, boolean ld64) {
            Reg d = reg(c, null);
            c.ws();
            int opCol = c.col();
            String op = c.match(ALU_OP);
            if (op == null) {
                throw c.err("expected an assignment operator (=, +=, -=, ...)");
            }
            int cls = d.wide() ? ALU64 : ALU;
            if (!op.equals("=")) {
                int code = cls | aluOp(op, opCol, c);
                int off = op.startsWith("s/") || op.startsWith("s%") ? 1 : 0;
                c.ws();
                if (c.peekMatches(REG)) {
                    emit(code | X, d.n(), reg(c, d.wide()).n(), off, 0);
                } else {
                    emit(code | K, d.n(), 0, off, c.imm32(S32_MIN, d.wide() ? S32_MAX : U32_MAX, "immediate"));
                }
                return;
            }
            c.ws();
            Matcher m;
            if (c.peek('-') && c.peekAt(1, 'r', 'w')) {
                c.expect("-");
                Reg s = reg(c, d.wide());
                sameReg(c, d, s);
                emit(cls | NEG, d.n(), 0, 0, 0);
            } else if ((m = c.matcher(MOVSX)) != null) {
                int bits = Integer.parseInt(m.group(1).substring(1));
                if (!d.wide() && bits == 32) {
                    throw c.errAt(m.start() + 1, "(s32) sign extension needs 64-bit registers");
                }
                emit(cls | MOV | X, d.n(), reg(c, d.wide()).n(), bits, 0);
            } else if (c.peek('*')) {
                load(c, d);
            } else if ((m = c.matcher(ENDIAN)) != null) {
                if (!d.wide()) {
                    throw c.errAt(d.col(), "byte swaps are printed with r registers");
                }
                String width = m.group(2);
                if (!width.equals("16") && !width.equals("32") && !width.equals("64")) {
                    throw c.errAt(m.start(2) + 1, "byte swap width " + width + " is not 16, 32 or 64");
                }
                Reg s = reg(c, true);
                sameReg(c, d, s);
                int code = switch (m.group(1)) {
                    case "be" -> ALU | END | TO_BE;
                    case "le" -> ALU | END | TO_LE;
                    default -> ALU64 | END | TO_LE;
                };
                emit(code, d.n(), 0, 0, Integer.parseInt(m.group(2)));
            } else if ((m = c.matcher(ATOMIC_CALL)) != null) {
                atomicCall(c, d, m);
            } else if (c.word("load_acquire")) {
                c.expect("(");
                Mem mem = mem(c, false);
                c.expect(")");
                wide(c, d);
                emit(STX | ATOMIC | mem.size(), d.n(), mem.reg(), mem.off(), 0x100);
            } else if (c.word("map") || c.peekWord().equals("btf_id") || c.peekWord().equals("func")) {
                pseudoLoad(c, d);
            } else if (c.peekMatches(REG)) {
                emit(cls | MOV | X, d.n(), reg(c, d.wide()).n(), 0, 0);
            } else {
                constant(c, d, ld64);
            }
        }

        private void constant(Cursor c, Reg d, boolean ld64) {
            c.ws();
            int col = c.col();
            BigInteger v = c.number();
            boolean ll = c.word("ll");
            if (!d.wide()) {
                if (ll || ld64) {
                    throw c.errAt(d.col(), "a 64-bit immediate load needs an r register");
                }
                emit(ALU | MOV | K, d.n(), 0, 0, (int) c.range(v, S32_MIN, U32_MAX, col, "immediate"));
                return;
            }
            if (!ll && !ld64 && v.compareTo(S32_MIN) >= 0 && v.compareTo(S32_MAX) <= 0) {
                emit(ALU64 | MOV | K, d.n(), 0, 0, v.intValue());
                return;
            }
            long value = c.range(v, S64_MIN, U64_MAX, col, "64-bit constant");
            emit(LD_IMM64, d.n(), 0, 0, (int) value);
            emit(0, 0, 0, 0, (int) (value >>> 32));
        }

        /** After {@code rN = }: {@code map[...]}, {@code map[...][0]+OFF}, {@code btf_id[...]}, {@code func[pc+N]}. */
        private void pseudoLoad(Cursor c, Reg d) {
            wide(c, d);
            if (c.word("btf_id")) {
                c.expect("[");
                int id = c.imm32(S32_MIN, S32_MAX, "btf id");
                c.expect("]");
                int fd = 0;
                if (c.eat("[")) {
                    c.expect("btf_fd:");
                    fd = c.imm32(S32_MIN, S32_MAX, "btf fd");
                    c.expect("]");
                }
                emit(LD_IMM64, d.n(), PSEUDO_BTF_ID, 0, id);
                emit(0, 0, 0, 0, fd);
                return;
            }
            if (c.word("func")) {
                c.expect("[");
                int rel = target(c, true);
                c.expect("]");
                emit(LD_IMM64, d.n(), PSEUDO_FUNC, 0, rel);
                emit(0, 0, 0, 0, 0);
                return;
            }
            // "map" was consumed by the caller
            c.expect("[");
            c.ws();
            int col = c.col();
            int src;
            int ref;
            if (c.eat("fd:")) {
                src = PSEUDO_MAP_FD;
                ref = c.imm32(S32_MIN, S32_MAX, "map fd");
            } else if (c.eat("idx:")) {
                src = PSEUDO_MAP_IDX;
                ref = c.imm32(S32_MIN, S32_MAX, "map index");
            } else {
                String name = c.until(']');
                if (name.isEmpty()) {
                    throw c.errAt(col, "expected a map name, fd:N or idx:N");
                }
                Integer fd = mapFds.apply(name);
                if (fd == null) {
                    throw c.errAt(col, "unknown map '" + name + "'");
                }
                src = PSEUDO_MAP_FD;
                ref = fd;
            }
            c.expect("]");
            int hi = 0;
            if (c.eat("[")) {
                c.expect("0");
                c.expect("]");
                c.expect("+");
                c.ws();
                hi = c.imm32(BigInteger.ZERO, U32_MAX, "map value offset");
                src = src == PSEUDO_MAP_FD ? PSEUDO_MAP_VALUE : PSEUDO_MAP_IDX_VALUE;
            }
            emit(LD_IMM64, d.n(), src, 0, ref);
            emit(0, 0, 0, 0, hi);
        }

        /** After {@code rN = }: {@code *(SIZE *)(rS +OFF)}, {@code *(SIZE *)skb[K]} or {@code *(SIZE *)skb[rS + K]}. */
        private void load(Cursor c, Reg d) {
            c.expect("*");
            c.ws();
            int col = c.col();
            int[] size = cast(c, true);
            if (c.word("skb")) {
                if (d.n() != 0 || !d.wide() || size[1] != 0 || size[0] == DW) {
                    throw c.errAt(col, "packet loads are r0 = *(u8|u16|u32 *)skb[...]");
                }
                c.expect("[");
                c.ws();
                if (c.peekMatches(REG)) {
                    Reg s = reg(c, true);
                    c.expect("+");
                    c.ws();
                    int imm = c.imm32(S32_MIN, S32_MAX, "packet offset");
                    c.expect("]");
                    emit(LD | IND | size[0], 0, s.n(), 0, imm);
                } else {
                    int imm = c.imm32(S32_MIN, S32_MAX, "packet offset");
                    c.expect("]");
                    emit(LD | ABS | size[0], 0, 0, 0, imm);
                }
                return;
            }
            wide(c, d);
            int[] base = address(c);
            emit(LDX | (size[1] != 0 ? MEMSX : MEM) | size[0], d.n(), base[0], base[1], 0);
        }

        private void atomicCall(Cursor c, Reg d, Matcher m) {
            boolean is64 = m.group(1) != null;
            String what = m.group(2);
            Mem mem = mem(c, false);
            if ((mem.size() == DW) != is64) {
                throw c.errAt(m.start() + 1, "atomic" + (is64 ? "64" : "") + " does not match the operand size");
            }
            c.expect(",");
            int imm;
            if (what.equals("cmpxchg")) {
                Reg r0 = reg(c, true);
                if (r0.n() != 0 || d.n() != 0) {
                    throw c.errAt(r0.n() != 0 ? r0.col() : d.col(), "cmpxchg compares and returns in r0");
                }
                c.expect(",");
                imm = CMPXCHG;
            } else {
                imm = switch (what) {
                    case "fetch_add" -> ADD | FETCH;
                    case "fetch_and" -> AND | FETCH;
                    case "fetch_or" -> OR | FETCH;
                    case "fetch_xor" -> XOR | FETCH;
                    default -> XCHG;
                };
            }
            Reg s = reg(c, true);
            c.expect(")");
            if (imm != CMPXCHG) {
                sameReg(c, d, s);
            }
            wide(c, d);
            emit(STX | ATOMIC | mem.size(), mem.reg(), s.n(), mem.off(), imm);
        }

        /** {@code (SIZE *)(rN +OFF)}. */
        private Mem mem(Cursor c, boolean signedOk) {
            c.ws();
            int[] size = cast(c, signedOk);
            int[] a = address(c);
            return new Mem(size[0], size[1] != 0, a[0], a[1]);
        }

        /** {@code (SIZE *)}: returns {size field, 1 if signed}. */
        private int[] cast(Cursor c, boolean signedOk) {
            c.expect("(");
            c.ws();
            int col = c.col();
            String s = c.match(SIZE);
            if (s == null || (!signedOk && s.startsWith("s")) || s.equals("s64")) {
                throw c.errAt(col, "expected " + (signedOk ? "u8, u16, u32, u64, s8, s16 or s32" : "u8, u16, u32 or u64"));
            }
            c.expect("*");
            c.expect(")");
            int size = switch (s.substring(1)) {
                case "8" -> B;
                case "16" -> H;
                case "32" -> W;
                default -> DW;
            };
            return new int[] {size, s.startsWith("s") ? 1 : 0};
        }

        /** {@code (rN +OFF)}, {@code (rN -OFF)} or {@code (rN)}: returns {reg, off}. */
        private int[] address(Cursor c) {
            c.expect("(");
            Reg r = reg(c, true);
            c.ws();
            int off = 0;
            if (c.peek('+') || c.peek('-')) {
                int col = c.col();
                boolean neg = c.eat("-");
                if (!neg) {
                    c.expect("+");
                }
                c.ws();
                BigInteger v = c.number();
                off = (int) c.range(neg ? v.negate() : v, BigInteger.valueOf(Short.MIN_VALUE),
                        BigInteger.valueOf(Short.MAX_VALUE), col, "offset");
            }
            c.expect(")");
            return new int[] {r.n(), off};
        }

        /** A register; {@code wide} null accepts r or w, else it must be of that width. */
        private Reg reg(Cursor c, Boolean wide) {
            c.ws();
            int col = c.col();
            Matcher m = c.matcher(REG);
            if (m == null) {
                throw c.errAt(col, "expected a register" + (wide == null ? "" : wide ? " r0..r10" : " w0..w10"));
            }
            Reg r = new Reg(Integer.parseInt(m.group(2).length() > 3 ? "99" : m.group(2)), m.group(1).equals("r"), col);
            if (r.n() > Encoding.MAX_REG) {
                throw c.errAt(col, "register " + m.group() + " does not exist (r0..r10)");
            }
            if (wide != null && r.wide() != wide) {
                throw c.errAt(col, "expected a" + (wide ? " 64-bit r" : " 32-bit w") + " register, found " + r.text());
            }
            return r;
        }

        private void wide(Cursor c, Reg d) {
            if (!d.wide()) {
                throw c.errAt(d.col(), "this instruction writes a 64-bit r register, not " + d.text());
            }
        }

        private void sameReg(Cursor c, Reg d, Reg s) {
            if (d.n() != s.n()) {
                throw c.errAt(s.col(), "expected " + d.text() + " here (the instruction reads and writes one register), found "
                        + s.text());
            }
        }
    }

    private static int aluOp(String op, int col, Cursor c) {
        return switch (op) {
            case "+=" -> ADD;
            case "-=" -> SUB;
            case "*=" -> MUL;
            case "/=", "s/=" -> DIV;
            case "|=" -> OR;
            case "&=" -> AND;
            case "<<=" -> LSH;
            case ">>=" -> RSH;
            case "%=", "s%=" -> MOD;
            case "^=" -> XOR;
            case "s>>=" -> ARSH;
            default -> throw c.errAt(col, "unknown operator '" + op + "'");
        };
    }

    private static int jmpOp(String op, Cursor c, int col) {
        return switch (op) {
            case "==" -> JEQ;
            case "!=" -> JNE;
            case ">" -> JGT;
            case ">=" -> JGE;
            case "<" -> JLT;
            case "<=" -> JLE;
            case "s>" -> JSGT;
            case "s>=" -> JSGE;
            case "s<" -> JSLT;
            case "s<=" -> JSLE;
            case "&" -> JSET;
            default -> throw c.errAt(col, "unknown comparison '" + op + "'");
        };
    }

    /** Cuts a comment: a line starting with {@code #}, or {@code //} or {@code ;} to the end. */
    static String stripComment(String raw) {
        if (raw.stripLeading().startsWith("#")) {
            return "";
        }
        int cut = raw.length();
        int slash = raw.indexOf("//");
        if (slash >= 0) {
            cut = slash;
        }
        int semi = raw.indexOf(';');
        if (semi >= 0 && semi < cut) {
            cut = semi;
        }
        return raw.substring(0, cut);
    }

    /** A position in one line; columns count from 1 for messages. */
}
