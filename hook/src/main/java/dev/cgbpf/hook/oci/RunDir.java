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
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
     * Removes what a hook killed while writing a container's first record leaves: a directory
     * without a record (perhaps with the temporary file). Nothing else of that container can
     * exist, since its record is written before the first kernel object and removed after the
     * last; and a first record is only written under the lock, which the caller holds.
     */
    static void sweepUnwritten(HookSettings settings, Lock held, HookLog log) {
        if (held == null || !Files.isDirectory(settings.runDir(), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(settings.runDir())) {
            for (Path d : ds) {
                String name = d.getFileName().toString();
                if (name.equals(LOCK) || !Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)
                        || Files.exists(d.resolve(ContainerFiles.RECORD), LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try {
                    Long.parseUnsignedLong(name);
                    AttachRecord.remove(settings.files(Long.parseUnsignedLong(name)));
                    log.info("removed " + d + ", a record directory a killed hook left unwritten");
                } catch (NumberFormatException | HookException e) {
                    // not ours, or not empty: left for a person to look at
                }
            }
        } catch (IOException e) {
            log.warn("cannot list " + settings.runDir() + ": " + e.getMessage());
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
        Set<Path> seen = new HashSet<>();
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
                seen.add(files.record());
                try {
                    AttachRecord r = RecordCache.read(files);
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
        RecordCache.retainOnly(settings.runDir(), seen);
        return out;
    }
}
