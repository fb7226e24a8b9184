package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.Probe;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The probes of a {@link KernelBackend}: what a task in one of its cgroups experiences, asked of
 * the running kernel. Each probe runs in a {@link ProbeWorker} child process that is moved into
 * the probed cgroup for the probe and back to this process's cgroup afterwards; device nodes for
 * r/w checks and the worker's stderr live in a private directory only root can enter; listeners
 * are sockets of this process ({@link LoopbackListeners}).
 */
final class KernelProbes {
    private static final Logger LOG = LoggerFactory.getLogger(KernelProbes.class);

    // fcntl.h and unistd.h
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 01;
    private static final int O_RDWR = 02;
    private static final int O_NOCTTY = 0400;
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 02000000;
    private static final int R_OK = 4;
    private static final int W_OK = 2;

    /** How long a sendmsg probe waits for its datagram, and a TCP connect for its handshake. */
    static final int DELIVERY_TIMEOUT_MS = 2000;

    private final KernelBackend owner;
    private final KernelFds fds;
    private final KernelCgroupBpf.Sessions sessions;
    private ProbeWorker worker;
    private Path privateDir;
    private final Map<String, Path> deviceNodes = new HashMap<>();
    private final LoopbackListeners listeners = new LoopbackListeners();
    private final AtomicLong seq = new AtomicLong();
    /** Made when a sendmsg probe first needs one: the hook's backends never probe, and a SecureRandom is not free. */
    private String nonce;

    /** @param owner the backend, registered for the shutdown teardown once a private directory exists */
    KernelProbes(KernelBackend owner, KernelFds fds, KernelCgroupBpf.Sessions sessions) {
        this.owner = owner;
        this.fds = fds;
        this.sessions = sessions;
    }

