package dev.cgbpf.engine.hooks;

/**
 * A program stopped in the middle of a hook because it did what the verifier would have refused
 * (the engine runs programs it could not fully verify). The probe that ran it fails with EFAULT
 * naming the program and the instruction.
 */
public final class HookFault extends RuntimeException {
    public HookFault(String progName, String reason) {
        super("program '" + progName + "' faulted: " + reason, null, false, false);
    }
}
