package dev.cgbpf.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a /proc or /sys file as a stream. Files.readString trusts the file size, which these
 * files report as 0 or 4096; for /proc/sys files JDK 17 then returns only the first byte.
 */
final class ProcFile {
    private ProcFile() {
    }

    static String read(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
