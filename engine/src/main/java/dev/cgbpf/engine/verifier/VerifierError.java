package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.backend.Errno;

/** A rejection inside the verifier: the errno and the log line the kernel prints for it. */
final class VerifierError extends Exception {
    /** The errno name as {@link dev.cgbpf.engine.backend.BpfException#errno()} reports it. */
    final String errno;
    /** Whether the kernel ends the line: where it does not, the statistics line runs on after it. */
    final boolean terminated;

    VerifierError(Errno errno, String line) {
        this(errno.name(), line, true);
    }

    /** For errnos the {@link Errno} table does not name: {@code errno N}, as the kernel backend reports them. */
    VerifierError(String errnoName, String line) {
        this(errnoName, line, true);
    }

    private VerifierError(String errnoName, String line, boolean terminated) {
        super(line, null, false, false);
        this.errno = errnoName;
        this.terminated = terminated;
    }

    /**
     * A message the kernel prints without its newline (6.18: "expected prog array map for tail
     * call"), so that the log's last line reads "...tail callprocessed N insns ...".
     */
    static VerifierError unterminated(Errno errno, String line) {
        return new VerifierError(errno.name(), line, false);
    }

    static VerifierError eacces(String line) {
        return new VerifierError(Errno.EACCES, line);
    }

    static VerifierError einval(String line) {
        return new VerifierError(Errno.EINVAL, line);
    }
}
