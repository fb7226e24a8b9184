package dev.cgbpf.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The number of possible CPUs, as the kernel sizes per-CPU map values: lookups of a per-CPU map
 * return round_up(value_size, 8) bytes for every possible CPU (not just the online ones).
 */
final class PossibleCpus {
    private static volatile int count;

    private PossibleCpus() {
    }

    static int count() {
        int n = count;
        if (n == 0) {
            try {
                n = parse(ProcFile.read(Path.of("/sys/devices/system/cpu/possible")));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read /sys/devices/system/cpu/possible", e);
            }
            count = n;
        }
        return n;
    }

    /** Parses the kernel's cpu list format, e.g. {@code 0-3} or {@code 0,2-5}: the highest id + 1. */
    static int parse(String list) {
        int max = -1;
        for (String part : list.strip().split(",")) {
            String[] range = part.split("-");
            max = Math.max(max, Integer.parseInt(range[range.length - 1].strip()));
        }
        return max + 1;
    }
}
