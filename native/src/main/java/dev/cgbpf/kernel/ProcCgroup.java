package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's place in the unified hierarchy, from /proc/PID/cgroup (cgroups(7)): the line
 * {@code 0::/path}. v1 lines ({@code N:controllers:/path}) are ignored.
 */
final class ProcCgroup {
    private ProcCgroup() {
    }

    /** The v2 cgroup path of process {@code pid} (e.g. {@code /} or {@code /system.slice/x.service}). */
    static String of(long pid) throws BpfException {
        Path file = Path.of("/proc", Long.toString(pid), "cgroup");
        try {
            return parse(ProcFile.read(file));
        } catch (IOException e) {
            throw new BpfException(Errno.ESRCH, "cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * The path of the {@code 0::} line. A path with {@code ..} components is what the kernel shows
     * for a cgroup outside this process's cgroup namespace: EACCES, it cannot be reached. A cgroup
     * removed under a process still running in it is shown with a " (deleted)" suffix: ENOENT.
     */
    static String parse(String text) throws BpfException {
        for (String line : text.split("\n")) {
            if (!line.startsWith("0::")) {
                continue;
            }
            String path = line.substring(3);
            if (path.endsWith(" (deleted)")) {
                throw new BpfException(Errno.ENOENT, "the process's cgroup " + path + " was removed");
            }
            if (!path.startsWith("/")) {
                throw new BpfException(Errno.EINVAL, "malformed cgroup v2 line '" + line + "'");
            }
            for (String part : path.split("/")) {
                if (part.equals("..")) {
                    throw new BpfException(Errno.EACCES, "cgroup " + path + " lies outside this cgroup namespace");
                }
            }
            return path;
        }
        throw new BpfException(Errno.ENOENT, "no cgroup v2 (0::) line: the process is in no unified hierarchy");
    }
}
