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
