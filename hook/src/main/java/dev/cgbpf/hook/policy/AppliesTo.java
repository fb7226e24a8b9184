package dev.cgbpf.hook.policy;

/** Which containers the host policy applies to. */
public enum AppliesTo {
    /** Only containers with at least one {@code dev.cgbpf.*} annotation (the default). */
    ANNOTATED,
    /** Every container the hook sees. */
    ALL
}
