package dev.cgbpf.hook.policy;

import java.util.List;
import java.util.Set;

/**
 * The merged network rules of a container.
 *
 * @param bind the container's own addresses; empty means no bind/connect/sendmsg programs
 * @param bindMode what happens to binds to other addresses
 * @param bindPorts allowed non-zero bind ports; empty means any port
 * @param denySockets socket kinds refused at socket(2)
 */
public record NetworkPolicy(BindAddresses bind, BindMode bindMode, List<PortRange> bindPorts, Set<SocketRule> denySockets) {
    public NetworkPolicy {
        bindPorts = List.copyOf(bindPorts);
        denySockets = SocketRule.sorted(denySockets);
    }

    public static final NetworkPolicy NONE = new NetworkPolicy(BindAddresses.NONE, BindMode.REWRITE, List.of(), Set.of());
}
