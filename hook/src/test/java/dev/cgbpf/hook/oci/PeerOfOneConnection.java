package dev.cgbpf.hook.oci;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Accepts one connection on a host-side listener in the background and keeps the peer's address:
 * where a container's connect came from, the test's view of its bind address.
 */
final class PeerOfOneConnection {
    private final Thread acceptor;
    private volatile String peer = "no connection";

    PeerOfOneConnection(ServerSocket listener) {
        acceptor = new Thread(() -> {
            try (Socket s = listener.accept()) {
                peer = s.getInetAddress().getHostAddress();
            } catch (IOException e) {
                peer = "accept failed: " + e.getMessage();
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The peer's address once accepted (or why not), waiting up to {@code millis}. */
    String await(long millis) throws InterruptedException {
        acceptor.join(millis);
        return peer;
    }
}
