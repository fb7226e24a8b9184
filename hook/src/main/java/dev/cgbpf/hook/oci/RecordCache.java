package dev.cgbpf.hook.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records already read, reused while their file is the same file. Every container start and stop
 * lists all records (bind address leases, an earlier container of the same id), so without this a
 * daemon serving a host of N containers would read and parse N files per stage; with it, a stage
 * costs one lstat per record that has not changed.
 *
 * <p>"The same file": the same inode, size and modification time (nanoseconds on the file systems
 * a run directory lives on). A record is only ever replaced by a rename of a new file (a new
 * inode), so a rewrite is always seen; the run directory is root's alone (0700), so nobody edits a
 * record behind the hook's back without changing its mtime.
 */
final class RecordCache {
    private record Stamp(Object inode, long size, FileTime modified) {
        static Stamp of(BasicFileAttributes a) {
            return new Stamp(a.fileKey(), a.size(), a.lastModifiedTime());
        }
    }

    private record Cached(Stamp stamp, AttachRecord record) {
    }

    private static final Map<Path, Cached> CACHE = new ConcurrentHashMap<>();

    private RecordCache() {
    }

    /**
     * The record of {@code files}, from the cache when its file is unchanged, else read (and
     * checked as {@link AttachRecord#read(ContainerFiles)} checks it); null when there is none.
     */
    static AttachRecord read(ContainerFiles files) throws HookException {
        Path f = files.record();
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(f, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            CACHE.remove(f);
            return AttachRecord.read(files);
        }
        Stamp stamp = Stamp.of(a);
        Cached c = CACHE.get(f);
        if (c != null && a.isRegularFile() && stamp.inode() != null && c.stamp().equals(stamp)) {
            return c.record();
        }
        CACHE.remove(f);
        AttachRecord r = AttachRecord.read(files);
        if (r != null && a.isRegularFile() && stamp.inode() != null) {
            CACHE.put(f, new Cached(stamp, r));
        }
        return r;
    }

    /** Forgets the records under {@code runDir} that are not among {@code seen} (their containers are gone). */
    static void retainOnly(Path runDir, Set<Path> seen) {
        CACHE.keySet().removeIf(p -> p.startsWith(runDir) && !seen.contains(p));
    }

    /** How many records are cached (for tests). */
    static int size() {
        return CACHE.size();
    }
}
