package dev.cgbpf.hook.spec;

/**
 * Bad input in an OCI document: the message is one line that names the document and the field,
 * e.g. {@code state: field 'pid': -3 is not a process id}. No stack trace: it is the user's
 * input, not a program error.
 */
public final class SpecException extends Exception {
    public SpecException(String message) {
        super(message, null, false, false);
    }
}
