package dev.cgbpf.hook.daemon;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A request to the daemon from a cgbpf command (as {@code cgbpf-hook} sends its stages): the
 * kind, the {@code CGBPF_*} settings of {@code env} the daemon takes, and a body. No daemon
 * (no socket, nobody listening, no access) is an empty answer, and the command then does the
 * work in its own process, as the client falls back to the JVM hook.
 */
public final class DaemonCall {
    private DaemonCall() {
    }

    /** The answer's lines (accepted, info/warning/error lines, exit N), or empty when no daemon listens. */
    public static Optional<List<String>> ask(Path socket, String kind, Map<String, String> env, byte[] body,
                                             Duration timeout) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                return Optional.empty();
            }
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            req.writeBytes((Protocol.MAGIC + " " + Protocol.VERSION + " " + kind + "\n").getBytes(StandardCharsets.UTF_8));
            for (String k : Protocol.ENV_KEYS) {
                String v = env.get(k);
                if (v != null && v.indexOf('\n') < 0) {
                    req.writeBytes(("env " + k + "=" + v + "\n").getBytes(StandardCharsets.UTF_8));
                }
            }
            req.writeBytes(("state " + body.length + "\n").getBytes(StandardCharsets.UTF_8));
            req.writeBytes(body);
            ByteBuffer out = ByteBuffer.wrap(req.toByteArray());
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ch.shutdownOutput();
            return Optional.of(DaemonProbe.readLines(ch, System.nanoTime() + timeout.toNanos()));
        }
    }
}
