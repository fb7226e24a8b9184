package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.BpfObject;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LoadedProg;
import java.util.ArrayList;
import java.util.List;

/**
 * The fd table of one engine backend, as a process has one: small integer fds handed out lowest
 * free number first, starting at 3 (a process with stdin, stdout and stderr open). Each entry is
 * the handle that owns the fd ({@link ProgFd}, {@link MapFd}, {@link LinkFd}). The typed lookups
 * are the kernel's fdget + bpf_prog_get / bpf_map_get / bpf_link_get: a handle that is not open
 * in this table (closed, or another backend's) is EBADF.
 */
final class FdTable {
    static final int FIRST_FD = 3;

    private final List<Object> fds = new ArrayList<>();

    /** __alloc_fd: the lowest free number. */
    synchronized int alloc(Object o) {
        for (int i = 0; i < fds.size(); i++) {
            if (fds.get(i) == null) {
                fds.set(i, o);
                return i + FIRST_FD;
            }
        }
        fds.add(o);
        return fds.size() - 1 + FIRST_FD;
    }

    /** The handle open at {@code fd}, or null. */
    synchronized Object get(int fd) {
        int i = fd - FIRST_FD;
        return i >= 0 && i < fds.size() ? fds.get(i) : null;
    }

    /**
     * Whether {@code fd} is open: one of this table's, or stdin, stdout or stderr, which every
     * process has and none of which is a bpf object (a map reference through fd 1 is EINVAL in the
     * kernel, not EBADF).
     */
    synchronized boolean isOpen(int fd) {
        return (fd >= 0 && fd < FIRST_FD) || get(fd) != null;
    }

    /** Frees {@code fd} if {@code o} still owns it; true when it did (the caller then drops o's reference). */
    synchronized boolean free(int fd, Object o) {
        int i = fd - FIRST_FD;
        if (i >= 0 && i < fds.size() && fds.get(i) == o) {
            fds.set(i, null);
            return true;
        }
        return false;
    }

    /** The handles open now, lowest fd first. */
    synchronized List<Object> open() {
        List<Object> out = new ArrayList<>();
        for (Object o : fds) {
            if (o != null) {
                out.add(o);
            }
        }
        return out;
    }

    /** The program an open fd of this table holds; EBADF otherwise. */
    EngineProg prog(LoadedProg loaded) throws BpfException {
        if (!(loaded instanceof ProgFd f) || !f.isOpenIn(this)) {
            throw new BpfException(Errno.EBADF, "program is not loaded in this engine");
        }
        return f.prog;
    }

    /** The map fd, open in this table; EBADF otherwise. */
    MapFd map(BpfMap map) throws BpfException {
        if (!(map instanceof MapFd h) || !h.isOpenIn(this)) {
            throw new BpfException(Errno.EBADF, "map is not open in this engine");
        }
        return h;
    }

    /** The link fd, open in this table; EBADF otherwise. */
    LinkFd link(BpfLink link) throws BpfException {
        if (!(link instanceof LinkFd l) || !l.isOpenIn(this)) {
            throw new BpfException(Errno.EBADF, "link is not open in this engine");
        }
        return l;
    }

    /** The program, map or link an open fd holds, for a pin; EINVAL otherwise (bpf_fd_probe_obj's answer). */
    Object object(BpfObject obj) throws BpfException {
        if (obj instanceof ProgFd f && f.isOpenIn(this)) {
            return f.prog;
        }
        if (obj instanceof MapFd f && f.isOpenIn(this)) {
            return f.map;
        }
        if (obj instanceof LinkFd f && f.isOpenIn(this)) {
            return f.link;
        }
        throw new BpfException(Errno.EINVAL, obj + " is not an open program, map or link of this engine");
    }
}
