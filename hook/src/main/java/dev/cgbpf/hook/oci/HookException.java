package dev.cgbpf.hook.oci;

/**
 * The hook cannot do what the stage asks: bad input from the runtime or the policy, or a
 * kernel refusal. The message is the one line the runtime shows its user; no stack trace.
 */
public final class HookException extends Exception {
    public HookException(String message) {
        super(message, null, false, false);
    }
}
