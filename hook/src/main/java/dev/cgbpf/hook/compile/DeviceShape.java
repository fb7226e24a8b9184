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
     * {@code cgbpf-tools bench devices} (docs/perf.md): the chain costs a few ns per exception a
     * check walks, one lookup of the maps shape about as much as 10 to 20 blocks, and a check of
     * the maps shape makes one to four; so below a few dozen exceptions the chain is as fast and
     * needs no map.
     */
    public static final int LINEAR_MAX_EXCEPTIONS = 32;

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
