package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fresh cgroup v2 directory (with optional children) for one test, removed again at close. The
 * kernel detaches whatever is still attached when a cgroup goes away.
 */
final class TestCgroup implements AutoCloseable {
    private static final AtomicInteger SEQ = new AtomicInteger();

    private final List<Path> made = new ArrayList<>();
    private final List<Fd> fds = new ArrayList<>();
    final Path path;

    TestCgroup() {
        this.path = mkdir(root().resolve("cgbpf-test-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet()));
    }

    /** The cgroup v2 mount point, from /proc/self/mountinfo. */
    static Path root() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] halves = line.split(" - ", 2);
                if (halves.length == 2 && halves[1].startsWith("cgroup2 ")) {
                    return Path.of(halves[0].split(" ")[4]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no cgroup2 mount in /proc/self/mountinfo");
    }

    Path child(String name) {
        return mkdir(path.resolve(name));
    }

    /** An fd for the directory, closed with this cgroup. */
    Fd fd(Path dir) throws BpfException {
        Fd fd = CgroupDir.open(dir);
        fds.add(fd);
        return fd;
    }

    Fd fd() throws BpfException {
        return fd(path);
    }

    private Path mkdir(Path p) {
        try {
            Files.createDirectory(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        made.add(p);
        return p;
    }

    @Override
    public void close() throws IOException {
        fds.forEach(Fd::close);
        for (int i = made.size() - 1; i >= 0; i--) {
            Files.deleteIfExists(made.get(i));
        }
    }
}
