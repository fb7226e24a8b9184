package dev.cgbpf.engine.isa;

import java.util.HexFormat;
import java.util.List;

/**
 * An immutable eBPF program: the instruction slots in order, as loaded into the kernel.
 */
public record Program(List<Insn> insns) {

    public Program {
        insns = List.copyOf(insns);
    }

    public static Program of(Insn... insns) {
        return new Program(List.of(insns));
    }

    public int size() {
        return insns.size();
    }

    public Insn get(int index) {
        return insns.get(index);
    }

    /** The kernel's wire form: 8 bytes a slot, little-endian fields. */
    public byte[] encode() {
        byte[] out = new byte[insns.size() * Insn.SIZE];
        for (int i = 0; i < insns.size(); i++) {
            insns.get(i).encode(out, i * Insn.SIZE);
        }
        return out;
    }

    public String toHex() {
        return HexFormat.of().formatHex(encode());
    }

    /**
     * Decodes raw instruction bytes, rejecting what cannot be an eBPF instruction at all.
     *
     * @throws MalformedProgramException naming the first bad instruction index
     */
    public static Program decode(byte[] bytes) {
        if (bytes.length % Insn.SIZE != 0) {
            throw new MalformedProgramException(bytes.length / Insn.SIZE,
                    "program length " + bytes.length + " is not a multiple of 8 bytes");
        }
        Insn[] insns = new Insn[bytes.length / Insn.SIZE];
        for (int i = 0; i < insns.length; i++) {
            insns[i] = Insn.decode(bytes, i * Insn.SIZE);
        }
        Program p = Program.of(insns);
        Encoding.check(p);
        return p;
    }
}
