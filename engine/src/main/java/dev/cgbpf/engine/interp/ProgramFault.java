package dev.cgbpf.engine.interp;

/**
 * A program run that stopped because the program did something the kernel's verifier would have
 * rejected (an out-of-bounds access, an unknown helper, an endless loop): names the instruction
 * index and the reason, e.g. {@code insn 7: invalid read of 4 bytes at ctx+30}.
 */
public final class ProgramFault extends RuntimeException {
    private final int insnIndex;
    private final String reason;

    public ProgramFault(int insnIndex, String reason) {
        super("insn " + insnIndex + ": " + reason, null, false, false);
        this.insnIndex = insnIndex;
        this.reason = reason;
    }

    public int insnIndex() {
        return insnIndex;
    }

    public String reason() {
        return reason;
    }
}
