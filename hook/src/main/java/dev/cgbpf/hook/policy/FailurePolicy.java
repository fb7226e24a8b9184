package dev.cgbpf.hook.policy;

/** What the hook does when it cannot put the policy in place. */
public enum FailurePolicy {
    /** Exit non-zero so that the runtime refuses to start the container (the default). */
    CLOSED,
    /** Log the failure and let the container start without the policy. */
    OPEN
}
