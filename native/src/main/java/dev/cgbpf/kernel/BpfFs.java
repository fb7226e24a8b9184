package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The bpf file system, where programs, maps and links are pinned so that they outlive the
 * process. Pins are made mode 0600 (root only: a pinned program can be opened and attached by
 * whoever can open the file), and only at validated paths: absolute, normalized, no symbolic link
 * on the way, on a mounted bpffs.
 */
public final class BpfFs {
    /** Where bpffs lives by convention (iproute2, libbpf, systemd). */
    public static final Path DEFAULT = Path.of("/sys/fs/bpf");
    static final long BPF_FS_MAGIC = 0xcafe4a11L;
    static final String MOUNTS = "/proc/self/mounts";
    private static final Set<PosixFilePermission> PIN_MODE = PosixFilePermissions.fromString("rw-------");

    private BpfFs() {
    }

    /** The mount points of bpf file systems, from /proc/self/mounts (fs type "bpf"), in mount order. */
    public static List<Path> mounts() {
        try {
            return parseMounts(ProcFile.read(Path.of(MOUNTS)));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The bpf mount points of a mounts(5) text; octal escapes in paths are undone. */
    static List<Path> parseMounts(String text) {
        List<Path> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.split(" ");
            if (f.length >= 3 && f[2].equals("bpf")) {
                out.add(Path.of(MountInfo.unescape(f[1])));
            }
        }
        return out;
    }

    /** True when {@code dir} is the root or inside of a bpf file system (statfs f_type). */
    public static boolean isBpfFs(Path dir) {
        byte[] buf = new byte[120];
        if (LibC.INSTANCE.statfs(dir.toString(), buf) != 0) {
            return false;
        }
        long type = 0;
        for (int i = 7; i >= 0; i--) {
            type = (type << 8) | (buf[i] & 0xff);
        }
        return type == BPF_FS_MAGIC;
    }

    /**
     * Makes sure a bpf file system is mounted at {@code at} (normally {@link #DEFAULT}): mounts one
     * there, mode 0700, when none is. Returns true when it mounted one.
     */
    public static boolean ensureMounted(Path at) throws BpfException {
        if (isBpfFs(at) && mounts().contains(at)) {
            return false;
        }
        if (!Files.isDirectory(at, LinkOption.NOFOLLOW_LINKS)) {
            throw new BpfException(Errno.ENOENT, "cannot mount bpffs: " + at + " is not a directory");
        }
        if (LibC.INSTANCE.mount("bpf", at.toString(), "bpf", 0, "mode=0700") != 0) {
            throw SysErrno.lastAsException("mount -t bpf bpf " + at);
        }
        return true;
    }

    /**
     * Checks a pin path: absolute and normalized, its directory a real directory (not reached
     * through a symbolic link) on a bpf file system, a plain file name. IllegalArgumentException
     * otherwise, before the kernel is asked.
     */
    public static Path validatePinPath(Path path) {
        if (!path.isAbsolute() || !path.normalize().equals(path) || path.getFileName() == null) {
            throw new IllegalArgumentException("pin path " + path + " must be absolute and normalized");
        }
        String name = path.getFileName().toString();
        if (name.isEmpty() || name.startsWith(".") || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("pin name '" + name + "' is not a plain file name");
        }
        Path dir = path.getParent();
        try {
            if (!dir.toRealPath().equals(dir)) {
                throw new IllegalArgumentException("pin directory " + dir + " is reached through a symbolic link");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("pin directory " + dir + " does not exist");
        }
        if (!isBpfFs(dir)) {
            throw new IllegalArgumentException("pin directory " + dir + " is not on a bpf file system");
        }
        return path;
    }

    /**
     * Checks a path for the bpf file system operations of a backend: absolute and normalized, and
     * its nearest existing ancestor (the path itself when it exists) a real directory or pin, not
     * reached through a symbolic link, on a bpf file system. IllegalArgumentException otherwise,
     * before the kernel is asked; everything else (a missing directory, a name with '.', a pin in
     * the way) is the kernel's answer.
     */
    public static Path checkOnBpfFs(Path path) {
        if (path == null || !path.isAbsolute() || !path.normalize().equals(path)) {
            throw new IllegalArgumentException("pin path " + path + " must be absolute and normalized");
        }
        Path existing = path;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            throw new IllegalArgumentException("pin path " + path + ": no part of it exists");
        }
        try {
            if (!existing.toRealPath().equals(existing)) {
                throw new IllegalArgumentException("pin path " + path + " goes through a symbolic link (" + existing + ")");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("pin path " + path + ": " + existing + " cannot be resolved: " + e.getMessage());
        }
        if (!isBpfFs(existing)) {
            throw new IllegalArgumentException("pin path " + path + " is not on a bpf file system (" + existing + " is not)");
        }
        return path;
    }

    /**
     * Pins a program, map or link fd at a validated path and makes the pin mode 0600; the mode is
     * read back, and a pin that does not have it is removed again (EPERM).
     */
    public static void pin(Fd obj, Path path) throws BpfException {
        validatePinPath(path);
        pinMode0600(obj, path);
    }

    /**
     * BPF_OBJ_PIN at {@code path} as given (the kernel answers for the path), then chmod 0600; the
     * mode is read back, and a pin that does not have it is removed again (EPERM).
     */
    static void pinMode0600(Fd obj, Path path) throws BpfException {
        ObjPin.objPin(obj, path.toString());
        try {
            if (LibC.INSTANCE.chmod(path.toString(), 0600) != 0) {
                throw SysErrno.lastAsException("chmod 0600 " + path);
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS);
            if (!mode.equals(PIN_MODE)) {
                throw new BpfException(Errno.EPERM, "pin " + path + " has mode "
                        + PosixFilePermissions.toString(mode) + " after chmod, not rw-------");
            }
        } catch (BpfException | IOException | RuntimeException e) {
            LibC.INSTANCE.unlink(path.toString());
            if (e instanceof BpfException be) {
                throw be;
            }
            throw new BpfException(Errno.EIO, "cannot check the mode of pin " + path + ": " + e.getMessage());
        }
    }

    /** Removes a pin at a validated path (the object lives on while fds or attachments hold it). */
    public static void unpin(Path path) throws BpfException {
        validatePinPath(path);
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new BpfException(Errno.EISDIR, "pin path " + path + " is a directory");
        }
        if (LibC.INSTANCE.unlink(path.toString()) != 0) {
            throw SysErrno.lastAsException("unpin " + path);
        }
    }
}
