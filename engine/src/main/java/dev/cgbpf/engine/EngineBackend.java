package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.BpfObject;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.Lifetime;
import dev.cgbpf.engine.backend.LinkInfo;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapInfo;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgInfo;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.hooks.DeviceCgroup;
import dev.cgbpf.engine.hooks.LircDevice;
import dev.cgbpf.engine.hooks.ProgExecutor;
import dev.cgbpf.engine.hooks.SkbHooks;
import dev.cgbpf.engine.hooks.SockOpsHook;
import dev.cgbpf.engine.hooks.SocketLayer;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.maps.EngineMap;
import dev.cgbpf.engine.maps.RingBufMap;
import dev.cgbpf.engine.verifier.Verifier;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The in-JVM {@link Backend}: programs run on the {@link Interpreter}, maps are
 * {@link EngineMap}s, and both get small integer fds handed out like a kernel fd table does
 * ({@link FdTable}). The commands are the kernel's, one class each: {@link BpfProgLoad},
 * {@link BpfProgTestRun}, {@link BpfMapSyscalls}, {@link CgroupBpfOps} (attach, detach, query, links),
 * {@link BpfObjPin} (the bpf file system); {@link EngineProbes} are what a task experiences.
 *
 * <p>Every load goes through the engine's {@link Verifier}, which answers as the running kernel's
 * verifier does (errno and log line; differences in docs/fidelity.md). The interpreter still
 * checks every memory access, so anything the verifier let through by mistake stops with a fault
 * (errno EFAULT, the message naming the instruction) instead of corrupting the JVM.
 *
 * <p>A backend is one process on an {@link EngineHost}, which holds what the kernel holds for all
 * processes: the cgroup tree, the bpf file system, the ids. {@code new EngineBackend()} has a host
 * of its own. Cgroups: the backend's cgroup root (path "") is a fresh child of the tree's root
 * ({@link #openScenario}), so that rmdir "" behaves as on the kernel, or an existing cgroup
 * ({@link #atCgroupRoot}). The probes run the effective arrays of that tree through the hooks
 * package ({@link DeviceCgroup}, {@link SocketLayer}); loaded programs are {@link EngineProg}s,
 * the tree's {@link CgroupProg}s (one object per load). Cgroup storage is allocated when a program
 * using it is attached and freed with its cgroup, as the running kernel does.
 */
public final class EngineBackend implements Backend {
    private final EngineHost host;
    private final Lifetime lifetime;
    private final FdTable fds = new FdTable();
    private final BpfProgLoad progs;
    private final BpfProgTestRun testRuns;
    private final BpfMapSyscalls maps;
    private final CgroupBpfOps cgroups;
    private final BpfObjPin pins;
    private final EngineProbes probes;
    private boolean closed;

    /** A backend on a host of its own, at a fresh scenario root, {@link Lifetime#SCOPED}. */
    public EngineBackend() {
        this(Interpreter.DEFAULT_BUDGET);
    }

    /** @param insnBudget instructions one program run may execute before it is stopped */
    public EngineBackend(long insnBudget) {
        this(new EngineHost(), null, Lifetime.SCOPED, insnBudget);
    }

    /** @param root an existing cgroup of the host, or null for a fresh scenario root */
    private EngineBackend(EngineHost host, Cgroup root, Lifetime lifetime, long insnBudget) {
        if (insnBudget <= 0) {
            throw new IllegalArgumentException("instruction budget must be positive, got " + insnBudget);
        }
        this.host = host;
        this.lifetime = lifetime;
        ProgExecutor executor = EngineProg.executor(host.space, insnBudget);
        this.progs = new BpfProgLoad(host, fds);
        this.maps = new BpfMapSyscalls(host, fds);
        this.cgroups = new CgroupBpfOps(host, fds, root == null ? host.newScenarioRoot() : root, root == null);
        this.pins = new BpfObjPin(host, fds, lifetime);
        this.probes = new EngineProbes(host, cgroups, executor);
        // a test run's socket lookups see the probes' sockets, as the kernel's see the namespace's
        this.testRuns = new BpfProgTestRun(host, fds, executor, insnBudget, probes.sockets());
    }

    /** A backend on a shared host, at a fresh scenario root that its close() removes ({@link Lifetime#SCOPED}). */
    public static EngineBackend openScenario(EngineHost host) {
        return new EngineBackend(host, null, Lifetime.SCOPED, Interpreter.DEFAULT_BUDGET);
    }

    /**
     * A backend rooted at an existing cgroup of the host's tree ({@code cgroup} relative to the
     * tree's root, "" for the root itself): the engine's counterpart of
     * {@code KernelBackend.atCgroupRoot}. ENOENT when there is no such cgroup.
     */
    public static EngineBackend atCgroupRoot(EngineHost host, String cgroup, Lifetime lifetime) throws BpfException {
        return new EngineBackend(host, host.tree.lookup(cgroup), lifetime, Interpreter.DEFAULT_BUDGET);
    }

    @Override
    public String name() {
        return "engine";
    }

    @Override
    public Lifetime lifetime() {
        return lifetime;
    }

    /** The host this backend runs on. */
    public EngineHost host() {
        return host;
    }

    // ---------------------------------------------------------------- programs and maps

    @Override
    public LoadedProg load(LoadRequest request) throws BpfException {
        return progs.load(request);
    }

    @Override
    public ProgInfo progInfo(LoadedProg prog) throws BpfException {
        return progs.progInfo(prog);
    }

    @Override
    public TestRun.Result testRun(LoadedProg prog, TestRun.Request request) throws BpfException {
        return testRuns.testRun(prog, request);
    }

    @Override
    public BpfMap createMap(MapSpec spec) throws BpfException {
        return maps.createMap(spec);
    }

    @Override
    public void update(BpfMap map, byte[] key, byte[] value, long flags) throws BpfException {
        maps.update(map, key, value, flags);
    }

    @Override
    public void updateProg(BpfMap map, byte[] key, LoadedProg prog) throws BpfException {
        fds.prog(prog); // EBADF for a program not open here
        maps.update(map, key, fdValue(((ProgFd) prog).fd), 0);
    }

    @Override
    public void updateCgroup(BpfMap map, byte[] key, String cgroup) throws BpfException {
        try (CgroupDirFd dir = new CgroupDirFd(fds, cgroups.cgroup(cgroup))) {
            maps.update(map, key, fdValue(dir.fd), 0);
        }
    }

    @Override
    public void updateListener(BpfMap map, byte[] key, InetAddress addr, int port, Probe.Proto proto)
            throws BpfException {
        dev.cgbpf.engine.maps.Psock sk = probes.sockets().listenerPsock(addr, port, proto);
        if (sk == null) {
            throw new BpfException(Errno.ENOENT, "no " + proto + " listener at " + addr.getHostAddress() + " port " + port);
        }
        maps.updateSock(map, key, sk);
    }

    /** An fd as the 4-byte value of an fd array's update. */
    private static byte[] fdValue(int fd) {
        return new byte[] {(byte) fd, (byte) (fd >>> 8), (byte) (fd >>> 16), (byte) (fd >>> 24)};
    }

    @Override
    public byte[] lookup(BpfMap map, byte[] key) throws BpfException {
        return maps.lookup(map, key);
    }

    @Override
    public byte[] lookupAndDelete(BpfMap map, byte[] key, long flags) throws BpfException {
        return maps.lookupAndDelete(map, key, flags);
    }

    @Override
    public void delete(BpfMap map, byte[] key) throws BpfException {
        maps.delete(map, key);
    }

    @Override
    public byte[] nextKey(BpfMap map, byte[] key) throws BpfException {
        return maps.nextKey(map, key);
    }

    @Override
    public void freeze(BpfMap map) throws BpfException {
        maps.freeze(map);
    }

    @Override
    public MapInfo mapInfo(BpfMap map) throws BpfException {
        return maps.mapInfo(map);
    }

    /** The engine's map operations and runs all happen on CPU 0: pinned there already. */
    @Override
    public AutoCloseable pinThread(int cpu) throws BpfException {
        if (cpu != dev.cgbpf.engine.interp.BaseHelpers.ENGINE_CPU) {
            throw new BpfException(Errno.EINVAL, "the engine runs on CPU " + dev.cgbpf.engine.interp.BaseHelpers.ENGINE_CPU
                    + " only, not " + cpu);
        }
        return () -> { };
    }

    // ---------------------------------------------------------------- cgroups and links

    @Override
    public void mkdir(String path) throws BpfException {
        cgroups.mkdir(path);
    }

    @Override
    public void rmdir(String path) throws BpfException {
        cgroups.rmdir(path);
    }

    @Override
    public void attach(String cgroup, LoadedProg prog, AttachType type, Set<AttachFlag> flags, LoadedProg replace)
            throws BpfException {
        cgroups.attach(cgroup, prog, type, flags, replace);
    }

    @Override
    public void detach(String cgroup, AttachType type, LoadedProg prog) throws BpfException {
        cgroups.detach(cgroup, type, prog);
    }

    @Override
    public QueryResult query(String cgroup, AttachType type, boolean effective, int max) throws BpfException {
        return cgroups.query(cgroup, type, effective, max);
    }

    @Override
    public List<Integer> queryProgIds(String cgroup, AttachType type, boolean effective) throws BpfException {
        return cgroups.queryProgIds(cgroup, type, effective);
    }

    @Override
    public long cgroupId(String cgroup) throws BpfException {
        return cgroups.cgroupId(cgroup);
    }

    @Override
    public byte[] storage(String cgroup, AttachType type, BpfMap map) throws BpfException {
        return cgroups.storage(cgroup, type, map);
    }

    /** {@inheritDoc} The engine's handle also shows the link in the cgroup tree ({@link LinkFd#cgroupLink()}). */
    @Override
    public LinkFd linkCreate(String cgroup, LoadedProg prog, AttachType type) throws BpfException {
        return cgroups.linkCreate(cgroup, prog, type);
    }

    @Override
    public void linkUpdate(BpfLink link, LoadedProg newProg, LoadedProg expectedOld) throws BpfException {
        cgroups.linkUpdate(link, newProg, expectedOld);
    }

    @Override
    public void linkDetach(BpfLink link) throws BpfException {
        cgroups.linkDetach(link);
    }

    @Override
    public LinkInfo linkInfo(BpfLink link) throws BpfException {
        return cgroups.linkInfo(link);
    }

    // ---------------------------------------------------------------- the bpf file system

    @Override
    public void objPin(BpfObject obj, Path path) throws BpfException {
        pins.objPin(obj, path);
    }

    @Override
    public BpfObject objGet(Path path, ObjAccess access) throws BpfException {
        return pins.objGet(path, access);
    }

    @Override
    public void unpin(Path path) throws BpfException {
        pins.unpin(path);
    }

    @Override
    public void pinMkdir(Path path) throws BpfException {
        pins.pinMkdir(path);
    }

    @Override
    public void pinRmdir(Path path) throws BpfException {
        pins.pinRmdir(path);
    }

    @Override
    public List<String> pinList(Path dir) throws BpfException {
        return pins.pinList(dir);
    }

    // ---------------------------------------------------------------- probes

    @Override
    public boolean device(String cgroup, Probe.DeviceAccess access) throws BpfException {
        return probes.device(cgroup, access);
    }

    @Override
    public Probe.SocketInfo socket(String cgroup, Probe.Family family, Probe.SockType type, int protocol)
            throws BpfException {
        return probes.socket(cgroup, family, type, protocol);
    }

    @Override
    public void listen(InetAddress addr, int port, Probe.Proto proto) throws BpfException {
        probes.listen(addr, port, proto);
    }

    @Override
    public Probe.Bound bind(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        return probes.bind(cgroup, family, proto, addr, port);
    }

    @Override
    public Probe.Connected connect(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        return probes.connect(cgroup, family, proto, addr, port);
    }

    @Override
    public Probe.Delivered sendmsg(String cgroup, Probe.Family family, InetAddress addr, int port, InetAddress src)
            throws BpfException {
        return probes.sendmsg(cgroup, family, addr, port, src);
    }

    // ---------------------------------------------------------------- library level

    /** The cgroup_skb hooks of this backend's tree (the scenario format has no skb probe). */
    public SkbHooks skbHooks() {
        return probes.skbHooks();
    }

    /** The sock_ops hook of this backend's tree. */
    public SockOpsHook sockOpsHook() {
        return probes.sockOpsHook();
    }

    /** A new remote-control receiver to attach lirc_mode2 programs of this backend to. */
    public LircDevice newLircDevice() {
        return probes.newLircDevice();
    }

    /**
     * The ring buffer behind a map of this backend, for its reader ({@link RingBufMap#consume}):
     * what the kernel's ring gives a reader through mmap(2). EINVAL for another map type.
     */
    public RingBufMap ringBuf(BpfMap map) throws BpfException {
        if (!(fds.map(map).map instanceof RingBufMap ring)) {
            throw new BpfException(Errno.EINVAL, map + " is not a ring buffer map");
        }
        return ring;
    }

    /** The cgroup of a backend path, for the library-level hooks. */
    public Cgroup cgroupAt(String path) throws BpfException {
        return cgroups.cgroup(path);
    }

    /** A program of this backend as the cgroup and lirc layers take it. */
    public CgroupProg cgroupProg(LoadedProg loaded) throws BpfException {
        return fds.prog(loaded);
    }

    /**
     * With {@link Lifetime#SCOPED}: detaches what this backend attached under its root (everything
     * there for a fresh root) and removes its cgroups bottom-up (all of them, the root included,
     * for a fresh root), then its pins and pin directories. Then, for either lifetime, closes the
     * helper endpoints and every fd. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (lifetime == Lifetime.SCOPED) {
            cgroups.teardown(progs::loadedHere);
            pins.unpinAll();
        }
        probes.close();
        for (Object o : fds.open()) {
            ((BpfObject) o).close();
        }
    }
}
