package dev.cgbpf.engine.isa;

/** An instruction stream that is not valid eBPF encoding; names the instruction index. */
public class MalformedProgramException extends IllegalArgumentException {
    private final int index;
    private final String reason;

    public MalformedProgramException(int index, String reason) {
        super("insn " + index + ": " + reason);
        this.index = index;
        this.reason = reason;
    }

    public int index() {
        return index;
    }

    /** The message without the {@code insn N: } prefix. */
    public String reason() {
        return reason;
    }
}
