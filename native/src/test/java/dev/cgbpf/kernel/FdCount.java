package dev.cgbpf.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Open file descriptors of this JVM of the kinds the backend makes: bpf objects and perf events (anon
 * inodes), sockets, pipes to workers, and cgroup directories. The JVM opens other files whenever it likes,
 * from any thread (jars, /proc entries, its container support's cgroup files such as cpu.max); counting
 * those made a leak check flaky.
 */
final class FdCount {
    private static final Path FDS = Path.of("/proc/self/fd");
    private static final List<String> OURS = List.of("anon_inode:", "socket:", "pipe:");

    private FdCount() {
    }

    static int now() {
        List<Path> fds;
        try (Stream<Path> s = Files.list(FDS)) {
            fds = s.toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int n = 0;
        for (Path fd : fds) {
            String target;
            try {
                target = Files.readSymbolicLink(fd).toString();
            } catch (NoSuchFileException e) {
                continue; // closed since the listing, by this thread's stream or another
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (OURS.stream().anyMatch(target::startsWith)
                    || target.startsWith("/sys/fs/cgroup/") && Files.isDirectory(Path.of(target))) {
                n++;
            }
        }
        return n;
    }
}
