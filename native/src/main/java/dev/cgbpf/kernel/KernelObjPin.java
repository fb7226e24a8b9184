package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfObject;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.Lifetime;
import dev.cgbpf.engine.backend.ObjAccess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * BPF_OBJ_PIN and BPF_OBJ_GET of a {@link KernelBackend}, and the directory calls on a bpf file
 * system (mkdir, rmdir, unlink, readdir). Paths are checked first ({@link BpfFs#checkOnBpfFs}:
 * absolute, normalized, on bpffs, no symbolic link); everything else is the kernel's answer. A pin
 * is made mode 0600. With {@link Lifetime#SCOPED} the pins and directories made are remembered
 * for {@link #unpinAll()} at close.
 */
final class KernelObjPin {
    private static final Logger LOG = LoggerFactory.getLogger(KernelObjPin.class);
    private static final int O_RDONLY = 0;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_CLOEXEC = 02000000;

    private final KernelFds fds;
    private final Lifetime lifetime;
    /** Pins and pin directories this backend made, in order: a scoped close() removes them. */
    private final List<Path> madePins = new ArrayList<>();
    private final List<Path> madePinDirs = new ArrayList<>();

    KernelObjPin(KernelFds fds, Lifetime lifetime) {
        this.fds = fds;
        this.lifetime = lifetime;
    }

    void objPin(BpfObject obj, Path path) throws BpfException {
        fds.ensureOpen();
        BpfFs.checkOnBpfFs(path);
        KernelObject o = fds.object(obj);
        BpfFs.pinMode0600(o.handle(), path);
        if (lifetime == Lifetime.SCOPED) {
            synchronized (this) {
                madePins.add(path);
            }
        }
    }

    /**
     * BPF_OBJ_GET, then what the fd is from /proc/self/fd (anon_inode:bpf-prog, bpf-map,
     * bpf-link; a link made by BPF_LINK_CREATE shows bpf_link) and its info: a program keeps the
     * name this backend loaded it under, else the kernel's copy; a map's spec is the kernel's (its
     * name the kernel's copy).
     */
    BpfObject objGet(Path path, ObjAccess access) throws BpfException {
        fds.ensureOpen();
        BpfFs.checkOnBpfFs(path);
        Fd fd = ObjPin.objGet(path.toString(), access.fileFlags());
        try {
            String kind = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.get())).toString();
            switch (kind) {
                case "anon_inode:bpf-prog" -> {
                    ObjGetInfoByFd.ProgInfo i = ObjGetInfoByFd.progInfo(fd);
                    String loadedAs = fds.loadedName(i.id());
                    return fds.track(new KernelProg(fds, fd, loadedAs != null ? loadedAs : i.name(),
                            KernelInfo.progType(i.type()), ""));
                }
                case "anon_inode:bpf-map" -> {
                    return fds.track(new KernelMap(fds, fd, KernelInfo.map(fd).spec()));
                }
                case "anon_inode:bpf-link", "anon_inode:bpf_link" -> {
                    return fds.track(new KernelLink(fds, fd));
                }
                default -> throw new BpfException(Errno.EINVAL, path + " opened as " + kind + ", not a bpf object");
            }
        } catch (IOException e) {
            fd.close();
            throw new BpfException(Errno.EIO, "cannot tell what " + path + " holds: " + e.getMessage());
        } catch (BpfException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    void unpin(Path path) throws BpfException {
        fds.ensureOpen();
        BpfFs.checkOnBpfFs(path);
        if (LibC.INSTANCE.unlink(path.toString()) != 0) {
            throw SysErrno.lastAsException("unpin " + path);
        }
        synchronized (this) {
            madePins.remove(path);
        }
    }

    void pinMkdir(Path path) throws BpfException {
        fds.ensureOpen();
        BpfFs.checkOnBpfFs(path);
        if (LibC.INSTANCE.mkdir(path.toString(), 0700) != 0) {
            throw SysErrno.lastAsException("mkdir " + path);
        }
        if (lifetime == Lifetime.SCOPED) {
            synchronized (this) {
                madePinDirs.add(path);
            }
        }
    }

    void pinRmdir(Path path) throws BpfException {
        fds.ensureOpen();
        BpfFs.checkOnBpfFs(path);
        if (LibC.INSTANCE.rmdir(path.toString()) != 0) {
            throw SysErrno.lastAsException("rmdir " + path);
        }
        synchronized (this) {
            madePinDirs.remove(path);
        }
    }

    List<String> pinList(Path dir) throws BpfException {
        fds.ensureOpen();
        BpfFs.checkOnBpfFs(dir);
        // open(2) first, for the kernel's answer (ENOENT, ENOTDIR, EPERM for a name with '.')
        int fd = LibC.INSTANCE.open(dir.toString(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            throw SysErrno.lastAsException("open " + dir);
        }
        LibC.INSTANCE.close(fd);
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new BpfException(Errno.EIO, "cannot list " + dir + ": " + e.getMessage());
        }
    }

    /** Removes the pins, then the pin directories, this backend made (newest first); logs what stays. */
    void unpinAll() {
        List<Path> pins;
        List<Path> dirs;
        synchronized (this) {
            pins = new ArrayList<>(madePins);
            dirs = new ArrayList<>(madePinDirs);
        }
        for (int i = pins.size() - 1; i >= 0; i--) {
            if (LibC.INSTANCE.unlink(pins.get(i).toString()) != 0 && SysErrno.last() != Errno.ENOENT.number()) {
                LOG.warn("kernel backend teardown: unpin {}: {}", pins.get(i), SysErrno.name(SysErrno.last()));
            }
        }
        for (int i = dirs.size() - 1; i >= 0; i--) {
            if (LibC.INSTANCE.rmdir(dirs.get(i).toString()) != 0 && SysErrno.last() != Errno.ENOENT.number()) {
                LOG.warn("kernel backend teardown: rmdir {}: {}", dirs.get(i), SysErrno.name(SysErrno.last()));
            }
        }
    }
}
