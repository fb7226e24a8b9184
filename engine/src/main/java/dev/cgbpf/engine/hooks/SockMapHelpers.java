package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.maps.Psock;
import dev.cgbpf.engine.maps.SockMapBase;

/**
 * bpf_sock_map_update (53) and bpf_sock_hash_update (70), sock_ops' way to put its socket into a
 * sockmap or sockhash (net/core/sock_map.c), and the sockets' side of those maps: the
 * {@link Psock} a socket gets when a map first takes it, which closing the socket empties.
 */
final class SockMapHelpers {
    static final int SOCK_MAP_UPDATE = 53;
    static final int SOCK_HASH_UPDATE = 70;

    private SockMapHelpers() {
    }

    /**
     * long bpf_sock_map_update(skops, map, key, flags) and bpf_sock_hash_update: the map's update
     * with the callback's socket, when the callback is one of sock_map_op_okay's (an established
     * connection, active or passive, or a listen) and the socket one a map can hold
     * (sock_map_sk_is_suitable: every TCP socket is); -EOPNOTSUPP otherwise. The verifier has
     * paired the helper with its map type.
     */
    static long update(Machine m, long ctx, long map, long key, long flags, long r5) {
        if (!(m.region(ctx, 1, false).ctx() instanceof BpfSockOpsCtx c)) {
            throw new Fault("bpf_sock_map_update: R1 is not the sock_ops context");
        }
        if (!(m.mapObject(map).map() instanceof SockMapBase sm)) {
            throw new Fault("bpf_sock_map_update: R2 is not a sockmap or sockhash");
        }
        int op = c.op();
        InetSock sk = m.env(HookEnv.class).sock();
        boolean opOkay = op == SockOpsHook.ACTIVE_ESTABLISHED_CB || op == SockOpsHook.PASSIVE_ESTABLISHED_CB
                || op == SockOpsHook.TCP_LISTEN_CB;
        if (sk == null || !opOkay) {
            return -Errnos.EOPNOTSUPP;
        }
        return sm.updateSock(m.readBytes(key, sm.spec().keySize()), psockOf(sk), flags);
    }

    /** sk_psock_init at a map's first update: the socket's cookie and its pointer for a program's lookup. */
    static synchronized Psock psockOf(InetSock sk) {
        if (sk.psock == null) {
            sk.psock = new Psock(() -> SockCookie.of(sk), m -> SockLookup.acquire(m, sk, BpfSockCtx.View.SOCKET));
        }
        return sk.psock;
    }

    /** sock_map_close: a closing socket leaves every map that holds it. */
    static void close(InetSock sk) {
        Psock p;
        synchronized (SockMapHelpers.class) {
            p = sk.psock;
        }
        if (p != null) {
            p.close();
        }
    }
}
