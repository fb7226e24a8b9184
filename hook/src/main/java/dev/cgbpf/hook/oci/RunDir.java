package dev.cgbpf.hook.oci;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The hook's run directory as a whole: every container's record, and the lock that makes "which
 * bind addresses are taken, then take one" a single step for concurrent hooks (each a JVM of its
 * own, or threads of one).
 */
final class RunDir {
    static final String LOCK = ".lock";
    private static final ReentrantLock IN_PROCESS = new ReentrantLock();

    private RunDir() {
    }

    /** One record found in the run directory. */
    record Entry(ContainerFiles files, AttachRecord record) {
    }

    /** Held while open: the run directory's lock file (fcntl lock, 0600) and the in-process lock. */
    static final class Lock implements AutoCloseable {
        private final FileChannel channel;
        private final FileLock lock;

        private Lock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() {
            try {
                lock.release();
                channel.close();
            } catch (IOException e) {
                // closing the channel releases the lock in any case
            } finally {
                IN_PROCESS.unlock();
            }
        }
    }

    static Lock lock(HookSettings settings) throws HookException {
        Path file = settings.runDir().resolve(LOCK);
        IN_PROCESS.lock();
        FileChannel ch = null;
        try {
            Secure.mkdirs(settings.runDir());
            ch = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            LinkOption.NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return new Lock(ch, ch.lock());
        } catch (IOException | RuntimeException e) {
            IN_PROCESS.unlock();
            try {
                if (ch != null) {
                    ch.close();
                }
            } catch (IOException ignored) {
                // nothing more to release
            }
            throw new HookException("cannot lock " + file + ": " + e.getMessage());
        }
    }

    /**
     * Removes the record directories a killed hook left half made: no record in them, at most the
     * temporary file of the record's first write (the hook was killed between making the directory
     * and renaming {@code state.json.tmp} into place). A cgroup's first record is written under the
     * run directory's lock before anything else is made for it, so under that lock such a directory
     * belongs to a dead hook and there is nothing else to undo. The caller holds the lock.
     */
    static void removeUnfinished(HookSettings settings, HookLog log) throws HookException {
        if (!Files.isDirectory(settings.runDir(), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(settings.runDir())) {
            for (Path d : ds) {
                String name = d.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || !Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                Path tmp = d.resolve(ContainerFiles.RECORD + ".tmp");
                List<Path> inside;
                try (var s = Files.list(d)) {
                    inside = s.toList();
                }
                if (inside.isEmpty() || inside.equals(List.of(tmp))) {
                    Files.deleteIfExists(tmp);
                    Files.deleteIfExists(d);
                    log.info("removed " + d + ", left half made by a hook that was killed");
                }
            }
        } catch (IOException e) {
            throw new HookException("cannot clean " + settings.runDir() + ": " + e.getMessage());
        }
    }

    /**
     * Every readable record; a directory whose record is damaged or of another format is left
     * alone and logged, since nothing in it says whose it is.
     */
    static List<Entry> records(HookSettings settings, HookLog log) throws HookException {
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(settings.runDir(), LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(settings.runDir())) {
            for (Path d : ds) {
                String name = d.getFileName().toString();
                long key;
                try {
                    key = Long.parseUnsignedLong(name);
                } catch (NumberFormatException e) {
                    continue;
                }
                ContainerFiles files = settings.files(key);
                try {
                    AttachRecord r = AttachRecord.read(files);
                    if (r != null) {
                        out.add(new Entry(files, r));
                    }
                } catch (HookException e) {
                    log.warn("skipping " + d + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new HookException("cannot list " + settings.runDir() + ": " + e.getMessage());
        }
        return out;
    }
}
