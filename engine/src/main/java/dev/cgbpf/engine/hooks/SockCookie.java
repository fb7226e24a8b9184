package dev.cgbpf.engine.hooks;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The cookies the kernel hands out for sockets and network namespaces (net/core/sock_diag.c
 * sock_gen_cookie, net/core/net_namespace.c): a socket gets a unique, non-zero number from a
 * counter the first time anyone asks for it and keeps it for its life; a network namespace gets
 * one when it is made.
 *
 * <p>The engine's numbers come from its own counter, so they are not the host's (the kernel's
 * counters run over every socket and namespace since boot; observed on 6.18: init_net's cookie
 * was 3), but they have the kernel's properties. The engine models one network namespace, the
 * one its probes and test runs use.
 */
final class SockCookie {
    /** The cookie of the engine's only network namespace. */
    static final long NETNS_COOKIE = 1;

    private static final AtomicLong LAST = new AtomicLong();

    private SockCookie() {
    }

    /** sock_gen_cookie: the socket's cookie, made at the first call and kept in the socket. */
    static long of(InetSock sk) {
        synchronized (sk) {
            if (sk.cookie == 0) {
                sk.cookie = LAST.incrementAndGet();
            }
            return sk.cookie;
        }
    }
}
