package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfObject;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.Lifetime;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.engine.maps.EngineMap;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * BPF_OBJ_PIN and BPF_OBJ_GET of an engine backend (kernel/bpf/inode.c: bpf_obj_pin_user,
 * bpf_obj_get_user) and the directory calls on the host's bpf file system ({@link EngineBpfFs}):
 * a pin takes a reference of its own, BPF_OBJ_GET makes a new fd of this backend with the access
 * asked for (a link only read-write, EINVAL). With {@link Lifetime#SCOPED} it remembers the pins
 * and directories it made, for {@link #unpinAll()} at close.
 */
final class BpfObjPin {
    private final EngineHost host;
    private final FdTable fds;
    private final Lifetime lifetime;
    /** Pins and pin directories this backend made, in order (undone by a scoped close). */
    private final List<Path> madePins = Collections.synchronizedList(new ArrayList<>());
    private final List<Path> madePinDirs = Collections.synchronizedList(new ArrayList<>());

    BpfObjPin(EngineHost host, FdTable fds, Lifetime lifetime) {
        this.host = host;
        this.fds = fds;
        this.lifetime = lifetime;
    }

    /** kernel: bpf_obj_pin, bpf_obj_pin_user, bpf_obj_do_pin */
    void objPin(BpfObject obj, Path path) throws BpfException {
        host.bpffs.pin(fds.object(obj), path);
        if (lifetime == Lifetime.SCOPED) {
            madePins.add(path);
        }
    }

    /** kernel: bpf_obj_get, bpf_obj_get_user, bpf_obj_do_get */
    BpfObject objGet(Path path, ObjAccess access) throws BpfException {
        Object o = host.bpffs.getAndHold(path);
        if (o instanceof EngineProg p) {
            return new ProgFd(fds, p);
        }
        if (o instanceof EngineMap m) {
            return new MapFd(fds, m, access);
        }
        EngineLink l = (EngineLink) o;
        if (access != ObjAccess.READ_WRITE) {
            l.put();
            throw new BpfException(Errno.EINVAL, "a link is opened read-write only, not " + access);
        }
        return new LinkFd(fds, l);
    }

    /** kernel: do_unlinkat on bpffs (simple_unlink) */
    void unpin(Path path) throws BpfException {
        host.bpffs.unlink(path);
        madePins.remove(path);
    }

    /** kernel: do_mkdirat on bpffs (bpf_mkdir) */
    void pinMkdir(Path path) throws BpfException {
        host.bpffs.mkdir(path);
        if (lifetime == Lifetime.SCOPED) {
            madePinDirs.add(path);
        }
    }

    /** kernel: do_rmdir on bpffs (simple_rmdir) */
    void pinRmdir(Path path) throws BpfException {
        host.bpffs.rmdir(path);
        madePinDirs.remove(path);
    }

    /** kernel: dcache_readdir */
    List<String> pinList(Path dir) throws BpfException {
        return host.bpffs.list(dir);
    }

    /** The scoped close's pin part: removes the pins, then the pin directories, this backend made (newest first). */
    void unpinAll() {
        List<Path> pins = new ArrayList<>(madePins);
        for (int i = pins.size() - 1; i >= 0; i--) {
            try {
                host.bpffs.unlink(pins.get(i));
            } catch (BpfException e) {
                // unpinned by somebody else meanwhile
            }
        }
        List<Path> dirs = new ArrayList<>(madePinDirs);
        for (int i = dirs.size() - 1; i >= 0; i--) {
            try {
                host.bpffs.rmdir(dirs.get(i));
            } catch (BpfException e) {
                // not empty (somebody else's pins) or gone
            }
        }
    }
}
