package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.hooks.DeviceCgroup;
import dev.cgbpf.engine.hooks.HookFault;
import dev.cgbpf.engine.hooks.HookRunner;
import dev.cgbpf.engine.hooks.LircDevice;
import dev.cgbpf.engine.hooks.ProgExecutor;
import dev.cgbpf.engine.hooks.SkbHooks;
import dev.cgbpf.engine.hooks.SockOpsHook;
import dev.cgbpf.engine.hooks.SocketLayer;
import java.net.InetAddress;

/**
 * The probes of an engine backend: what a task in one of its cgroups experiences when it uses a
 * device ({@link DeviceCgroup}) or a socket ({@link SocketLayer}), the effective arrays of the
 * host's cgroup tree run by the engine's interpreter. A program that faults is EFAULT naming it.
 */
final class EngineProbes implements AutoCloseable {
    private final CgroupBpfOps cgroups;
    private final ProgExecutor executor;
    private final HookRunner hooks;
    private final DeviceCgroup devices;
    private final SocketLayer sockets;

    EngineProbes(EngineHost host, CgroupBpfOps cgroups, ProgExecutor executor) {
        this.cgroups = cgroups;
        this.executor = executor;
        this.hooks = new HookRunner(host.tree, executor);
        this.devices = new DeviceCgroup(hooks);
        this.sockets = new SocketLayer(hooks);
    }

    /** The socket layer of the probes (the listeners live there). */
    SocketLayer sockets() {
        return sockets;
    }

    /** A probe's run: program faults are EFAULT naming the program. */
    private interface ProbeCall<T> {
        T call() throws BpfException;
    }

    private static <T> T probe(ProbeCall<T> call) throws BpfException {
        try {
            return call.call();
        } catch (HookFault f) {
            throw new BpfException(Errno.EFAULT, f.getMessage());
        }
    }

    boolean device(String path, Probe.DeviceAccess access) throws BpfException {
        Cgroup c = cgroups.cgroup(path);
        return probe(() -> devices.check(c, access));
    }

    Probe.SocketInfo socket(String path, Probe.Family family, Probe.SockType type, int protocol)
            throws BpfException {
        Cgroup c = cgroups.cgroup(path);
        return probe(() -> sockets.socket(c, family, type, protocol));
    }

    void listen(InetAddress addr, int port, Probe.Proto proto) throws BpfException {
        sockets.listen(addr, port, proto);
    }

    Probe.Bound bind(String path, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        Cgroup c = cgroups.cgroup(path);
        return probe(() -> sockets.bind(c, family, proto, addr, port));
    }

    Probe.Connected connect(String path, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        Cgroup c = cgroups.cgroup(path);
        return probe(() -> sockets.connect(c, family, proto, addr, port));
    }

    Probe.Delivered sendmsg(String path, Probe.Family family, InetAddress addr, int port, InetAddress src)
            throws BpfException {
        Cgroup c = cgroups.cgroup(path);
        return probe(() -> sockets.sendmsg(c, family, addr, port, src));
    }

    /** The cgroup_skb hooks of this backend's tree (library level: the scenario format has no skb probe). */
    SkbHooks skbHooks() {
        return new SkbHooks(hooks);
    }

    /** The sock_ops hook of this backend's tree (library level). */
    SockOpsHook sockOpsHook() {
        return new SockOpsHook(hooks);
    }

    /** A new remote-control receiver to attach lirc_mode2 programs of this backend to. */
    LircDevice newLircDevice() {
        return new LircDevice(executor);
    }

    /** Closes the helper endpoints ({@link #listen}). */
    @Override
    public void close() {
        sockets.close();
    }
}
