package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.interp.Machine;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * A socket as sockmaps and sockhashes hold it (net/core/skmsg.c, struct sk_psock): made for a
 * socket the first time a map takes it, it knows the socket's cookie (what a lookup from user
 * space shows), how to hand the socket to a program (bpf_map_lookup_elem's reference) and the
 * maps that hold it (its links), so that closing the socket takes it out of every one of them
 * (sock_map_close, before the protocol's own close).
 *
 * <p>The socket itself belongs to the socket layer (hooks), which this package does not know:
 * it gives the cookie and the reference as functions.
 */
public final class Psock {
    private final LongSupplier cookie;
    private final ToLongFunction<Machine> acquire;
    /** The maps holding the socket, once per element (sk_psock_link): a map may hold it at several keys. */
    private final List<SockMapBase> links = new ArrayList<>();

    public Psock(LongSupplier cookie, ToLongFunction<Machine> acquire) {
        this.cookie = cookie;
        this.acquire = acquire;
    }

    /** sock_gen_cookie: the socket's cookie, as bpf_get_socket_cookie gives it to programs. */
    long cookie() {
        return cookie.getAsLong();
    }

    /** The socket as a referenced PTR_TO_SOCKET of {@code m}'s run (sock_map_lookup), 0 when none can be made. */
    long acquire(Machine m) {
        return acquire.applyAsLong(m);
    }

    synchronized void link(SockMapBase map) {
        links.add(map);
    }

    synchronized void unlink(SockMapBase map) {
        links.remove(map);
    }

    /** sock_map_close, then sock_map_remove_links: the socket leaves every map that holds it. */
    public void close() {
        List<SockMapBase> held;
        synchronized (this) {
            held = List.copyOf(links);
        }
        for (SockMapBase map : held) {
            map.removeSock(this);
        }
    }
}
