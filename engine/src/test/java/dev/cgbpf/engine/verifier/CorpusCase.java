package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One program of the verifier differential corpus (test resources {@code verifier-corpus/*.txt}).
 *
 * <p>File format: a case starts with {@code == name}; then optional header lines
 * {@code type: PROG_TYPE} (scenario names, default socket_filter) and {@code attach: ATTACH_TYPE};
 * then the program in the assembler's syntax. A line {@code raw CODE DST SRC OFF IMM} is one slot
 * written field by field, for encodings the assembler refuses to produce (reserved fields, unknown
 * opcodes): it is what the corpus needs to test the verifier's structural checks. Programs refer
 * to the corpus maps {@link #MAPS} by name, e.g. {@code r1 = map[hash]}. Lines starting with
 * {@code #} are comments. No expected verdict is written down: the running kernel is the oracle.
 */
public record CorpusCase(String file, String name, ProgType type, AttachType attach, List<String> lines) {

    /** The maps every corpus program can refer to; test harnesses create them in each backend. */
    public static final Map<String, MapSpec> MAPS = Map.of(
            "hash", new MapSpec("hash", MapType.HASH, 4, 8, 16, 0),
            "array", new MapSpec("array", MapType.ARRAY, 4, 48, 4, 0),
            "hash16", new MapSpec("hash16", MapType.HASH, 16, 4, 16, 0),
            "array1", new MapSpec("array1", MapType.ARRAY, 4, 16, 1, 0),
            "ringbuf", new MapSpec("ringbuf", MapType.RINGBUF, 0, 0, 4096, 0));

    /** The corpus files, in order. */
    public static final List<String> FILES = List.of("structure.txt", "registers.txt", "alu.txt", "stack.txt",
            "maps.txt", "ctx.txt", "packet.txt", "helpers.txt", "return.txt", "loops.txt",
            "calls.txt", "helper-protos.txt", "dynptr.txt");

    /** Marker immediates for raw slots: a mov the assembler accepts, replaced after assembly. */
    private static final int RAW_MARK = 0x7ead0000;

    /** Assembles the program; map names resolve through {@code mapFds}. */
    public Program program(Function<String, Integer> mapFds) {
        List<String> asm = new ArrayList<>();
        List<Insn> raws = new ArrayList<>();
        for (String line : lines) {
            String t = line.strip();
            if (t.startsWith("raw ")) {
                String[] f = t.substring(4).strip().split("\\s+");
                raws.add(new Insn(Integer.decode(f[0]), Integer.decode(f[1]), Integer.decode(f[2]),
                        Integer.decode(f[3]), (int) (long) Long.decode(f[4])));
                asm.add("w0 = " + (RAW_MARK + raws.size() - 1));
            } else {
                asm.add(line);
            }
        }
        Program p = new Assembler(mapFds).assemble(asm);
        if (raws.isEmpty()) {
            return p;
        }
        List<Insn> slots = new ArrayList<>(p.insns());
        for (int i = 0; i < slots.size(); i++) {
            Insn s = slots.get(i);
            if (s.code() == 0xb4 && s.dst() == 0 && (s.imm() & 0xffff0000) == RAW_MARK) {
                slots.set(i, raws.get(s.imm() - RAW_MARK));
            }
        }
        return new Program(slots);
    }

    @Override
    public String toString() {
        return file + ":" + name;
    }

    /** Every hand-written case of every corpus file. */
    public static List<CorpusCase> handWritten() {
        List<CorpusCase> out = new ArrayList<>();
        for (String f : FILES) {
            out.addAll(load(f));
        }
        return out;
    }

    public static List<CorpusCase> load(String file) {
        try (InputStream in = CorpusCase.class.getResourceAsStream("/verifier-corpus/" + file)) {
            if (in == null) {
                throw new IllegalStateException("missing corpus file " + file);
            }
            return parse(file, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<CorpusCase> parse(String file, String text) {
        List<CorpusCase> out = new ArrayList<>();
        String name = null;
        ProgType type = ProgType.SOCKET_FILTER;
        AttachType attach = null;
        List<String> body = new ArrayList<>();
        for (String line : (text + "\n== \n").split("\n")) {
            String t = line.strip();
            if (t.startsWith("== ") || t.equals("==")) {
                if (name != null) {
                    out.add(new CorpusCase(file, name, type, attach, List.copyOf(body)));
                }
                name = t.substring(2).strip();
                type = ProgType.SOCKET_FILTER;
                attach = null;
                body.clear();
            } else if (t.startsWith("#") || t.isEmpty()) {
                continue;
            } else if (t.startsWith("type:") && body.isEmpty()) {
                type = ProgType.fromScenarioName(t.substring(5).strip());
            } else if (t.startsWith("attach:") && body.isEmpty()) {
                attach = AttachType.fromScenarioName(t.substring(7).strip());
            } else if (name != null) {
                body.add(line);
            }
        }
        return out;
    }
}
