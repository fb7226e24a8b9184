package dev.cgbpf.engine.isa;

/**
 * Encoding rules of RFC 9669: which opcodes exist, which fields must be zero, and that
 * 64-bit immediate loads come as intact pairs.
 */
public final class Encoding {
    private Encoding() {
    }

    /** Throws {@link MalformedProgramException} at the first slot that breaks an encoding rule. */
    public static void check(Program p) {
        // TODO(isa): full RFC 9669 opcode/reserved-field validation
        for (int i = 0; i < p.size(); i++) {
            Insn insn = p.get(i);
            if (insn.isLdImm64()) {
                if (i + 1 >= p.size()) {
                    throw new MalformedProgramException(i, "ld_imm64 is missing its second slot");
                }
                i++;
            }
        }
    }
}
