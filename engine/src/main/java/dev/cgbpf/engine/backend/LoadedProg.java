package dev.cgbpf.engine.backend;

/** A program loaded into a backend; closing it drops this reference (the kernel: closes the fd). */
public interface LoadedProg extends AutoCloseable {
    String name();

    ProgType type();

    /** The verifier log of the successful load at the requested log level ("" at level 0). */
    String verifierLog();

    @Override
    void close();
}
