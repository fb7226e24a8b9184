package dev.cgbpf.hook.policy;

import dev.cgbpf.engine.hooks.BpfCgroupDevCtx;

/** The type of a device cgroup rule: {@code a} (all), {@code b} (block), {@code c} (char). */
public enum DeviceType {
    ALL('a', 0),
    BLOCK('b', BpfCgroupDevCtx.DEV_BLOCK),
    CHAR('c', BpfCgroupDevCtx.DEV_CHAR);

    private final char letter;
    private final int devcg;

    DeviceType(char letter, int devcg) {
        this.letter = letter;
        this.devcg = devcg;
    }

    public char letter() {
        return letter;
    }

    /** BPF_DEVCG_DEV_BLOCK / _CHAR; 0 for {@link #ALL}, which has no single kernel value. */
    public int devcg() {
        return devcg;
    }

    public static DeviceType of(String s) {
        return switch (s) {
            case "a" -> ALL;
            case "b" -> BLOCK;
            case "c" -> CHAR;
            default -> null;
        };
    }
}
