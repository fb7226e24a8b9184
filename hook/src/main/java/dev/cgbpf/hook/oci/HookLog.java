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
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * The hook's log: every line goes through slf4j (stderr, at the level slf4j-simple is set to)
 * and is appended to the hook's own log file, one line per event with time, container and stage,
 * because a runtime shows a hook's stderr only when the hook fails. A log file that cannot be
 * written never fails a hook: the line still goes to slf4j.
 */
public final class HookLog {
    private static final Logger LOG = LoggerFactory.getLogger("cgbpf.hook");

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
        LOG.info("{}: {}", context, msg);
        append("INFO", msg);
    }

    public void warn(String msg) {
        LOG.warn("{}: {}", context, msg);
        append("WARN", msg);
    }

    /** A failure: the caller prints the one line on stderr itself, so slf4j gets it at debug level. */
    public void failure(String msg) {
        LOG.debug("{}: {}", context, msg);
        append("ERROR", msg);
    }

    private void append(String level, String msg) {
        if (file == null || fileBroken) {
            return;
        }
        String line = OffsetDateTime.now().truncatedTo(ChronoUnit.MILLIS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)
                + " " + level + " " + context + ": " + msg.replace('\n', ' ') + "\n";
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
            LOG.warn("cannot write the hook log {}: {}", file, e.getMessage());
        }
    }
}
