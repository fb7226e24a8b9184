package dev.cgbpf.hook.daemon;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks whoever listens on a daemon socket for its {@code status}: for {@code cgbpf doctor}, for a
 * daemon that must not start next to a running one, and for {@code --detach} waiting for its child.
 */
public final class DaemonProbe {
    private DaemonProbe() {
    }

    /** What was found at the socket. */
    public enum State {
        /** a cgbpf daemon answered the status request */
        ANSWERS,
        /** no file at the path */
        NO_SOCKET,
        /** a socket file nobody listens on (ECONNREFUSED): left by a daemon that was killed */
        STALE,
        /** something listens but did not answer as a cgbpf daemon does (refused us, garbage, timeout) */
        NO_ANSWER,
        /** the socket cannot be reached (permissions, not a socket) */
        UNREACHABLE
    }

    /**
     * @param pid the daemon's pid from its status answer, or -1
     * @param detail one line: what answered, or why not
     * @param lines the answer's lines (the {@code info} lines of a status)
     */
    public record Result(State state, long pid, String detail, List<String> lines) {
        public boolean answers() {
            return state == State.ANSWERS;
        }
    }

    /** Sends {@code cgbpf-hook 1 status} to {@code socket} and reads the answer, within {@code timeout}. */
    public static Result status(Path socket, Duration timeout) {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return new Result(State.NO_SOCKET, -1, "no socket at " + socket, List.of());
        }
        long end = System.nanoTime() + timeout.toNanos();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (ConnectException e) {
                return new Result(State.STALE, -1, "a socket at " + socket + " that nobody listens on (stale)",
                        List.of());
            } catch (IOException e) {
                return new Result(State.UNREACHABLE, -1, "cannot reach " + socket + ": " + e.getMessage(), List.of());
            }
            ch.write(ByteBuffer.wrap((Protocol.MAGIC + " " + Protocol.VERSION + " " + Protocol.STATUS + "\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            ch.shutdownOutput();
            List<String> lines = readLines(ch, end);
            long pid = -1;
            for (String l : lines) {
                if (l.startsWith(Protocol.INFO + " daemon ")) {
                    for (String w : l.split(" ")) {
                        if (w.startsWith("pid=")) {
                            try {
                                pid = Long.parseLong(w.substring(4));
                            } catch (NumberFormatException e) {
                                // left at -1
                            }
                        }
                    }
                }
            }
            if (!lines.isEmpty() && lines.get(0).equals(Protocol.ACCEPTED)
                    && lines.get(lines.size() - 1).equals(Protocol.EXIT + " 0") && pid > 0) {
                return new Result(State.ANSWERS, pid, "a cgbpf daemon answers on " + socket + " (pid " + pid + ")",
                        lines);
            }
            String what = lines.isEmpty() ? "no answer" : "answer " + String.join(" | ", lines);
            return new Result(State.NO_ANSWER, -1, "something listens on " + socket + " but " + what, lines);
        } catch (IOException e) {
            return new Result(State.NO_ANSWER, -1, "something listens on " + socket + " but the status request"
                    + " failed: " + e.getMessage(), List.of());
        }
    }

    /** Every line until the end of the answer or {@code endNanos}. */
    static List<String> readLines(SocketChannel ch, long endNanos) throws IOException {
        ch.configureBlocking(false);
        java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
        try (Selector sel = Selector.open()) {
            ch.register(sel, SelectionKey.OP_READ);
            ByteBuffer buf = ByteBuffer.allocate(4096);
            while (text.size() < 1 << 20) {
                long left = (endNanos - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    break;
                }
                sel.select(left);
                sel.selectedKeys().clear();
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                text.write(buf.array(), 0, n);
            }
        }
        return new ArrayList<>(text.toString(StandardCharsets.UTF_8).lines().toList());
    }
}
