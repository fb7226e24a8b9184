package dev.cgbpf.hook.cli;

/**
 * A user mistake or an unmet precondition: printed as one line {@code cgbpf: <reason>} on stderr,
 * never as a stack trace, and the process exits with {@link #exitStatus()}.
 */
public class CliException extends Exception {
    /** Wrong arguments, unreadable input, nothing could run. */
    public static final int USAGE = 2;
    /** The input was read but is wrong (e.g. an assembly error). */
    public static final int BAD_INPUT = 1;

    private final int exitStatus;

    public CliException(String reason, int exitStatus) {
        super(reason);
        this.exitStatus = exitStatus;
    }

    public static CliException usage(String reason) {
        return new CliException(reason, USAGE);
    }

    public static CliException badInput(String reason) {
        return new CliException(reason, BAD_INPUT);
    }

    public int exitStatus() {
        return exitStatus;
    }
}
