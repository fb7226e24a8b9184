package dev.cgbpf.hook.oci;

import dev.cgbpf.hook.policy.BindAddresses;
import dev.cgbpf.hook.policy.BindRequest;
import dev.cgbpf.hook.policy.LocalAddresses;
import dev.cgbpf.hook.policy.Policy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Bind addresses are a resource: the records of the containers whose cgroups still exist say
 * which addresses are held, and a container gets one only when nobody holds it (unless the host
 * policy lets containers share: {@code network.shareBindAddresses}). Called under the run
 * directory's lock, and the caller writes the container's record before it lets go, so two
 * containers starting at once cannot both take the same address.
 */
final class BindAddressLeases {
    private BindAddressLeases() {
    }

    /** The policy with its bind addresses checked against, or picked from, what is free. */
    static Policy take(Policy policy, List<RunDir.Entry> records, String ownKey) throws HookException {
        BindRequest req = policy.bindRequest();
        if (!req.auto() && policy.network().bind().isEmpty()) {
            return policy;
        }
        Map<InetAddress, String> held = new HashMap<>();
        for (RunDir.Entry e : records) {
            AttachRecord r = e.record();
            if (e.files().key().equals(ownKey)
                    || ContainerCgroup.liveness(r.cgroup(), r.cgroupId()) == ContainerCgroup.Liveness.GONE) {
                continue;
            }
            for (String a : r.bindAddresses()) {
                try {
                    held.put(InetAddress.getByName(a), r.id());
                } catch (UnknownHostException ex) {
                    // records hold literals only; one that is not is nobody's address
                }
            }
        }
        if (req.auto()) {
            InetAddress a = req.pool().firstFree(req.shared() ? java.util.Set.of() : held.keySet(),
                            LocalAddresses.snapshot()::isLocal)
                    .orElseThrow(() -> new HookException("annotation " + Policy.BIND_IP + ": auto: no free address"
                            + " left in the host policy's network.bindAddressPool " + req.pool()));
            return policy.withBind(BindAddresses.of(a));
        }
        if (!req.shared()) {
            for (InetAddress a : policy.network().bind().all()) {
                String holder = held.get(a);
                if (holder != null) {
                    throw new HookException("annotation " + Policy.BIND_IP + ": " + a.getHostAddress()
                            + " is held by running container " + holder + " (the host policy does not let containers"
                            + " share bind addresses)");
                }
            }
        }
        return policy;
    }
}
