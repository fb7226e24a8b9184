package dev.cgbpf.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Open file descriptors of this JVM, from /proc/self/fd. */
final class FdCount {
    private FdCount() {
    }

    static int now() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            // the directory stream itself holds one fd while we count: subtract it
            return (int) s.count() - 1;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
