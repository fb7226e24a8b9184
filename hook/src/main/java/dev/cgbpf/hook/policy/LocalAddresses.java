package dev.cgbpf.hook.policy;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;

/**
 * Whether an address belongs to this machine, so that a container may be bound to it: any
 * loopback address (127.0.0.0/8 is routed locally as a whole, ::1) or an address assigned to one
 * of the host's interfaces.
 */
@FunctionalInterface
public interface LocalAddresses {
    boolean isLocal(InetAddress a);

    /**
     * The host's view now, taken once: for many questions in a row (a pool searched for a free
     * address) without enumerating the interfaces for each.
     */
    static LocalAddresses snapshot() {
        java.util.Set<InetAddress> own = new java.util.HashSet<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                own.addAll(Collections.list(ni.getInetAddresses()));
            }
        } catch (SocketException e) {
            // no interfaces readable: loopback only
        }
        return a -> a.isLoopbackAddress() || own.contains(a);
    }

    /** The host's view, from the loopback rule and the interface addresses. */
    LocalAddresses HOST = a -> {
        if (a.isLoopbackAddress()) {
            return true;
        }
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress own : Collections.list(ni.getInetAddresses())) {
                    if (own.equals(a)) {
                        return true;
                    }
                }
            }
        } catch (SocketException e) {
            return false;
        }
        return false;
    };
}
