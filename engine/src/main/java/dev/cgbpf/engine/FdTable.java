package dev.cgbpf.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The fd table of one engine backend, as a process has one: small integer fds handed out lowest
 * free number first, starting at 3 (a process with stdin, stdout and stderr open). Each entry is
 * the handle that owns the fd ({@link ProgFd}, {@link MapFd}, {@link LinkFd}).
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
}
