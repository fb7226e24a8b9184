package dev.cgbpf.kernel;

import static dev.cgbpf.engine.isa.Opcodes.*;
import static dev.cgbpf.engine.isa.Reg.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.AluOp;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.AtomicOp;
import dev.cgbpf.engine.isa.Disassembler;
import dev.cgbpf.engine.isa.Encoding;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.JumpOp;
import dev.cgbpf.engine.isa.MalformedProgramException;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.isa.Size;
import dev.cgbpf.engine.isa.ValidOpcodes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link Disassembler} against the running kernel: a corpus of socket_filter programs that
 * together use every opcode (and every variant carried in off/imm/src: sdiv/smod, movsx, bswap
 * widths, all atomics, helper and bpf-to-bpf calls, map loads) is loaded with log_level 2, and
 * every instruction line of the log must equal our text byte for byte.
 *
 * <p>How the log separates instruction and state (kernel/bpf/log.c print_insn_state): the
 * instruction is printed as {@code N: (xx) TEXT\n}; when the register state follows for the
 * same instruction, the kernel removes that newline and pads with spaces up to an 8-column stop
 * ({@code vlog_alignment}: at least column 40, at least 3 spaces), then prints {@code ;} and the
 * state ({@code " R0=0 ..."}). Instruction text never contains {@code ;}, so the text is what
 * precedes the first {@code ;} with the padding spaces removed. Since 6.15 the log at level 2 also
 * begins with a "Live regs before insn:" listing, {@code "%3d: " + 10 liveness chars + " " + line},
 * which covers every instruction, reached or not; both listings are compared.
 *
 * <p>Not comparable byte for byte: a 64-bit load of a map (src=1) or a map value (src=2), where
 * the kernel prints the kernel address it has put there ({@code (18) r1 = 0xffff...}, with
 * CAP_PERFMON; 0x0 without); we print {@code map[...]}. Those lines are checked to be such an
 * address. kfunc calls, BTF-id and function loads need BTF and are not in the corpus.
 */
class DisasmGoldenTest {
    private static final Pattern CHECKED_LINE = Pattern.compile("(\\d+): (\\([0-9a-f]{2}\\) [^;]*?) *(;.*)?");
    private static final Pattern LIVE_LINE = Pattern.compile(" *(\\d+): [.0-9]{10} (\\([0-9a-f]{2}\\) .*)");
    private static final Pattern KERNEL_ADDRESS = Pattern.compile("\\(18\\) r\\d+ = 0x[0-9a-f]+");
    /** Kernel log reasons that are encoding errors (verifier.c), as opposed to semantic rejections. */
    private static final Pattern ENCODING_REASON = Pattern.compile(
            ".*(uses reserved fields|unknown opcode|invalid BPF_LD_IMM insn|invalid bpf_ld_imm64 insn"
                    + "|unrecognized bpf_ld_imm64 insn|uses invalid atomic opcode|invalid atomic operand size"
                    + "|invalid BPF_ALU opcode|invalid BPF_JMP/JMP32 opcode|invalid BPF_LD mode|R1[1-5] is invalid).*");

    private final KernelBackend kernel = new KernelBackend();

    @BeforeAll
    static void kernelPresent() {
        KernelRequired.check();
    }

    @AfterEach
    void close() {
        kernel.close();
    }

