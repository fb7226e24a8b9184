package dev.cgbpf.engine.isa;

/** An instruction stream that is not valid eBPF encoding; names the instruction index. */
public class MalformedProgramException extends IllegalArgumentException {
    private final int index;

    public MalformedProgramException(int index, String reason) {
        super("insn " + index + ": " + reason);
        this.index = index;
    }

    public int index() {
        return index;
    }
}
