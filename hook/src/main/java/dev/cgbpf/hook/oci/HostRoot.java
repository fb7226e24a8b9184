package dev.cgbpf.hook.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Whether the hook runs as root of the host: uid 0 in the initial user namespace, the only place
 * where the kernel lets a process load and attach cgroup-bpf programs (CAP_BPF and
 * CAP_NET_ADMIN/CAP_SYS_ADMIN count in the initial namespace only). A rootless runtime (podman
 * run by a user) runs its hooks as that user, inside its user namespace: there the hook can do
 * nothing, and says so in one line instead of failing on whatever it tries first.
 */
final class HostRoot {
    /** /proc/PID/uid_map of the initial user namespace: every uid maps to itself. */
    private static final String IDENTITY = "0 0 4294967295";

    private HostRoot() {
    }

    /**
     * Why this process is not root of the host, or empty when it is (or when {@code procRoot}
     * has no {@code self}: a test's fake /proc, which cannot tell).
     */
    static Optional<String> missing(Path procRoot) {
        Path self = procRoot.resolve("self");
        try {
            List<String> map = Files.readAllLines(self.resolve("uid_map")).stream()
                    .map(l -> String.join(" ", l.strip().split("\\s+"))).filter(l -> !l.isEmpty()).toList();
            if (!map.equals(List.of(IDENTITY))) {
                String first = map.isEmpty() ? "none" : map.get(0);
                String[] f = first.split(" ");
                String who = f.length == 3 && f[0].equals("0") ? "its uid 0 is uid " + f[1] + " of the host"
                        : "uid map '" + first + "'";
                return Optional.of("rootless container: the hook runs in a user namespace (" + who + "), and only"
                        + " root of the host can attach cgroup-bpf programs; cgbpf cannot enforce a policy for"
                        + " rootless containers (run it as root, or take cgbpf's hooks out of the rootless"
                        + " runtime's configuration)");
            }
            for (String l : Files.readAllLines(self.resolve("status"))) {
                if (l.startsWith("Uid:")) {
                    String[] ids = l.substring(4).strip().split("\\s+");
                    if (ids.length >= 2 && !ids[1].equals("0")) {
                        return Optional.of("the hook runs as uid " + ids[1] + ", not root: only root can attach"
                                + " cgroup-bpf programs");
                    }
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
