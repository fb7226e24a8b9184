package dev.cgbpf.hook.events;

import dev.cgbpf.hook.oci.Secure;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The denials log: one JSON line ({@link LoggedEvent}) per event, 0600 in a 0700 directory,
 * bounded in two ways so that a container hammering a denied object floods nothing:
 * <ul>
 * <li>per container, at most {@code burst} lines per {@code windowMillis}; the events past that
 *     are counted, and when the window ends one line says how many were left out;</li>
 * <li>in size: past {@code maxBytes} the file becomes {@code PATH.1} (replacing the older one) and
 *     a new file starts, so the log never takes more than twice {@code maxBytes}.</li>
 * </ul>
 * Every line written also goes to {@code tap} (the live subscribers). Called from one thread.
 */
public final class DenialLog implements AutoCloseable {
    public static final Path DEFAULT_PATH = Path.of("/var/log/cgbpf/denials.log");
    public static final long DEFAULT_MAX_BYTES = 16L << 20;
    public static final int DEFAULT_BURST = 20;
    public static final long DEFAULT_WINDOW_MILLIS = 10_000;

    private final Path path;
    private final long maxBytes;
    private final int burst;
    private final long windowMillis;
    private final Consumer<String> tap;
    private final Map<Long, Window> windows = new HashMap<>();
    private OutputStream out;
    private long size;
    private long linesWritten;
    private long suppressedTotal;

    /** One container's current window: when it began, lines written in it, events left out. */
    private static final class Window {
        long start;
        int written;
        long suppressed;
        String container;
    }

    public DenialLog(Path path, long maxBytes, int burst, long windowMillis, Consumer<String> tap) throws IOException {
        this.path = path;
        this.maxBytes = maxBytes;
        this.burst = burst;
        this.windowMillis = windowMillis;
        this.tap = tap;
        open();
    }

    private void open() throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Secure.mkdirs(dir);
        }
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        out = Files.newOutputStream(path, StandardOpenOption.APPEND, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
        size = Files.size(path);
    }

    public Path path() {
        return path;
    }

    /**
     * Logs {@code e} unless its container is over its limit in this window.
     *
     * @return whether a line was written
     */
    public boolean log(LoggedEvent e, long nowMillis) throws IOException {
        Window w = windows.computeIfAbsent(e.cgroupId(), k -> new Window());
        w.container = e.container();
        if (nowMillis - w.start >= windowMillis) {
            closeWindow(e.cgroupId(), w, e.time());
            w.start = nowMillis;
            w.written = 0;
        }
        if (w.written >= burst) {
            w.suppressed++;
            suppressedTotal++;
            return false;
        }
        w.written++;
        write(e.json());
        return true;
    }

    /** Ends the windows that are over: their "N more suppressed" lines; forgets idle containers. */
    public void tick(long nowMillis, String time) throws IOException {
        var it = windows.entrySet().iterator();
        while (it.hasNext()) {
            var en = it.next();
            Window w = en.getValue();
            if (nowMillis - w.start >= windowMillis) {
                closeWindow(en.getKey(), w, time);
                it.remove();
            }
        }
        out.flush();
    }

    private void closeWindow(long cgroupId, Window w, String time) throws IOException {
        if (w.suppressed > 0) {
            write(LoggedEvent.suppressedLine(time, w.container, cgroupId, w.suppressed).json());
            w.suppressed = 0;
        }
    }

    private void write(String line) throws IOException {
        byte[] b = (line + "\n").getBytes(StandardCharsets.UTF_8);
        if (size > 0 && size + b.length > maxBytes) {
            rotate();
        }
        out.write(b);
        size += b.length;
        linesWritten++;
        tap.accept(line);
    }

    private void rotate() throws IOException {
        out.close();
        Files.move(path, path.resolveSibling(path.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
        open();
    }

    public long linesWritten() {
        return linesWritten;
    }

    /** Events the rate limit kept out of the log, since start. */
    public long suppressedTotal() {
        return suppressedTotal;
    }

    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