    /**
     * 'm' is one mknod(2) of a node in a private directory; 'r'/'w' a check of a node that this
     * process made there beforehand (outside the cgroup), with the access bits of O_RDONLY,
     * O_WRONLY or O_RDWR. Both checks always run, the mknod first; allowed only when neither is
     * denied with EPERM (ENXIO and the like, no such driver, count as allowed).
     *
     * <p>Block devices are opened with open(2), as a task would: the kernel checks twice there
     * (inode_permission, then blkdev_open's bdev_permission), and a program sees both. Character
     * devices are checked with access(2), which runs the same single check as their open(2)
     * (inode_permission's devcgroup_inode_permission; chrdev_open adds none; the
     * DeviceCheckEquivalenceTest shows it) without calling the driver's open, which for some
     * devices has side effects (a watchdog starts, a tape rewinds, a tty becomes controlling).
     */
    boolean device(String cgroup, Probe.DeviceAccess access) throws BpfException {
        fds.ensureOpen();
        char type = access.type();
        String acc = access.access();
        if ((type != 'c' && type != 'b') || acc.isEmpty() || !acc.chars().allMatch(ch -> "rwm".indexOf(ch) >= 0)) {
            throw new IllegalArgumentException("device access " + access + ": type c or b, access a subset of rwm");
        }
        if (access.major() < 0 || access.major() > 0xfff || access.minor() < 0 || access.minor() > 0xfffff) {
            throw new IllegalArgumentException("device " + access.major() + ":" + access.minor()
                    + " out of range (major 0..4095, minor 0..1048575)");
        }
        boolean allowed = true;
        if (acc.indexOf('m') >= 0) {
            Path node = privateDir().resolve("m" + seq.incrementAndGet());
            allowed &= devicePermitted(cgroup, "mknod " + ProbeWorkerMain.hexPath(node.toString()) + " " + type
                    + " " + access.major() + " " + access.minor());
        }
        boolean r = acc.indexOf('r') >= 0;
        boolean w = acc.indexOf('w') >= 0;
        if (r || w) {
            String node = ProbeWorkerMain.hexPath(deviceNode(type, access.major(), access.minor()).toString());
            if (type == 'b') {
                int flags = (r && w ? O_RDWR : w ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
                allowed &= devicePermitted(cgroup, "open " + node + " " + flags);
            } else {
                int mode = (r ? R_OK : 0) | (w ? W_OK : 0);
                allowed &= devicePermitted(cgroup, "access " + node + " " + mode);
            }
        }
        return allowed;
    }

    private boolean devicePermitted(String cgroup, String request) throws BpfException {
        try {
            inCgroup(cgroup, request);
            return true;
        } catch (ErrnoException e) {
            return e.errno() != Errno.EPERM.number();
        }
    }

    /** The node for r/w checks, made once per device by this process. */
    private Path deviceNode(char type, int major, int minor) throws BpfException {
        String key = type + "-" + major + "-" + minor;
        Path node = deviceNodes.get(key);
        if (node == null) {
            node = privateDir().resolve("d" + key);
            int mode = (type == 'b' ? ProbeWorkerMain.S_IFBLK : ProbeWorkerMain.S_IFCHR) | 0600;
            if (LibC.INSTANCE.mknod(node.toString(), mode, ProbeWorkerMain.makedev(major, minor)) != 0) {
                throw SysErrno.lastAsException("mknod " + node + " (outside the scenario cgroups)");
            }
            deviceNodes.put(key, node);
        }
        return node;
    }

    Probe.SocketInfo socket(String cgroup, Probe.Family family, Probe.SockType type, int protocol)
            throws BpfException {
        fds.ensureOpen();
        String[] v = probe(cgroup, "socket " + af(family) + " " + sockType(type) + " " + protocol);
        return new Probe.SocketInfo(Integer.parseInt(v[0]), Integer.parseInt(v[1]), Integer.parseInt(v[2]));
    }

    /** The fd of the helper endpoint at addr:port of this protocol, -1 when there is none. */
    int listenerFd(InetAddress addr, int port, Probe.Proto proto) {
        return listeners.fd(addr, port, proto);
    }

    void listen(InetAddress addr, int port, Probe.Proto proto) throws BpfException {
        fds.ensureOpen();
        try {
            listeners.listen(addr, port, proto);
        } catch (ErrnoException e) {
            throw e.toBpfException();
        }
    }

    /**
     * The port is reported as 0 when the request asked for 0 and the kernel picked one from
     * net.ipv4.ip_local_port_range, i.e. no program chose it: that port differs from run to run.
     */
    Probe.Bound bind(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        fds.ensureOpen();
        String[] v = probe(cgroup, "bind " + af(family) + " " + sockType(proto) + " " + SockAddr.hex(addr) + " "
                + port);
        int bound = Integer.parseInt(v[1]);
        if (port == 0 && LocalPortRange.current().contains(bound)) {
            bound = 0;
        }
        return new Probe.Bound(SockAddr.unhex(v[0]), bound);
    }

    Probe.Connected connect(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        fds.ensureOpen();
        listeners.drainConnections();
        try {
            String[] v = probe(cgroup, "connect " + af(family) + " " + sockType(proto) + " " + SockAddr.hex(addr)
                    + " " + port + " " + DELIVERY_TIMEOUT_MS);
            return new Probe.Connected(SockAddr.unhex(v[0]), Integer.parseInt(v[1]), SockAddr.unhex(v[2]));
        } finally {
            listeners.drainConnections();
        }
    }

    Probe.Delivered sendmsg(String cgroup, Probe.Family family, InetAddress addr, int port, InetAddress src)
            throws BpfException {
        fds.ensureOpen();
        listeners.drainDatagrams();
        if (nonce == null) {
            nonce = Long.toHexString(new SecureRandom().nextLong());
        }
        String payload = "cgbpf-" + nonce + "-" + seq.incrementAndGet();
        probe(cgroup, "sendmsg " + af(family) + " " + SockAddr.hex(addr) + " " + port + " "
                + (src == null ? "-" : SockAddr.hex(src)) + " " + payload);
        try {
            Probe.Delivered d = listeners.awaitDatagram(payload.getBytes(StandardCharsets.US_ASCII),
                    DELIVERY_TIMEOUT_MS);
            if (d == null) {
                throw new BpfException("ETIMEDOUT", "no listener received the datagram within "
                        + DELIVERY_TIMEOUT_MS + " ms", null);
            }
            return d;
        } catch (ErrnoException e) {
            throw e.toBpfException();
        }
    }

    private static int af(Probe.Family f) {
        return f == Probe.Family.INET ? SockAddr.AF_INET : SockAddr.AF_INET6;
    }

    private static int sockType(Probe.SockType t) {
        return switch (t) {
            case STREAM -> Sock.SOCK_STREAM;
            case DGRAM -> Sock.SOCK_DGRAM;
            case RAW -> Sock.SOCK_RAW;
        };
    }

    private static int sockType(Probe.Proto p) {
        return p == Probe.Proto.TCP ? Sock.SOCK_STREAM : Sock.SOCK_DGRAM;
    }

    /** One probe request in the cgroup; the kernel's refusal is this call's errno. */
    private String[] probe(String cgroup, String request) throws BpfException {
        try {
            return inCgroup(cgroup, request);
        } catch (ErrnoException e) {
            throw e.toBpfException();
        }
    }

    /**
     * Moves the worker into the cgroup, runs the request, and moves it back to this process's
     * cgroup, also when the request fails. A worker that cannot be moved back is ended (a new one
     * starts with the next probe), so that it never keeps a scenario cgroup populated.
     */
    private String[] inCgroup(String cgroup, String request) throws BpfException, ErrnoException {
        CgroupSession s = sessions.session();
        Path dir = s.dir(cgroup);
        ProbeWorker w = worker();
        CgroupFs.moveProcess(dir, w.pid());
        try {
            return w.call(request);
        } finally {
            try {
                CgroupFs.moveProcess(s.home(), w.pid());
            } catch (BpfException e) {
                LOG.warn("probe worker could not return to {}: {}; ending it", s.home(), e.getMessage());
                endWorker();
            }
        }
    }

    private synchronized ProbeWorker worker() throws BpfException {
        fds.ensureOpen();
        if (worker != null && !worker.isAlive()) {
            endWorker();
        }
        if (worker == null) {
            worker = ProbeWorker.start(privateDir().resolve("worker-" + seq.incrementAndGet() + ".err"));
        }
        return worker;
    }

    private synchronized void endWorker() {
        if (worker != null) {
            worker.close();
            worker = null;
        }
    }

    /** A directory only root can enter, for device nodes and the worker's stderr. */
    private synchronized Path privateDir() throws BpfException {
        fds.ensureOpen();
        if (privateDir == null) {
            sweepStalePrivateDirs();
            try {
                privateDir = Files.createTempDirectory(PRIVATE_PREFIX + ProcessHandle.current().pid() + "-",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (IOException e) {
                throw new BpfException(Errno.EIO, "cannot make a private directory: " + e.getMessage());
            }
            ShutdownTeardown.register(owner);
        }
        return privateDir;
    }

    private static final String PRIVATE_PREFIX = "cgbpf-probe-";

    /** Removes the private directories of runs that died without their shutdown hook (SIGKILL). */
    private static void sweepStalePrivateDirs() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> s = Files.list(tmp)) {
            for (Path d : (Iterable<Path>) s::iterator) {
                String name = d.getFileName().toString();
                if (!name.startsWith(PRIVATE_PREFIX)) {
                    continue;
                }
                String rest = name.substring(PRIVATE_PREFIX.length());
                int dash = rest.indexOf('-');
                try {
                    if (dash > 0 && ProcessHandle.of(Long.parseLong(rest.substring(0, dash))).isEmpty()) {
                        deleteTree(d);
                    }
                } catch (NumberFormatException e) {
                    // not one of ours
                }
            }
        } catch (IOException e) {
            // nothing to sweep
        }
    }

    /** The probe worker's pid, or -1 when none runs (for tests). */
    synchronized long workerPid() {
        return worker == null ? -1 : worker.pid();
    }

    /** The private directory for device nodes, or null when none was made yet (for tests). */
    synchronized Path privateDirectory() {
        return privateDir;
    }

    /** Ends the worker (it may sit in a scenario cgroup) and closes the listeners: the first step of a backend's close. */
    void stop() {
        endWorker();
        listeners.close();
    }

    /** Removes the private directory: the last step of a backend's close. */
    void removePrivateDir() {
        Path dir;
        synchronized (this) {
            dir = privateDir;
        }
        if (dir != null) {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.warn("kernel backend teardown: cannot remove {}: {}", dir, e.getMessage());
        }
    }
}
