package dev.cgbpf.engine.hooks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * net.ipv4.ping_group_range (kernel: ping_init_sock / ping_group_range): the groups whose members
 * may open ICMP echo ("ping") sockets, SOCK_DGRAM with IPPROTO_ICMP or IPPROTO_ICMPV6 (the IPv6 ones
 * use the same sysctl). Anyone else gets EACCES from the protocol's init, before any sock_create
 * program runs. The default range "1 0" is empty. The caller is the probing process: its real
 * group and supplementary groups from /proc/self/status, as the kernel checks the task's.
 */
final class PingGroupRange {
    private static final Path RANGE = Path.of("/proc/sys/net/ipv4/ping_group_range");
    private static final Path STATUS = Path.of("/proc/self/status");

    private PingGroupRange() {
    }

    /** Whether the probing process may create a ping socket; false when either file is unreadable. */
    static boolean allowsCaller() {
        try {
            String[] range = read(RANGE).strip().split("\\s+");
            long lo = Long.parseLong(range[0]);
            long hi = Long.parseLong(range[1]);
            for (long gid : callerGroups(read(STATUS))) {
                if (gid >= lo && gid <= hi) {
                    return true;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false; // the default range, "1 0", admits nobody
        }
    }

    /** The real gid and the supplementary groups of a /proc/PID/status text. */
    static List<Long> callerGroups(String status) {
        List<Long> out = new ArrayList<>();
        for (String line : status.split("\n")) {
            if (line.startsWith("Gid:")) {
                out.add(Long.parseLong(line.substring(4).strip().split("\\s+")[0]));
            } else if (line.startsWith("Groups:")) {
                for (String g : line.substring(7).strip().split("\\s+")) {
                    if (!g.isEmpty()) {
                        out.add(Long.parseLong(g));
                    }
                }
            }
        }
        return out;
    }

    /** procfs reports size 0: a stream, not Files.readString, which can come back short. */
    private static String read(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }
}
