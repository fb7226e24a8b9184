package dev.cgbpf.hook.daemon;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The test side of the daemon's protocol, as the C client {@code cgbpf-hook} speaks it: connect,
 * send the request, shut down the write side, read the answer to its end. Only JDK classes, so
 * that {@link #main} runs from the test classes alone (under another uid, with setpriv).
 */
public final class DaemonClient {
    private DaemonClient() {
    }

    /**
     * An answer.
     *
     * @param lines every line, without newlines
     * @param failure why the exchange broke off (connect failed, reset), or null
     * @param acceptedNanos from connect to the {@code accepted} line, or -1
     * @param totalNanos from connect to the end of the answer
     */
    public record Answer(List<String> lines, String failure, long acceptedNanos, long totalNanos) {
        public boolean accepted() {
            return !lines.isEmpty() && lines.get(0).equals("accepted");
        }

        /** The exit status, or null when the answer has none (the daemon died, or refused the peer). */
        public Integer exit() {
            if (lines.isEmpty()) {
                return null;
            }
            String last = lines.get(lines.size() - 1);
            return last.startsWith("exit ") ? Integer.valueOf(last.substring(5)) : null;
        }

        public String error() {
            return word("error ");
        }

        public String warning() {
            return word("warning ");
        }

        private String word(String w) {
            return lines.stream().filter(l -> l.startsWith(w)).map(l -> l.substring(w.length())).findFirst().orElse(null);
        }

        @Override
        public String toString() {
            return String.join(" | ", lines) + (failure == null ? "" : " [" + failure + "]");
        }
    }

    /** The request for {@code stage}: header, env lines, state. */
    public static byte[] request(String stage, Map<String, String> env, byte[] state) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(("cgbpf-hook 1 " + stage + "\n").getBytes(StandardCharsets.UTF_8));
        env.forEach((k, v) -> b.writeBytes(("env " + k + "=" + v + "\n").getBytes(StandardCharsets.UTF_8)));
        if (state != null) {
            b.writeBytes(("state " + state.length + "\n").getBytes(StandardCharsets.UTF_8));
            b.writeBytes(state);
        }
        return b.toByteArray();
    }

    public static Answer call(Path socket, String stage, Map<String, String> env, byte[] state) {
        return raw(socket, request(stage, env, state), true);
    }

    /** Sends {@code bytes} as they are; {@code shutdown}: then shuts down the write side, as a client must. */
    public static Answer raw(Path socket, byte[] bytes, boolean shutdown) {
        long t0 = System.nanoTime();
        List<String> lines = new ArrayList<>();
        long accepted = -1;
        String failure = null;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            try {
                ByteBuffer out = ByteBuffer.wrap(bytes);
                while (out.hasRemaining()) {
                    ch.write(out);
                }
                if (shutdown) {
                    ch.shutdownOutput();
                }
            } catch (IOException e) {
                // the daemon may answer and close before it read everything: read its answer anyway
                failure = "write: " + e.getMessage();
            }
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            ByteBuffer in = ByteBuffer.allocate(4096);
            try {
                while (ch.read(in.clear()) > 0) {
                    in.flip();
                    while (in.hasRemaining()) {
                        byte c = in.get();
                        if (c == '\n') {
                            lines.add(line.toString(StandardCharsets.UTF_8));
                            line.reset();
                            if (lines.size() == 1 && lines.get(0).equals("accepted")) {
                                accepted = System.nanoTime() - t0;
                            }
                        } else {
                            line.write(c);
                        }
                    }
                }
                if (line.size() > 0) {
                    lines.add(line.toString(StandardCharsets.UTF_8) + "<no newline>");
                }
            } catch (IOException e) {
                failure = (failure == null ? "" : failure + "; ") + "read: " + e.getMessage();
            }
        } catch (IOException e) {
            failure = "connect: " + e.getMessage();
        }
        return new Answer(List.copyOf(lines), failure, accepted, System.nanoTime() - t0);
    }

    /**
     * {@code DaemonClient SOCKET STAGE [STATE-JSON]}: one request; prints each answer line, then
     * {@code failure: ...} if the exchange broke off.
     */
    public static void main(String[] args) {
        byte[] state = args.length > 2 ? args[2].getBytes(StandardCharsets.UTF_8) : null;
        Answer a = call(Path.of(args[0]), args[1], Map.of(), state);
        a.lines().forEach(System.out::println);
        if (a.failure() != null) {
            System.out.println("failure: " + a.failure());
        }
    }
}