    /** Programs the verifier accepts as socket filters; together they use every opcode. */
    static Map<String, Program> corpus(int mapFd) {
        Map<String, Program> c = new LinkedHashMap<>();

        Asm alu = new Asm().call("bpf_get_prandom_u32").mov(R1, R0).mov(R2, R0).movImm32(R3, -7);
        AluOp[] ops = {AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.OR, AluOp.AND, AluOp.LSH, AluOp.RSH, AluOp.MOD,
            AluOp.XOR, AluOp.ARSH, AluOp.MOV};
        for (AluOp op : ops) {
            int imm = op == AluOp.LSH || op == AluOp.RSH || op == AluOp.ARSH ? 3 : -7;
            alu.alu64(op, R1, imm).alu64(op, R1, R2).alu32(op, R1, imm).alu32(op, R1, R2);
        }
        alu.sdiv(R1, 3).sdiv(R1, R2).smod(R1, -3).smod(R1, R2).sdiv32(R1, 5).sdiv32(R1, R2).smod32(R1, 5).smod32(R1, R2)
                .neg(R1).neg32(R1)
                .movsx(R1, R2, 8).movsx(R1, R2, 16).movsx(R1, R2, 32).movsx32(R1, R2, 8).movsx32(R1, R2, 16);
        for (int bits : new int[] {16, 32, 64}) {
            alu.be(R1, bits).le(R1, bits).bswap(R1, bits);
        }
        c.put("alu", alu.movImm(R0, 0).exit().build());

        Asm jmp = new Asm().call(7).mov(R1, R0).mov(R2, R0);
        for (JumpOp op : JumpOp.values()) {
            if (!op.conditional()) {
                continue;
            }
            // offset 0: both ways lead to the next instruction, so the verifier walks every line
            jmp.jmp(op, R1, 5, 0).jmp(op, R1, R2, 0).jmp(op, R1, -1, 0);
            jmp.jmp32(op, R1, 0x7fff0000, 0).jmp32(op, R1, R2, 0);
        }
        c.put("jmp", jmp.ja(0).gotol(0).ja("next").label("next").movImm(R0, 0).exit().build());

        c.put("calls", new Asm().callLabel("sub").movImm(R0, 0).exit()
                .label("sub").call("bpf_ktime_get_ns").movImm(R0, 1).exit().build());

        Asm mem = new Asm().movImm(R1, 0x1234).movImm(R0, 0);
        for (Size size : new Size[] {Size.B, Size.H, Size.W, Size.DW}) {
            mem.st(size, R10, -8, -100).stx(size, R10, -16, R1).ldx(size, R2, R10, -8);
        }
        mem.ldxs(Size.B, R2, R10, -8).ldxs(Size.H, R2, R10, -8).ldxs(Size.W, R2, R10, -8);
        for (Size size : new Size[] {Size.W, Size.DW}) {
            int off = size == Size.W ? -24 : -32;
            mem.stx(size, R10, off, R1);
            for (AtomicOp op : new AtomicOp[] {AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR}) {
                mem.atomic(size, op, R10, off, R1).atomicFetch(size, op, R10, off, R1);
            }
            mem.xchg(size, R10, off, R1).cmpxchg(size, R10, off, R1);
        }
        c.put("mem", mem.movImm(R0, 0).exit().build());

        c.put("skb", new Asm().mov(R6, R1).movImm(R7, 2)
                .ldAbs(Size.B, 0).ldAbs(Size.H, 2).ldAbs(Size.W, 4)
                .ldInd(Size.B, R7, 1).ldInd(Size.H, R7, -2).ldInd(Size.W, R7, 0)
                .movImm(R0, 0).exit().build());

        c.put("ld64", new Asm().ldImm64(R1, 0x123456789abcdef0L).ldImm64(R2, -1L).ldImm64(R3, 5)
                .movImm(R0, 0).exit().build());

        c.put("map", new Asm().ldMapFd(R1, mapFd).mov(R2, R10).add(R2, -4).stW(R10, -4, 0)
                .call("bpf_map_lookup_elem").ldMapValue(R1, mapFd, 4).ldxW(R0, R1, 0).movImm(R0, 0).exit().build());
        return c;
    }

    @Test
    void kernelLogPrintsEveryInstructionAsTheDisassemblerDoes() throws BpfException {
        BpfMap map = kernel.createMap(new MapSpec("golden", MapType.ARRAY, 4, 8, 1, 0));
        Disassembler d = new Disassembler();
        int compared = 0;
        int addresses = 0;
        Set<Integer> opcodes = new TreeSet<>();
        List<String> mismatches = new ArrayList<>();
        for (Map.Entry<String, Program> e : corpus(map.fd()).entrySet()) {
            Program p = e.getValue();
            p.insns().forEach(i -> opcodes.add(i.code()));
            String log = kernel.load(new LoadRequest(e.getKey(), ProgType.SOCKET_FILTER, null, p, "GPL", 2)).verifierLog();
            Set<Integer> seenChecked = new TreeSet<>();
            Set<Integer> seenLive = new TreeSet<>();
            for (String line : log.split("\n")) {
                Matcher m = CHECKED_LINE.matcher(line);
                Set<Integer> seen = seenChecked;
                if (!m.matches()) {
                    m = LIVE_LINE.matcher(line);
                    seen = seenLive;
                    if (!m.matches()) {
                        continue;
                    }
                }
                int index = Integer.parseInt(m.group(1));
                String kernelText = m.group(2);
                Insn insn = p.get(index);
                seen.add(index);
                if (insn.isLdImm64() && (insn.src() == PSEUDO_MAP_FD || insn.src() == PSEUDO_MAP_VALUE)) {
                    assertTrue(KERNEL_ADDRESS.matcher(kernelText).matches(), e.getKey() + ": " + line);
                    addresses++;
                    continue;
                }
                String ours = d.line(p, index);
                if (!ours.equals(kernelText)) {
                    mismatches.add(e.getKey() + " insn " + index + ": kernel \"" + kernelText + "\" ours \"" + ours + "\"");
                }
                compared++;
            }
            Set<Integer> all = new TreeSet<>();
            for (int i = 0; i < p.size(); i += p.get(i).isLdImm64() ? 2 : 1) {
                all.add(i);
            }
            assertEquals(all, seenChecked, e.getKey() + ": instructions the verifier walked\n" + log);
            assertEquals(all, seenLive, e.getKey() + ": instructions in the live-regs listing\n" + log);
        }
        System.out.printf("DisasmGoldenTest: %d log lines equal, %d map-address lines, %d opcodes%n",
                compared, addresses, opcodes.size());
        assertEquals(List.of(), mismatches);
        Set<Integer> missing = new TreeSet<>(ValidOpcodes.all());
        missing.removeAll(opcodes);
        assertEquals(Set.of(), missing, "opcodes the corpus does not use");
        assertTrue(compared > 300, compared + " lines compared");
        assertEquals(4, addresses, "map lines: 2 per listing");
    }

