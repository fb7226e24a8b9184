package dev.cgbpf.hook.daemon;

import java.io.PrintStream;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * The daemon's own log: start, stop, refused peers, malformed requests, deadlines, failures of
 * its own. One line per event with the time; what a stage does for a container goes to the
 * hook's log as with {@code cgbpf hook}.
 */
public final class DaemonLog {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    private final PrintStream out;

    /** @param out stderr in the foreground, the log file otherwise */
    public DaemonLog(PrintStream out) {
        this.out = out;
    }

    public void info(String msg) {
        line("INFO", msg);
    }

    public void warn(String msg) {
        line("WARN", msg);
    }

    private void line(String level, String msg) {
        String t = OffsetDateTime.now().truncatedTo(ChronoUnit.MILLIS).format(TIME);
        synchronized (out) {
            out.println(t + " " + level + " cgbpf daemon: " + msg.replace('\n', ' '));
            out.flush();
        }
    }
}
