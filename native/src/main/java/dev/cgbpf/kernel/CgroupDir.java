package dev.cgbpf.kernel;

import com.sun.jna.Native;
import dev.cgbpf.engine.backend.BpfException;
import java.nio.file.Path;

/** A cgroup v2 directory opened as the target fd of attach, detach, query and link_create. */
public final class CgroupDir {
    // fcntl.h on Linux (x86-64 and the asm-generic architectures alike)
    private static final int O_RDONLY = 0;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_CLOEXEC = 02000000;

    private CgroupDir() {
    }

    /** Opens the directory read-only; the caller owns the fd. Errors carry the errno name. */
    public static Fd open(Path dir) throws BpfException {
        int fd = LibC.INSTANCE.open(dir.toString(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            throw BpfException.ofNumber(Native.getLastError(), "open " + dir + " failed", null);
        }
        return new Fd(fd);
    }
}
