package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.Probe;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The helper endpoints of the scenario {@code listen} op: real loopback sockets in the runner's
 * own process, so outside every scenario cgroup and untouched by its programs. TCP listeners
 * accept and drop connections (a connect probe only needs the handshake); UDP listeners are read
 * by {@link #awaitDatagram} to tell where a sendmsg probe's datagram arrived.
 */
final class LoopbackListeners implements AutoCloseable {
    private record Listener(Sock sock, InetAddress addr, int port, Probe.Proto proto) {
    }

    private final List<Listener> listeners = new ArrayList<>();

    /**
     * Opens a listener. TCP ones take SO_REUSEADDR, as servers do, so that a port whose earlier
     * connections linger in TIME_WAIT can be listened on again; two listeners on one address
     * still fail with EADDRINUSE. UDP ones do not (there it would allow a second bind).
     */
    void listen(InetAddress addr, int port, Probe.Proto proto) throws ErrnoException {
        int family = addr.getAddress().length == 4 ? SockAddr.AF_INET : SockAddr.AF_INET6;
        int type = (proto == Probe.Proto.TCP ? Sock.SOCK_STREAM : Sock.SOCK_DGRAM) | Sock.SOCK_NONBLOCK;
        Sock s = Sock.open(family, type, 0);
        try {
            if (proto == Probe.Proto.TCP) {
                s.setInt(Sock.SOL_SOCKET, Sock.SO_REUSEADDR, 1);
            }
            s.bind(new SockAddr(addr, port));
            if (proto == Probe.Proto.TCP) {
                s.listen(128);
            }
            SockAddr bound = s.localAddress();
            listeners.add(new Listener(s, bound.addr(), bound.port(), proto));
        } catch (ErrnoException e) {
            s.close();
            throw e;
        }
    }

    /** The fd of the listener at addr:port of this protocol, -1 when there is none. */
    int fd(InetAddress addr, int port, Probe.Proto proto) {
        for (Listener l : listeners) {
            if (l.addr().equals(addr) && l.port() == port && l.proto() == proto) {
                return l.sock().fd();
            }
        }
        return -1;
    }

    /** Accepts and closes whatever connections are pending, so that backlogs never fill. */
    void drainConnections() {
        for (Listener l : listeners) {
            if (l.proto() == Probe.Proto.TCP) {
                while (l.sock().acceptAndClose()) {
                    // keep going
                }
            }
        }
    }

    /** Throws away datagrams that arrived earlier (late or foreign ones must not answer a probe). */
    void drainDatagrams() {
        for (Listener l : listeners) {
            if (l.proto() == Probe.Proto.UDP) {
                while (l.sock().receive() != null) {
                    // keep going
                }
            }
        }
    }

    /**
     * Waits up to {@code timeoutMs} for the datagram carrying {@code payload} at any UDP listener;
     * null when none arrived.
     */
    Probe.Delivered awaitDatagram(byte[] payload, long timeoutMs) throws ErrnoException {
        List<Listener> udp = listeners.stream().filter(l -> l.proto() == Probe.Proto.UDP).toList();
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (true) {
            for (Listener l : udp) {
                Sock.Datagram d;
                while ((d = l.sock().receive()) != null) {
                    if (Arrays.equals(d.payload(), payload)) {
                        return new Probe.Delivered(l.addr(), l.port(), d.from().addr());
                    }
                }
            }
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return null;
            }
            if (udp.isEmpty()) {
                return null; // nobody could receive it
            }
            byte[] fds = new byte[8 * udp.size()];
            for (int i = 0; i < udp.size(); i++) {
                System.arraycopy(Sock.pollfd(udp.get(i).sock().fd(), Sock.POLLIN), 0, fds, 8 * i, 8);
            }
            if (LibC.INSTANCE.poll(fds, udp.size(), (int) Math.min(left, Integer.MAX_VALUE)) < 0
                    && SysErrno.last() != 4 /* EINTR */) {
                throw ErrnoException.last("poll");
            }
        }
    }

    @Override
    public void close() {
        listeners.forEach(l -> l.sock().close());
        listeners.clear();
    }
}
