package dev.cgbpf.hook.policy;

/** What the bind programs do with a bind to an address that is not the container's. */
public enum BindMode {
    /** Rewrite the bind to the container's address (the default). */
    REWRITE,
    /** Refuse it with EPERM and count the denial. */
    DENY;

    public static BindMode parse(String s, String where) throws PolicyException {
        return switch (s.strip()) {
            case "rewrite" -> REWRITE;
            case "deny" -> DENY;
            default -> throw new PolicyException(where + ": " + dev.cgbpf.hook.spec.Printable.quote(s) + " is not rewrite or deny");
        };
    }
}
