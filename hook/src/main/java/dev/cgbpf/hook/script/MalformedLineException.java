package dev.cgbpf.hook.script;

/** A scenario line that cannot run as written; becomes {@code {"line":N,"error":reason}}. */
public class MalformedLineException extends Exception {

    public MalformedLineException(String reason) {
        super(reason);
    }
}
