package dev.cgbpf.hook.policy;

/**
 * A policy that cannot be built: a bad rule, a bad address, a host policy file that does not
 * parse, too many rules. The message is one line naming where the bad input came from.
 */
public final class PolicyException extends Exception {
    public PolicyException(String message) {
        super(message, null, false, false);
    }
}
