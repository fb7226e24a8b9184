package dev.cgbpf.engine.maps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * num_possible_cpus(): how many values a per-CPU map holds. The engine mirrors the host so that a
 * per-CPU lookup has the size the kernel backend returns; read from
 * /sys/devices/system/cpu/possible (e.g. {@code 0-1}), else the JVM's processor count.
 */
final class PossibleCpus {
    private static final int COUNT = read();

    private PossibleCpus() {
    }

    static int count() {
        return COUNT;
    }

    private static int read() {
        try {
            return parse(Files.readString(Path.of("/sys/devices/system/cpu/possible")).strip());
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    /** A cpulist such as {@code 0-3,8-11}: the number of CPUs it names (8 here). */
    static int parse(String list) {
        int n = 0;
        for (String part : list.split(",")) {
            String[] range = part.split("-");
            int lo = Integer.parseInt(range[0].strip());
            int hi = Integer.parseInt(range[range.length - 1].strip());
            if (hi < lo) {
                throw new IllegalArgumentException("bad cpu range " + part);
            }
            n += hi - lo + 1;
        }
        return n;
    }
}
