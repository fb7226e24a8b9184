package dev.cgbpf.engine.isa;

import java.util.Set;
import java.util.TreeSet;

/**
 * The opcodes {@link Encoding} accepts, found by probing each byte with a small grid of field
 * values (so the set follows Encoding, not a second hand-written list).
 */
public final class ValidOpcodes {
    private static final int[] SRCS = {0, 1, 2};
    private static final int[] OFFS = {0, 1, 8};
    private static final int[] IMMS = {0, 1, 16, 0xe1};

    private ValidOpcodes() {
    }

    public static Set<Integer> all() {
        Set<Integer> out = new TreeSet<>();
        for (int code = 0; code < 256; code++) {
            if (valid(code)) {
                out.add(code);
            }
        }
        return out;
    }

    public static boolean valid(int code) {
        for (int src : SRCS) {
            for (int off : OFFS) {
                for (int imm : IMMS) {
                    Program p = code == Opcodes.LD_IMM64
                            ? Program.of(new Insn(code, 0, src, off, imm), new Insn(0, 0, 0, 0, 0))
                            : Program.of(new Insn(code, 0, src, off, imm));
                    try {
                        Encoding.check(p);
                        return true;
                    } catch (MalformedProgramException e) {
                        // try the next combination
                    }
                }
            }
        }
        return false;
    }
}
