package dev.cgbpf.hook.oci;

/**
 * The hook cannot do what the stage asks. The message is the one line the runtime shows its
 * user; no stack trace.
 *
 * <p>Most failures are about input: the runtime's state, the container's spec, the host policy,
 * or what the kernel made of the programs. A few are about the machine alone, before anything of
 * the container's reaches the kernel: bpf(2) not usable, no cgroup v2 hierarchy, no bpf file
 * system. Only those ({@link #machineFailure()}) may start the container unprotected, and only
 * under {@code "failurePolicy": "open"}: nothing a container's spec says can get there.
 */
public final class HookException extends Exception {
    private final boolean machine;

    public HookException(String message) {
        this(message, false);
    }

    private HookException(String message, boolean machine) {
        super(message, null, false, false);
        this.machine = machine;
    }

    /** A failure of the machine, which {@code failurePolicy: open} may let pass. */
    public static HookException machine(String message) {
        return new HookException(message, true);
    }

    public boolean machineFailure() {
        return machine;
    }
}
