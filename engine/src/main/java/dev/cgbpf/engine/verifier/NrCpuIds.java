package dev.cgbpf.engine.verifier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * nr_cpu_ids of the host: the kernel bounds bpf_get_smp_processor_id's result by it
 * ([0, nr_cpu_ids - 1]), so a program may return it directly where the range allows. Read from
 * /sys/devices/system/cpu/possible ("0-N"); the JVM's processor count where that file is missing.
 */
final class NrCpuIds {
    private static final int VALUE = read();

    private NrCpuIds() {
    }

    static int get() {
        return VALUE;
    }

    private static int read() {
        try {
            String s = Files.readString(Path.of("/sys/devices/system/cpu/possible")).strip();
            int last = 0;
            for (String part : s.split(",")) {
                String[] r = part.split("-");
                last = Math.max(last, Integer.parseInt(r[r.length - 1].strip()));
            }
            return last + 1;
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }
}
