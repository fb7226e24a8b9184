package dev.cgbpf.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * net.ipv4.ip_local_port_range: where the kernel picks a port for a bind to port 0 (for IPv6
 * sockets too). Read at each use: an administrator may change it at any time.
 */
record LocalPortRange(int low, int high) {
    static final Path SYSCTL = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

    static LocalPortRange current() {
        try {
            return parse(ProcFile.read(SYSCTL));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + SYSCTL + ": " + e.getMessage(), e);
        }
    }

    static LocalPortRange parse(String text) {
        String[] t = text.strip().split("\\s+");
        return new LocalPortRange(Integer.parseInt(t[0]), Integer.parseInt(t[1]));
    }

    boolean contains(int port) {
        return port >= low && port <= high;
    }
}
