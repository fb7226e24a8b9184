package dev.cgbpf.hook.daemon;

import dev.cgbpf.hook.oci.Secure;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code cgbpf daemon --detach}: the same java command line started again, without
 * {@code --detach}, in a session of its own ({@code setsid(1)}; a JVM cannot fork itself), its
 * stdin /dev/null and its stdout and stderr appended to the log file. This process waits until
 * the child serves (its pid file written and its status answered on the socket) or failed, and
 * says which in one line.
 */
public final class Detach {
    public static final Path DEFAULT_PID_FILE = Path.of("/run/cgbpf/cgbpf-daemon.pid");
    public static final Path DEFAULT_LOG_FILE = Path.of("/var/log/cgbpf/daemon.log");
    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private Detach() {
    }

    /** The detached daemon: its pid. */
    public record Started(long pid) {
    }

    /**
     * Starts the detached daemon and waits for it.
     *
     * @param mainArgs this JVM's main arguments (the subcommand and its options, as given); the
     *                 command line must end with them
     * @param childArgs the main arguments for the child
     */
    public static Started start(List<String> mainArgs, List<String> childArgs, Path socket, Path pidFile, Path logFile)
            throws Daemon.StartException {
        ProcessHandle.Info info = ProcessHandle.current().info();
        Optional<String> java = info.command();
        Optional<String[]> args = info.arguments();
        if (java.isEmpty() || args.isEmpty()) {
            throw new Daemon.StartException("--detach: cannot read this JVM's command line; run the daemon in the"
                    + " foreground under a supervisor instead");
        }
        List<String> all = List.of(args.get());
        if (all.size() < mainArgs.size() || !all.subList(all.size() - mainArgs.size(), all.size()).equals(mainArgs)) {
            throw new Daemon.StartException("--detach: this JVM's command line does not end with its arguments "
                    + String.join(" ", mainArgs) + "; run the daemon in the foreground under a supervisor instead");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add("setsid");
        cmd.add(java.get());
        cmd.addAll(all.subList(0, all.size() - mainArgs.size()));
        cmd.addAll(childArgs);
        openLog(logFile);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectErrorStream(true);
        // glibc gives each thread that allocates natively an arena of its own; two keep the
        // resident size of a long-running JVM with a pool of threads flat
        pb.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
        Process child;
        long logSizeBefore = size(logFile);
        try {
            child = pb.start();
        } catch (IOException e) {
            throw new Daemon.StartException("--detach: cannot start " + String.join(" ", cmd.subList(0, 2)) + ": "
                    + e.getMessage() + (e.getMessage() != null && e.getMessage().contains("setsid")
                    ? " (setsid(1) is in util-linux)" : ""));
        }
        long end = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < end) {
            if (!child.isAlive() && child.exitValue() != 0) {
                throw new Daemon.StartException("the detached daemon exited with status " + child.exitValue() + ": "
                        + lastLine(logFile, logSizeBefore).orElse("(nothing in " + logFile + ")"));
            }
            long pid = readPid(pidFile);
            if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                DaemonProbe.Result r = DaemonProbe.status(socket, Duration.ofSeconds(5));
                if (r.answers() && r.pid() == pid) {
                    return new Started(pid);
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new Daemon.StartException("the detached daemon did not answer on " + socket + " within "
                + READY_TIMEOUT.toSeconds() + " s; see " + logFile);
    }

    /** The log file, made 0600 (its directory 0700) when it is not there yet. */
    public static void openLog(Path logFile) throws Daemon.StartException {
        try {
            Path dir = logFile.toAbsolutePath().getParent();
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Secure.mkdirs(dir);
            }
            try {
                Files.createFile(logFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isRegularFile(logFile, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException(logFile + " is not a regular file (or is a symbolic link)");
                }
            }
        } catch (IOException e) {
            throw new Daemon.StartException("cannot open the log file " + logFile + ": " + e.getMessage());
        }
    }

    private static long readPid(Path pidFile) {
        try {
            return Long.parseLong(Files.readString(pidFile).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }

    /** The last non-empty line the child wrote to the log. */
    private static Optional<String> lastLine(Path log, long from) {
        try {
            byte[] all = Files.readAllBytes(log);
            String text = new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from),
                    StandardCharsets.UTF_8);
            List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
            return lines.isEmpty() ? Optional.empty() : Optional.of(lines.get(lines.size() - 1).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
