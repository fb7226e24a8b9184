package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.maps.EngineMap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The bpf file system of an {@link EngineHost} (kernel/bpf/inode.c), in memory, mounted at one
 * absolute path: directories and pins, each pin holding a reference to its program
 * ({@link EngineProg}), map ({@link EngineMap}) or link ({@link EngineLink}).
 *
 * <p>The answers are the running kernel's (Linux 6.18, measured by BpfFsDifferentialTest): a name
 * containing '.' is EPERM wherever it is looked up (bpf_lookup refuses it before anything else),
 * a name of more than 255 bytes ENAMETOOLONG, a missing component ENOENT, a pin on the way
 * ENOTDIR; creating (pin, mkdir) what exists is EEXIST; BPF_OBJ_GET of a directory EACCES;
 * unlink of a directory EISDIR; rmdir of a pin ENOTDIR, of a non-empty directory ENOTEMPTY, of
 * the mount point EBUSY. Paths must be absolute, normalized and under the mount point
 * (IllegalArgumentException otherwise, as on the kernel backend). The kernel's own preload pins
 * (maps.debug, progs.debug) are not modelled.
 */
final class EngineBpfFs {
    /** NAME_MAX. */
    static final int NAME_MAX = 255;
    /** PATH_MAX, the terminating NUL included. */
    static final int PATH_MAX = 4096;

    private final Path mount;
    private final Dir root = new Dir();

    private static final class Dir {
        final TreeMap<String, Object> entries = new TreeMap<>();
    }

    EngineBpfFs(Path mount) {
        if (!mount.isAbsolute() || !mount.normalize().equals(mount)) {
            throw new IllegalArgumentException("bpffs mount point " + mount + " must be absolute and normalized");
        }
        this.mount = mount;
    }

    Path mount() {
        return mount;
    }

    /** BPF_OBJ_PIN: the pin takes a reference of its own to {@code obj}. */
    synchronized void pin(Object obj, Path path) throws BpfException {
        Dir d = parentForCreate(path);
        hold(obj);
        d.entries.put(last(path), obj);
    }

    /**
     * BPF_OBJ_GET's lookup: the pinned object, with one more reference taken for the new fd
     * (under the lock, so that a concurrent unpin cannot free it first).
     */
    synchronized Object getAndHold(Path path) throws BpfException {
        List<String> names = names(path);
        Object o = names.isEmpty() ? root : lookup(walk(names, path), names.get(names.size() - 1), path);
        if (o instanceof Dir) {
            throw new BpfException(Errno.EACCES, path + " is a directory, not a pinned object");
        }
        hold(o);
        return o;
    }

    /** unlink(2): removes the pin and drops its reference. */
    void unlink(Path path) throws BpfException {
        Object o;
        synchronized (this) {
            List<String> names = names(path);
            if (names.isEmpty()) {
                throw new BpfException(Errno.EISDIR, path + " is the bpffs mount point");
            }
            Dir d = walk(names, path);
            String name = names.get(names.size() - 1);
            o = lookup(d, name, path);
            if (o instanceof Dir) {
                throw new BpfException(Errno.EISDIR, path + " is a directory");
            }
            d.entries.remove(name);
        }
        put(o);
    }

    /** mkdir(2). */
    synchronized void mkdir(Path path) throws BpfException {
        parentForCreate(path).entries.put(last(path), new Dir());
    }

    /** rmdir(2). */
    synchronized void rmdir(Path path) throws BpfException {
        List<String> names = names(path);
        if (names.isEmpty()) {
            throw new BpfException(Errno.EBUSY, path + " is the bpffs mount point");
        }
        Dir d = walk(names, path);
        String name = names.get(names.size() - 1);
        Object o = lookup(d, name, path);
        if (!(o instanceof Dir sub)) {
            throw new BpfException(Errno.ENOTDIR, path + " is a pin, not a directory");
        }
        if (!sub.entries.isEmpty()) {
            throw new BpfException(Errno.ENOTEMPTY, path + " holds " + sub.entries.keySet());
        }
        d.entries.remove(name);
    }

