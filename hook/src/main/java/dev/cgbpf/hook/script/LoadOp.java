package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.AsmSyntaxException;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayList;
import java.util.List;

/**
 * The op {@code load}: BPF_PROG_LOAD of assembly lines or raw instruction bytes. A rejected
 * program is a result, not a malformed line: its errno and the verifier's reason line.
 */
final class LoadOp {
    private LoadOp() {
    }

    /** The scenario format quotes the reason line of the log at level 1. */
    private static final int LOG_LEVEL = 1;

    static ObjectNode run(OpLine line, Scenario s) throws MalformedLineException {
        String name = line.string("name");
        s.checkNewProgName(name);
        ProgType type = progType(line.string("type"));
        AttachType expected = line.optString("expected_attach").isPresent()
                ? CgroupOps.attachType(line.string("expected_attach")) : null;
        Program program = program(line, s);
        String license = line.optString("license").orElse("GPL");
        try {
            LoadedProg prog = s.backend().load(new LoadRequest(name, type, expected, program, license, LOG_LEVEL));
            s.addProg(name, prog);
            return Results.ok(line.op());
        } catch (BpfException e) {
            ObjectNode o = Results.errno(line.op(), e);
            String reason = e.logReason();
            if (reason != null && !reason.isEmpty()) {
                o.put("log", reason);
            }
            return o;
        }
    }

    private static Program program(OpLine line, Scenario s) throws MalformedLineException {
        boolean insns = line.has("insns");
        if (insns == line.has("hex")) {
            throw new MalformedLineException("load needs exactly one of 'insns' (assembly) and 'hex' (raw bytes)");
        }
        if (insns) {
            try {
                return new Assembler(s::mapFd).assemble(line.strings("insns"));
            } catch (AsmSyntaxException e) {
                throw new MalformedLineException("insns " + e.getMessage());
            } catch (IllegalArgumentException e) {
                // an encoding rule the assembly broke (e.g. a jump offset out of range)
                throw new MalformedLineException("insns: " + e.getMessage());
            }
        }
        return slots(line.bytes("hex"));
    }

    /**
     * Raw bytes are cut into slots without judging them: whether they are a valid program is the
     * backend's to say (the kernel answers EINVAL with its log), as when a real loader sends them.
     */
    private static Program slots(byte[] bytes) throws MalformedLineException {
        if (bytes.length % Insn.SIZE != 0) {
            throw new MalformedLineException("hex must be a multiple of 8 bytes (one instruction slot); got "
                    + bytes.length);
        }
        List<Insn> insns = new ArrayList<>(bytes.length / Insn.SIZE);
        for (int at = 0; at < bytes.length; at += Insn.SIZE) {
            insns.add(Insn.decode(bytes, at));
        }
        return new Program(insns);
    }

    private static ProgType progType(String name) throws MalformedLineException {
        try {
            return ProgType.fromScenarioName(name);
        } catch (IllegalArgumentException e) {
            throw new MalformedLineException(e.getMessage());
        }
    }

}
