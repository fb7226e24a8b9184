package dev.cgbpf.engine.backend;

/**
 * A program loaded into a backend (or opened again from a pin); closing it drops this fd's
 * reference (the kernel: closes the fd).
 */
public interface LoadedProg extends BpfObject {
    /**
     * The name it was loaded under. A program opened from a pin that another process loaded has
     * on the kernel only the kernel's copy of its name ({@link ProgInfo#name()}).
     */
    String name();

    ProgType type();

    /** The verifier log of the successful load at the requested log level ("" at level 0, and for a program from a pin). */
    String verifierLog();

    @Override
    void close();
}
