package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.EngineHost;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.Lifetime;
import dev.cgbpf.kernel.BpfFs;
import dev.cgbpf.kernel.KernelBackend;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The backend a hook stage works through, the only way the hook reaches the kernel: the kernel's,
 * rooted at the cgroup v2 mount, with {@link Lifetime#PERSISTENT} objects (the programs must
 * outlive the hook); or, for a dry run, an engine laid out the same way (the container's cgroup
 * path in its tree, its bpf file system at the pin root), so that a dry run is the kernel path's
 * code on the engine.
 *
 * @param cgroupRoot the directory the backend's cgroup paths are relative to
 */
record HookBackend(Backend backend, Path cgroupRoot) implements AutoCloseable {

    /** The kernel, at the cgroup v2 mount point {@code mountPoint}; the pin root's bpffs mounted if need be. */
    static HookBackend kernel(Path mountPoint, Path pinRoot) throws HookException {
        prepareBpfFs(pinRoot);
        try {
            return new HookBackend(KernelBackend.atCgroupRoot(mountPoint, Lifetime.PERSISTENT), mountPoint);
        } catch (BpfException e) {
            throw HookException.machine("cannot open the cgroup v2 hierarchy at " + mountPoint + ": "
                    + Attach.describe(e));
        } catch (IllegalArgumentException e) {
            throw HookException.machine(e.getMessage());
        }
    }

    /** An engine with the container's cgroup {@code containerDir} (below {@code mountPoint}) in its tree. */
    static HookBackend engine(Path mountPoint, Path containerDir, Path pinRoot) throws HookException {
        EngineHost host = new EngineHost(pinRoot);
        EngineBackend root = null;
        try {
            root = EngineBackend.atCgroupRoot(host, "", Lifetime.PERSISTENT);
            Path made = Path.of("");
            for (Path part : mountPoint.relativize(containerDir)) {
                made = made.resolve(part);
                root.mkdir(made.toString());
            }
            return new HookBackend(root, mountPoint);
        } catch (BpfException e) {
            if (root != null) {
                root.close();
            }
            throw new HookException("dry run: " + Attach.describe(e));
        }
    }

    /** {@code dir}'s path relative to the backend's cgroup root, or null when it lies elsewhere. */
    String cgroupOf(String dir) {
        if (dir == null) {
            return null;
        }
        Path d = Path.of(dir).normalize();
        return d.startsWith(cgroupRoot) ? cgroupRoot.relativize(d).toString() : null;
    }

    @Override
    public void close() {
        backend.close();
    }

    /**
     * The pin root's bpffs: its nearest existing ancestor must be on one; when that ancestor is
     * /sys/fs/bpf and nothing is mounted there yet, mount it (as systemd would at boot).
     */
    static void prepareBpfFs(Path pinDir) throws HookException {
        Path existing = pinDir;
        while (existing != null && !Files.isDirectory(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            throw new HookException("pin directory " + pinDir + ": no parent directory exists");
        }
        if (BpfFs.isBpfFs(existing)) {
            return;
        }
        if (existing.equals(BpfFs.DEFAULT)) {
            try {
                BpfFs.ensureMounted(BpfFs.DEFAULT);
                return;
            } catch (BpfException e) {
                throw HookException.machine("cannot mount a bpf file system at " + BpfFs.DEFAULT + ": "
                        + e.getMessage());
            }
        }
        throw HookException.machine("pin directory " + pinDir + " is not on a bpf file system (" + existing
                + " is not bpffs)");
    }

    static boolean gone(BpfException e) {
        return Errno.ENOENT.name().equals(e.errno());
    }
}
