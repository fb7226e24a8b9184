package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.BpfObject;
import dev.cgbpf.engine.backend.LoadedProg;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernel fds one {@link KernelBackend} holds: the programs, maps and links it made or opened
 * ({@link KernelObject}s, each owning one fd), and the names it loaded programs under, by kernel
 * prog id. A handle that is not open here (closed, or another backend's) is a programming error
 * (IllegalArgumentException): its fd number may already belong to something else.
 */
final class KernelFds {
    private final Set<KernelObject> open = new LinkedHashSet<>();
    /** Kernel prog id to the name it was loaded under, for every program this backend loaded. */
    private final Map<Integer, String> namesById = new ConcurrentHashMap<>();
    private boolean closed;

    synchronized <T extends KernelObject> T track(T o) {
        open.add(o);
        return o;
    }

    synchronized void forget(KernelObject o) {
        open.remove(o);
    }

    /** IllegalStateException once the backend is closed. */
    synchronized void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the kernel backend is closed");
        }
    }

    /** Marks the table closed and hands over what is still open, oldest first, for the caller to close. */
    synchronized List<KernelObject> closeAll() {
        closed = true;
        List<KernelObject> all = new ArrayList<>(open);
        open.clear();
        return all;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    synchronized int openCount() {
        return open.size();
    }

    /** Records the name a program of this backend was loaded under. */
    void loaded(int progId, String name) {
        namesById.put(progId, name);
    }

    /** The name this backend loaded prog {@code id} under, or null when it did not load it. */
    String loadedName(int id) {
        return namesById.get(id);
    }

    Set<Integer> loadedProgIds() {
        return Set.copyOf(namesById.keySet());
    }

    KernelProg prog(LoadedProg prog) {
        if (prog instanceof KernelProg p && p.isOpenIn(this)) {
            return p;
        }
        throw new IllegalArgumentException(prog + " is not an open program of this kernel backend");
    }

    KernelMap map(BpfMap map) {
        if (map instanceof KernelMap m && m.isOpenIn(this)) {
            return m;
        }
        throw new IllegalArgumentException(map + " is not an open map of this kernel backend");
    }

    KernelLink link(BpfLink link) {
        if (link instanceof KernelLink l && l.isOpenIn(this)) {
            return l;
        }
        throw new IllegalArgumentException(link + " is not an open link of this kernel backend");
    }

    KernelObject object(BpfObject obj) {
        if (obj instanceof KernelObject o && o.isOpenIn(this)) {
            return o;
        }
        throw new IllegalArgumentException(obj + " is not an open program, map or link of this kernel backend");
    }
}
