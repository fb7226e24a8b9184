package dev.cgbpf.hook.policy;

import java.util.Locale;

/**
 * The host policy's {@code deviceProgram}: which shape the device programs are compiled to.
 * {@code auto} picks by the size of the merged list (config/README.md).
 */
public enum DeviceProgramChoice {
    AUTO,
    LINEAR,
    MAPS;

    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DeviceProgramChoice parse(String s, String where) throws PolicyException {
        for (DeviceProgramChoice c : values()) {
            if (c.word().equals(s)) {
                return c;
            }
        }
        throw new PolicyException(where + ": '" + s + "' is not auto, linear or maps");
    }
}
