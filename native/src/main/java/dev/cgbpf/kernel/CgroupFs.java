package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The cgroup v2 file system calls cgbpf makes, through libc so that failures carry the kernel's
 * errno (mkdir: EEXIST, ENOENT; rmdir: EBUSY while populated or with children; cgroup.procs:
 * ESRCH, EBUSY, EOPNOTSUPP).
 */
final class CgroupFs {
    private static final int O_WRONLY = 01;
    private static final int O_CLOEXEC = 02000000;

    private CgroupFs() {
    }

    static void mkdir(Path dir) throws BpfException {
        if (LibC.INSTANCE.mkdir(dir.toString(), 0755) != 0) {
            throw SysErrno.lastAsException("mkdir " + dir);
        }
    }

    static void rmdir(Path dir) throws BpfException {
        if (LibC.INSTANCE.rmdir(dir.toString()) != 0) {
            throw SysErrno.lastAsException("rmdir " + dir);
        }
    }

    /** Moves process {@code pid} (all its threads) into the cgroup: one write to cgroup.procs. */
    static void moveProcess(Path dir, long pid) throws BpfException {
        Path procs = dir.resolve("cgroup.procs");
        int fd = LibC.INSTANCE.open(procs.toString(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            throw SysErrno.lastAsException("open " + procs);
        }
        try {
            byte[] line = (pid + "\n").getBytes(StandardCharsets.US_ASCII);
            if (LibC.INSTANCE.write(fd, line, line.length) != line.length) {
                throw SysErrno.lastAsException("move process " + pid + " into " + dir);
            }
        } finally {
            LibC.INSTANCE.close(fd);
        }
    }

    /** The pids in the cgroup (cgroup.procs); empty when it cannot be read (e.g. already removed). */
    static List<Long> processes(Path dir) {
        List<Long> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(dir.resolve("cgroup.procs"))) {
                if (!line.isBlank()) {
                    out.add(Long.parseLong(line.strip()));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return out;
        }
        return out;
    }

    /**
     * The cgroup's id, as bpf programs see it (bpf_get_current_cgroup_id, the cgroup storage key):
     * on 64-bit kernels the kernfs node id, which is also the directory's inode number.
     */
    static long id(Path dir) throws BpfException {
        try {
            return ((Number) Files.getAttribute(dir, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
        } catch (IOException e) {
            throw new BpfException(Errno.ENOENT, "no cgroup " + dir);
        }
    }

    /** Every cgroup directory under {@code root} (not the root itself), children after their parents. */
    static List<Path> descendants(Path root) {
        List<Path> out = new ArrayList<>();
        collect(root, out);
        return out;
    }

    private static void collect(Path dir, List<Path> out) {
        List<Path> children = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).sorted().forEach(children::add);
        } catch (IOException e) {
            return;
        }
        for (Path c : children) {
            out.add(c);
            collect(c, out);
        }
    }
}
