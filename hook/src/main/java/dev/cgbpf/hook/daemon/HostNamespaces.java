package dev.cgbpf.hook.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Whether this process runs in the host's PID and mount namespaces, which the daemon needs: it
 * finds a container's cgroup through {@code /proc/PID/cgroup} of the pid in the runtime's state
 * (a host pid), and the bundle, cgroup and bpffs paths of a request are host paths.
 *
 * <p>The direct test compares {@code /proc/self/ns/pid} and {@code /proc/self/ns/mnt} with
 * {@code /proc/1/ns/...}. That alone passes in a container with its own /proc (its processes
 * share the namespaces of the PID 1 they see), and reading PID 1's links needs ptrace access
 * to it, which even root can lack (PID 1 with a capability this process does not have, an LSM).
 * So the PID namespace must also be the initial one: this process has one pid only
 * ({@code NSpid} of /proc/self/status: it lives in the namespace this /proc shows) and /proc
 * shows the kernel's threads ({@code kthreadd}, pid 2, parent 0: only the initial namespace has
 * them), which makes /proc/1 the host's init. Its mount namespace is compared by the links or,
 * where they are unreadable, by the mount ids in {@code /proc/PID/mountinfo} (readable by all;
 * a new mount namespace gives every mount it copies a new id).
 */
final class HostNamespaces {
    private HostNamespaces() {
    }

    /** Empty when this process is in the host's PID and mount namespaces; else the one-line reason. */
    static Optional<String> check(Path proc) {
        Optional<String> pid = pidNamespace(proc);
        return pid.isPresent() ? pid : mountNamespace(proc);
    }

    private static Optional<String> pidNamespace(Path proc) {
        String mine = link(proc.resolve("self/ns/pid"));
        String init = link(proc.resolve("1/ns/pid"));
        if (mine != null && init != null && !mine.equals(init)) {
            return Optional.of("it runs in PID namespace " + mine + ", not the host's (" + init + " of PID 1)");
        }
        // equal links only say that this process and the PID 1 it sees share a namespace, which a
        // container's init and its processes do too: the initial namespace is the one with the
        // kernel's threads
        List<String> nspid = statusField(proc.resolve("self/status"), "NSpid:");
        if (nspid != null && nspid.size() != 1) {
            return Optional.of("it runs in a nested PID namespace (NSpid " + String.join(" ", nspid) + ")");
        }
        List<String> name = statusField(proc.resolve("2/status"), "Name:");
        List<String> ppid = statusField(proc.resolve("2/status"), "PPid:");
        if (name == null || ppid == null || !name.equals(List.of("kthreadd")) || !ppid.equals(List.of("0"))) {
            return Optional.of("it runs in a PID namespace without the kernel's threads (pid 2 is not kthreadd),"
                    + " not the host's");
        }
        return Optional.empty();
    }

    private static Optional<String> mountNamespace(Path proc) {
        String mine = link(proc.resolve("self/ns/mnt"));
        String init = link(proc.resolve("1/ns/mnt"));
        if (mine != null && init != null) {
            return mine.equals(init) ? Optional.empty() : Optional.of("it runs in mount namespace " + mine
                    + ", not the host's (" + init + " of PID 1)");
        }
        Set<String> self = mountIds(proc.resolve("self/mountinfo"));
        Set<String> one = mountIds(proc.resolve("1/mountinfo"));
        if (self == null || one == null) {
            return Optional.of("cannot tell its mount namespace: neither " + proc.resolve("1/ns/mnt") + " nor "
                    + proc.resolve("1/mountinfo") + " is readable");
        }
        return self.equals(one) ? Optional.empty()
                : Optional.of("it runs in another mount namespace than PID 1 (their mountinfo lists other mounts)");
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    private static List<String> statusField(Path status, String name) {
        try {
            for (String line : Files.readAllLines(status)) {
                if (line.startsWith(name)) {
                    String v = line.substring(name.length()).strip();
                    return v.isEmpty() ? List.of() : List.of(v.split("\\s+"));
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    private static Set<String> mountIds(Path mountinfo) {
        try {
            Set<String> ids = new HashSet<>();
            for (String line : Files.readAllLines(mountinfo)) {
                int sp = line.indexOf(' ');
                if (sp > 0) {
                    ids.add(line.substring(0, sp));
                }
            }
            return ids;
        } catch (IOException e) {
            return null;
        }
    }
}
