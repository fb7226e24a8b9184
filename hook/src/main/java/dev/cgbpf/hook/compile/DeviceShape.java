package dev.cgbpf.hook.compile;

import dev.cgbpf.hook.policy.DeviceAllowlist;
import dev.cgbpf.hook.policy.DeviceProgramChoice;

/**
 * The two ways to compile a device allowlist: one block of instructions per exception
 * ({@link DeviceCompiler}) or a fixed handful of hash lookups in a map of the exceptions
 * ({@link DeviceMapCompiler}). The linear chain is cheaper while it is short (no helper calls, a
 * few instructions per exception); the lookups cost the same at any size.
 */
public enum DeviceShape {
    LINEAR,
    MAPS;

    /**
     * Up to this many exceptions {@code auto} keeps the linear chain. Measured with
     * {@code cgbpf-tools bench devices} (docs/perf.md, the program's own run time from the
     * kernel's bpf statistics): the chain costs about 60 ns plus 0.7 ns per exception it walks, the
     * maps shape 100 ns (the first lookup decides) to 160 ns (four lookups) at any size; the two
     * meet between 80 and 130 exceptions walked. Below that the chain is as fast or faster, needs
     * no map, and its program is still small (8 KB translated, 3 KB JIT code at 100).
     */
    public static final int LINEAR_MAX_EXCEPTIONS = 100;

    /** The shape {@code choice} gives {@code list}; an empty list is always linear (nothing to look up). */
    public static DeviceShape of(DeviceProgramChoice choice, DeviceAllowlist list) {
        if (list.exceptions().isEmpty()) {
            return LINEAR;
        }
        return switch (choice) {
            case LINEAR -> LINEAR;
            case MAPS -> MAPS;
            case AUTO -> list.exceptions().size() <= LINEAR_MAX_EXCEPTIONS ? LINEAR : MAPS;
        };
    }
}
