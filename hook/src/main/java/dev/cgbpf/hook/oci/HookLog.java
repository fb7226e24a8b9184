package dev.cgbpf.hook.oci;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.TimeZone;

/**
 * The hook's log: every line goes through slf4j (stderr, at the level slf4j-simple is set to)
 * and is appended to the hook's own log file, one line per event with time, container and stage,
 * because a runtime shows a hook's stderr only when the hook fails. A log file that cannot be
 * written never fails a hook: the line still goes to slf4j.
 *
 * <p>Why slf4j is asked only when a line would reach it, and why the time is formatted by hand:
 * without the daemon every hook stage is a JVM of its own, and starting slf4j-simple (a service
 * lookup through the jar) and java.time's formatters cost ~15 ms and ~30 ms of it. The level
 * that decides is slf4j-simple's default level, {@value #LEVEL_PROPERTY} (info when unset;
 * {@code cgbpf hook} and {@code cgbpf daemon} set it to warn): info lines go to slf4j only at
 * info or below, warnings always.
 */
public final class HookLog {
    static final String LEVEL_PROPERTY = "org.slf4j.simpleLogger.defaultLogLevel";

    /** Started at the first line that goes to slf4j. */
    private static final class Slf4j {
        static final Logger LOG = LoggerFactory.getLogger("cgbpf.hook");
    }

    private final Path file;
    private String context = "";
    private boolean fileBroken;

    /** @param file the log file, or null for slf4j only */
    public HookLog(Path file) {
        this.file = file;
    }

    /** Prefix of the following lines, e.g. "exp1 createRuntime". */
    public void context(String c) {
        this.context = c;
    }

    public void info(String msg) {
        if (slf4jShows("info")) {
            Slf4j.LOG.info("{}: {}", context, msg);
        }
        append("INFO", msg);
    }

    public void warn(String msg) {
        Slf4j.LOG.warn("{}: {}", context, msg);
        append("WARN", msg);
    }

    /** A failure: the caller prints the one line on stderr itself, so slf4j gets it at debug level. */
    public void failure(String msg) {
        if (slf4jShows("debug")) {
            Slf4j.LOG.debug("{}: {}", context, msg);
        }
        append("ERROR", msg);
    }

    private void append(String level, String msg) {
        if (file == null || fileBroken) {
            return;
        }
        String line = timestamp(System.currentTimeMillis(), TimeZone.getDefault()) + " " + level + " " + context + ": " + msg.replace('\n', ' ') + "\n";
        try {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                if (file.getParent() != null) {
                    Secure.mkdirs(file.getParent());
                }
                try {
                    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // another hook made it at the same time
                }
            }
            if (Files.isSymbolicLink(file)) {
                throw new IOException(file + " is a symbolic link");
            }
            Files.write(file, line.getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND,
                    LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException e) {
            fileBroken = true;
            Slf4j.LOG.warn("cannot write the hook log {}: {}", file, e.getMessage());
        }
    }

    /** Whether slf4j-simple at its default level prints a line of {@code level} (trace, debug or info). */
    static boolean slf4jShows(String level) {
        String set = System.getProperty(LEVEL_PROPERTY, "info");
        List<String> order = List.of("trace", "debug", "info", "warn", "error", "off");
        int at = order.indexOf(set.strip().toLowerCase(Locale.ROOT));
        return at < 0 || at <= order.indexOf(level);
    }

    /** ISO 8601 local time with milliseconds and offset: {@code 2026-12-07T07:12:56.245Z}, {@code ...245+01:00}. */
    static String timestamp(long epochMillis, TimeZone zone) {
        int offset = zone.getOffset(epochMillis);
        long local = epochMillis + offset;
        LocalDate day = LocalDate.ofEpochDay(Math.floorDiv(local, 86_400_000L));
        long ms = Math.floorMod(local, 86_400_000L);
        StringBuilder b = new StringBuilder(29);
        pad(b, day.getYear(), 4).append('-');
        pad(b, day.getMonthValue(), 2).append('-');
        pad(b, day.getDayOfMonth(), 2).append('T');
        pad(b, ms / 3_600_000, 2).append(':');
        pad(b, ms / 60_000 % 60, 2).append(':');
        pad(b, ms / 1000 % 60, 2).append('.');
        pad(b, ms % 1000, 3);
        if (offset == 0) {
            return b.append('Z').toString();
        }
        int minutes = Math.abs(offset) / 60_000;
        b.append(offset < 0 ? '-' : '+');
        pad(b, minutes / 60, 2).append(':');
        return pad(b, minutes % 60, 2).toString();
    }

    private static StringBuilder pad(StringBuilder b, long v, int width) {
        String s = Long.toString(v);
        for (int i = s.length(); i < width; i++) {
            b.append('0');
        }
        return b.append(s);
    }
}
