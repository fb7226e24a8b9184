package dev.cgbpf.engine.jit;

import java.util.Locale;

/**
 * Whether the engine compiles programs to JVM bytecode (the engine's counterpart of the kernel's
 * net.core.bpf_jit_enable): {@link #OFF} interprets every run, {@link #ON} compiles at load,
 * {@link #AUTO} interprets a program's first {@link TieredProgram#AUTO_THRESHOLD} runs and then
 * compiles it. A program the compiler does not cover runs on the interpreter in every mode.
 */
public enum JitMode {
    OFF, ON, AUTO;

    /** The system property that sets the default for engine hosts made without a mode. */
    public static final String PROPERTY = "cgbpf.engine.jit";

    private static volatile JitMode defaultMode = fromProperty();

    /** The mode of a command-line value: off, on or auto. */
    public static JitMode parse(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "off" -> OFF;
            case "on" -> ON;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException("engine JIT mode must be off, on or auto, not '" + value + "'");
        };
    }

    /** The mode new engine hosts start with: {@link #setDefault}, else {@value #PROPERTY}, else AUTO. */
    public static JitMode defaultMode() {
        return defaultMode;
    }

    /** What a command line's {@code --engine-jit} sets for the engine hosts the command makes. */
    public static void setDefault(JitMode mode) {
        defaultMode = java.util.Objects.requireNonNull(mode);
    }

    private static JitMode fromProperty() {
        String v = System.getProperty(PROPERTY);
        if (v == null) {
            return AUTO;
        }
        try {
            return parse(v.strip());
        } catch (IllegalArgumentException e) {
            return AUTO;
        }
    }

    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }
}