    /** readdir(3): the names in a directory, sorted. */
    synchronized List<String> list(Path path) throws BpfException {
        List<String> names = names(path);
        Object o = names.isEmpty() ? root : lookup(walk(names, path), names.get(names.size() - 1), path);
        if (!(o instanceof Dir d)) {
            throw new BpfException(Errno.ENOTDIR, path + " is a pin, not a directory");
        }
        return new ArrayList<>(d.entries.keySet());
    }

    /** Whether {@code path} names something now (for teardown). */
    synchronized boolean exists(Path path) {
        try {
            List<String> names = names(path);
            return names.isEmpty() || lookup(walk(names, path), names.get(names.size() - 1), path) != null;
        } catch (BpfException e) {
            return false;
        }
    }

    /**
     * kern_path_create: the directory to create the last name in; EEXIST when it exists.
     *
     * <p>kernel: kern_path_create, filename_create
     */
    private Dir parentForCreate(Path path) throws BpfException {
        List<String> names = names(path);
        if (names.isEmpty()) {
            throw new BpfException(Errno.EEXIST, path + " is the bpffs mount point");
        }
        Dir d = walk(names, path);
        String name = names.get(names.size() - 1);
        if (d.entries.containsKey(name)) {
            throw new BpfException(Errno.EEXIST, path + " exists");
        }
        checkName(name, path);
        return d;
    }

    /** The directory holding the last component: every component before it looked up, each a directory. */
    private Dir walk(List<String> names, Path path) throws BpfException {
        Dir d = root;
        for (int i = 0; i < names.size() - 1; i++) {
            Object o = lookup(d, names.get(i), path);
            if (!(o instanceof Dir sub)) {
                throw new BpfException(Errno.ENOTDIR, "a component of " + path + " is a pin, not a directory");
            }
            d = sub;
        }
        return d;
    }

    /**
     * bpf_lookup for a name not cached: '.' refused first, then the length, then ENOENT.
     *
     * <p>kernel: bpf_lookup, simple_lookup
     */
    private static Object lookup(Dir d, String name, Path path) throws BpfException {
        Object o = d.entries.get(name);
        if (o != null) {
            return o;
        }
        checkName(name, path);
        throw new BpfException(Errno.ENOENT, "no " + path + " (no '" + name + "')");
    }

    private static void checkName(String name, Path path) throws BpfException {
        if (name.indexOf('.') >= 0) {
            throw new BpfException(Errno.EPERM, "bpffs refuses names with '.': '" + name + "' in " + path);
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
            throw new BpfException(Errno.ENAMETOOLONG, "name of more than " + NAME_MAX + " bytes in " + path);
        }
    }

    /** The components below the mount point; IllegalArgumentException for a path the engine does not serve. */
    private List<String> names(Path path) throws BpfException {
        if (path == null || !path.isAbsolute() || !path.normalize().equals(path)) {
            throw new IllegalArgumentException("pin path " + path + " must be absolute and normalized");
        }
        if (!path.startsWith(mount)) {
            throw new IllegalArgumentException("pin path " + path + " is not on the engine's bpf file system ("
                    + mount + ")");
        }
        if (path.toString().getBytes(StandardCharsets.UTF_8).length >= PATH_MAX) {
            throw new BpfException(Errno.ENAMETOOLONG, "path of " + PATH_MAX + " bytes or more");
        }
        List<String> out = new ArrayList<>();
        for (Path p : mount.relativize(path)) {
            if (!p.toString().isEmpty()) {
                out.add(p.toString());
            }
        }
        return out;
    }

    private static String last(Path path) {
        return path.getFileName().toString();
    }

    /** Takes one more reference to a program, map or link. */
    static void hold(Object o) {
        if (o instanceof EngineProg p) {
            p.hold();
        } else if (o instanceof EngineMap m) {
            m.retainUser(); // a pin or an fd: a user reference
        } else if (o instanceof EngineLink l) {
            l.hold();
        } else {
            throw new IllegalArgumentException("not a bpf object: " + o);
        }
    }

    /** Drops one reference to a program, map or link. */
    static void put(Object o) {
        if (o instanceof EngineProg p) {
            p.put();
        } else if (o instanceof EngineMap m) {
            m.releaseUser();
        } else if (o instanceof EngineLink l) {
            l.put();
        } else {
            throw new IllegalArgumentException("not a bpf object: " + o);
        }
    }
}
