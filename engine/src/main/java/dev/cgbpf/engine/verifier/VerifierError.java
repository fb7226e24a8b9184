package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.backend.Errno;

/** A rejection inside the verifier: the errno and the log line the kernel prints for it. */
final class VerifierError extends Exception {
    /** The errno name as {@link dev.cgbpf.engine.backend.BpfException#errno()} reports it. */
    final String errno;

    VerifierError(Errno errno, String line) {
        this(errno.name(), line);
    }

    /** For errnos the {@link Errno} table does not name: {@code errno N}, as the kernel backend reports them. */
    VerifierError(String errnoName, String line) {
        super(line, null, false, false);
        this.errno = errnoName;
    }

    static VerifierError eacces(String line) {
        return new VerifierError(Errno.EACCES, line);
    }

    static VerifierError einval(String line) {
        return new VerifierError(Errno.EINVAL, line);
    }
}
