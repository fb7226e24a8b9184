package dev.cgbpf.hookclient;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for {@code cgbpf daemon} on a Unix socket: each connection is handed to a
 * {@link Handler} on a thread of its own, which reads the request ({@link #readRequest}, recorded)
 * and writes whatever answer the test wants, or none. Closing it closes every connection and
 * removes the socket file.
 */
public final class FakeDaemon implements AutoCloseable {
    /** What the daemon does with one connection. */
    @FunctionalInterface
    public interface Handler {
        void handle(FakeDaemon daemon, SocketChannel ch) throws Exception;
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final Handler handler;
    private final List<byte[]> requests = Collections.synchronizedList(new ArrayList<>());
    private final List<SocketChannel> open = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger connections = new AtomicInteger();
    private final Thread acceptor;

    private FakeDaemon(Path socket, Handler handler) throws IOException {
        this.socket = socket;
        this.handler = handler;
        this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        acceptor = new Thread(this::acceptLoop, "fake-daemon-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** A daemon listening on {@code socket} (which must not exist yet). */
    public static FakeDaemon start(Path socket, Handler handler) throws IOException {
        return new FakeDaemon(socket, handler);
    }

    /** A daemon that reads the whole request and then writes {@code answer} and closes. */
    public static Handler answering(String answer) {
        return (d, ch) -> {
            d.readRequest(ch);
            send(ch, answer);
        };
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel ch;
            try {
                ch = server.accept();
            } catch (IOException e) {
                return;
            }
            connections.incrementAndGet();
            open.add(ch);
            Thread t = new Thread(() -> {
                try (ch) {
                    handler.handle(this, ch);
                } catch (Exception e) {
                    // the client went away, or the test closed the daemon
                }
            }, "fake-daemon-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    /** The request up to the client's shutdown(SHUT_WR), recorded in {@link #requests()}. */
    public byte[] readRequest(SocketChannel ch) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(65536);
        while (ch.read(b) >= 0) {
            out.write(b.array(), 0, b.position());
            b.clear();
        }
        byte[] req = out.toByteArray();
        requests.add(req);
        return req;
    }

    public static void send(SocketChannel ch, String text) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    public Path socket() {
        return socket;
    }

    /** The requests read so far, in order. */
    public List<byte[]> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /** How many connections were accepted. */
    public int connections() {
        return connections.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (open) {
            for (SocketChannel ch : open) {
                ch.close();
            }
        }
        Files.deleteIfExists(socket);
    }
}
