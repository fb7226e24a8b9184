package dev.cgbpf.hook.cli;

import java.io.InputStream;
import java.io.PrintStream;

/** The streams a command talks to; the real ones in {@link Main}, captured ones in tests. */
public record Console(InputStream in, PrintStream out, PrintStream err) {

    public static Console system() {
        return new Console(System.in, System.out, System.err);
    }
}