    /**
     * Encoding agrees with the kernel on a grid of single instructions between {@code r0 = 0} and
     * {@code exit}: what Encoding rejects the kernel rejects with EINVAL, and what Encoding accepts the
     * kernel does not reject for an encoding reason (it may reject it for a semantic one: a bad
     * pointer, an uninitialized register, a jump out of range).
     */
    @Test
    void encodingAgreesWithTheKernel() {
        int rejected = 0;
        int accepted = 0;
        List<String> disagreements = new ArrayList<>();
        for (int code = 0; code < 256; code++) {
            if (code == (JMP | 0xe0)) {
                continue; // may_goto: a kernel extension Encoding rejects on purpose (not RFC 9669)
            }
            for (int[] f : new int[][] {{0, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 8, 0}, {0, 0, 0, 1},
                {0, 0, 0, 16}, {0, 0, 0, 0xe1}, {11, 0, 0, 0}, {1, 0, 0, 3}, {0, 3, 0, 0}}) {
                Insn probe = new Insn(code, f[0], f[1], f[2], f[3]);
                List<Insn> slots = new ArrayList<>(List.of(new Insn(ALU64 | MOV | K, 0, 0, 0, 0), probe));
                if (probe.isLdImm64()) {
                    slots.add(new Insn(0, 0, 0, 0, 0));
                }
                slots.add(new Insn(JMP | EXIT, 0, 0, 0, 0));
                Program p = new Program(slots);
                String ours;
                try {
                    Encoding.check(p);
                    ours = null;
                } catch (MalformedProgramException e) {
                    ours = e.getMessage();
                }
                String errno = "ok";
                String reason = "";
                try {
                    kernel.load(new LoadRequest("probe", ProgType.SOCKET_FILTER, null, p, "GPL", 1)).close();
                } catch (BpfException e) {
                    errno = e.errno();
                    reason = e.logReason();
                }
                String probeText = String.format("(%02x) dst=%d src=%d off=%d imm=%d", code, f[0], f[1], f[2], f[3]);
                if (ours != null) {
                    rejected++;
                    if (!errno.equals("EINVAL")) {
                        disagreements.add(probeText + ": Encoding says \"" + ours + "\", kernel " + errno + " " + reason);
                    }
                } else {
                    accepted++;
                    if (reason != null && ENCODING_REASON.matcher(reason).matches()) {
                        disagreements.add(probeText + ": Encoding accepts, kernel " + errno + " \"" + reason + "\"");
                    }
                }
            }
        }
        System.out.printf("DisasmGoldenTest: %d probes rejected by Encoding and the kernel, %d accepted%n",
                rejected, accepted);
        assertEquals(List.of(), disagreements);
        assertTrue(rejected > 1000 && accepted > 500, "rejected " + rejected + ", accepted " + accepted);
    }

    @Test
    void corpusPassesEncoding() {
        corpus(3).values().forEach(p -> {
            try {
                Encoding.check(p);
            } catch (MalformedProgramException e) {
                fail(e.getMessage());
            }
        });
    }
}
