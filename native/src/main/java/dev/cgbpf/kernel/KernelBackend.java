package dev.cgbpf.kernel;

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
import dev.cgbpf.engine.backend.ObjNames;
import dev.cgbpf.engine.backend.PerfEvent;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgInfo;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.backend.TestRun;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Backend} on the host kernel's bpf(2). Every program and map it makes is a kernel fd
 * that this backend tracks; {@link #close()} closes whatever the caller has not closed yet.
 *
 * <p>Cgroups: the backend works under one root directory of the unified hierarchy (a
 * {@link CgroupSession}): a fresh scenario root ({@link #openScenario()}, or made on first use by
 * {@code new KernelBackend()}), or an existing cgroup ({@link #atCgroupRoot}). The work is split
 * by job: {@link KernelFds} (the fds it holds), {@link KernelCgroupBpf} (attach, detach, query,
 * links, storage), {@link KernelObjPin} (the bpf file system), {@link KernelInfo} (object info),
 * {@link KernelProbes} (what a task in a cgroup experiences, in a {@link ProbeWorker}).
 * {@link #close()} undoes everything ({@link Lifetime#SCOPED}) or only closes the fds ({@link Lifetime#PERSISTENT}),
 * and a shutdown hook calls it for backends still open when the JVM exits (Ctrl-C included).
 *
 * <p>Names: the kernel accepts only {@code [A-Za-z0-9_.]} in prog_name/map_name and keeps 15
 * bytes. Scenario names are the user's, so other characters become {@code _} in the kernel's copy
 * (the name is cosmetic there: bpftool shows it); {@link LoadedProg#name()} keeps the original.
 */
public final class KernelBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(KernelBackend.class);

    /**
     * Room beyond the input packet for BPF_PROG_TEST_RUN's data_out. socket_filter and cgroup_skb
     * programs cannot grow the packet; a larger output is the kernel's ENOSPC.
     */
    static final int DATA_OUT_HEADROOM = 4096;

    /** How long a sendmsg probe waits for its datagram, and a TCP connect for its handshake. */
    static final int DELIVERY_TIMEOUT_MS = KernelProbes.DELIVERY_TIMEOUT_MS;

    private final KernelFds fds = new KernelFds();
    private final Path fixedRoot;
    private final Lifetime lifetime;
    private final KernelCgroupBpf cgroups;
    private final KernelObjPin pins;
    private final KernelProbes probes;
    private CgroupSession session;

    /** A backend whose scenario root is made when a cgroup op or probe first needs it; {@link Lifetime#SCOPED}. */
    public KernelBackend() {
        this(null, Lifetime.SCOPED);
    }

    private KernelBackend(Path fixedRoot, Lifetime lifetime) {
        this.fixedRoot = fixedRoot;
        this.lifetime = lifetime;
        this.cgroups = new KernelCgroupBpf(fds, this::session);
        this.pins = new KernelObjPin(fds, lifetime);
        this.probes = new KernelProbes(this, fds, this::session);
    }

    /** A backend with a fresh scenario root under the cgroup v2 mount, made now. */
    public static KernelBackend openScenario() throws BpfException {
        return started(new KernelBackend());
    }

    /**
     * A backend rooted at an existing cgroup directory under the cgroup v2 mount (for the OCI
     * hook: the container's cgroup); cgroup path "" is that directory, which stays in any case.
     * With {@link Lifetime#SCOPED} its close() detaches only the programs it loaded, removes only
     * the cgroups, pins and pin directories it made; with {@link Lifetime#PERSISTENT} it closes
     * its fds and leaves everything else. ENOENT when the directory does not exist.
     */
    public static KernelBackend atCgroupRoot(Path dir, Lifetime lifetime) throws BpfException {
        return started(new KernelBackend(dir, lifetime));
    }

    /** {@code b} with its cgroup session begun; when that fails, b is undone before the failure goes on. */
    private static KernelBackend started(KernelBackend b) throws BpfException {
        try {
            b.session();
        } catch (BpfException | RuntimeException e) {
            b.close();
            throw e;
        }
        return b;
    }

    /** Whether bpf(2) is usable here, and if not, why (one line). */
    public static BpfAvailability availability() {
        return BpfAvailability.probe();
    }

    @Override
    public String name() {
        return "kernel";
    }

    @Override
    public Lifetime lifetime() {
        return lifetime;
    }

    @Override
    public LoadedProg load(LoadRequest request) throws BpfException {
        fds.ensureOpen();
        int expected = request.expectedAttach() == null ? 0 : request.expectedAttach().value();
        ProgLoad.Loaded loaded = ProgLoad.progLoad(request.type().value(), request.program().encode(),
                request.license(), ObjNames.kernelName(request.name()), expected, request.logLevel());
        KernelProg p = fds.track(new KernelProg(fds, loaded.fd(), request.name(), request.type(), loaded.log()));
        try {
            fds.loaded(ObjGetInfoByFd.progInfo(loaded.fd()).id(), request.name());
        } catch (BpfException e) {
            p.close();
            throw e;
        }
        return p;
    }

    @Override
    public TestRun.Result testRun(LoadedProg prog, TestRun.Request request) throws BpfException {
        fds.ensureOpen();
        KernelProg p = fds.prog(prog);
        byte[] data = request.dataIn() == null ? new byte[0] : request.dataIn();
        ProgTestRun.Result r = ProgTestRun.progTestRun(p.fd(), new ProgTestRun.Request(
                data, data.length + DATA_OUT_HEADROOM, request.repeat(), null, 0, 0, 0));
        return new TestRun.Result(r.retval(), r.dataOut(), r.durationNs());
    }

    @Override
    public BpfMap createMap(MapSpec spec) throws BpfException {
        fds.ensureOpen();
        Fd fd = MapCreate.mapCreate(spec.type().value(), spec.keySize(), spec.valueSize(), spec.maxEntries(),
                spec.flags(), ObjNames.kernelName(spec.name()));
        return fds.track(new KernelMap(fds, fd, spec));
    }

    @Override
    public void update(BpfMap map, byte[] key, byte[] value, long flags) throws BpfException {
        fds.ensureOpen();
        KernelMap m = fds.map(map);
        checkSize("key", key, m.spec().keySize(), m);
        checkSize("value", value, m.valueBytes(), m);
        MapElem.updateElem(m.handle(), key, value, flags);
    }

    @Override
    public void updateProg(BpfMap map, byte[] key, LoadedProg prog) throws BpfException {
        fds.ensureOpen();
        update(map, key, fdValue(fds.prog(prog).fd().get()), MapElem.BPF_ANY);
    }

    @Override
    public void updateCgroup(BpfMap map, byte[] key, String cgroup) throws BpfException {
        fds.ensureOpen();
        try (Fd dir = cgroups.openDir(cgroup)) {
            update(map, key, fdValue(dir.get()), MapElem.BPF_ANY);
        }
    }

    @Override
    public void updateListener(BpfMap map, byte[] key, InetAddress addr, int port, Probe.Proto proto)
            throws BpfException {
        fds.ensureOpen();
        int fd = probes.listenerFd(addr, port, proto);
        if (fd < 0) {
            throw new BpfException(Errno.ENOENT, "no " + proto + " listener at " + addr.getHostAddress() + " port " + port);
        }
        // the fd as the map's value: u32 or u64 in host order, as sock_map_update_elem_sys reads it
        byte[] value = java.nio.ByteBuffer.allocate(fds.map(map).valueBytes()).order(java.nio.ByteOrder.nativeOrder())
                .putInt(fd).array();
        update(map, key, value, MapElem.BPF_ANY);
    }

    @Override
    public PerfEvent perfEventOpen(int cpu) throws BpfException {
        fds.ensureOpen();
        return KernelPerfEvent.open(cpu);
    }

    @Override
    public void updatePerfEvent(BpfMap map, byte[] key, PerfEvent event) throws BpfException {
        fds.ensureOpen();
        if (!(event instanceof KernelPerfEvent e)) {
            throw new IllegalArgumentException(event + " is not a perf event of the kernel backend");
        }
        update(map, key, fdValue(e.fd()), MapElem.BPF_ANY);
    }

    /** An fd as the 4-byte value (host order) of an fd array's update. */
    private static byte[] fdValue(int fd) {
        return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.nativeOrder()).putInt(fd).array();
    }

    @Override
    public void updateBatch(BpfMap map, byte[] keys, byte[] values, int count) throws BpfException {
        fds.ensureOpen();
        KernelMap m = fds.map(map);
        if (count < 0 || keys.length != count * m.spec().keySize() || values.length != count * m.valueBytes()) {
            throw new IllegalArgumentException("a batch of " + count + " elements of map " + m.spec().name() + " needs "
                    + count + " x " + m.spec().keySize() + " key bytes and " + count + " x " + m.valueBytes()
                    + " value bytes, got " + keys.length + " and " + values.length);
        }
        if (count > 0) {
            MapBatch.update(m.handle(), keys, values, count);
        }
    }

    @Override
    public byte[] lookup(BpfMap map, byte[] key) throws BpfException {
        fds.ensureOpen();
        KernelMap m = fds.map(map);
        checkSize("key", key, m.spec().keySize(), m);
        return MapElem.lookupElem(m.handle(), key, m.valueBytes(), 0);
    }

    @Override
    public byte[] lookupAndDelete(BpfMap map, byte[] key, long flags) throws BpfException {
        fds.ensureOpen();
        KernelMap m = fds.map(map);
        checkSize("key", key, m.spec().keySize(), m);
        return MapElem.lookupAndDeleteElem(m.handle(), key, m.valueBytes(), flags);
    }

    @Override
    public void delete(BpfMap map, byte[] key) throws BpfException {
        fds.ensureOpen();
        KernelMap m = fds.map(map);
        checkSize("key", key, m.spec().keySize(), m);
        MapElem.deleteElem(m.handle(), key);
    }

    @Override
    public void freeze(BpfMap map) throws BpfException {
        fds.ensureOpen();
        MapElem.freeze(fds.map(map).handle());
    }

    @Override
    public byte[] nextKey(BpfMap map, byte[] key) throws BpfException {
        fds.ensureOpen();
        KernelMap m = fds.map(map);
        if (key != null) {
            checkSize("key", key, m.spec().keySize(), m);
        }
        return MapElem.getNextKey(m.handle(), key, m.spec().keySize());
    }

    @Override
    public ProgInfo progInfo(LoadedProg prog) throws BpfException {
        fds.ensureOpen();
        return KernelInfo.prog(fds.prog(prog).fd());
    }

    @Override
    public MapInfo mapInfo(BpfMap map) throws BpfException {
        fds.ensureOpen();
        return KernelInfo.map(fds.map(map).handle());
    }

    @Override
    public AutoCloseable pinThread(int cpu) throws BpfException {
        return ThreadAffinity.pin(cpu);
    }

    // ---- cgroups and links ----

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

    @Override
    public BpfLink linkCreate(String cgroup, LoadedProg prog, AttachType type) throws BpfException {
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

    // ---- the bpf file system ----

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

    // ---- probes ----

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

    // ---- lifecycle ----

    private synchronized CgroupSession session() throws BpfException {
        fds.ensureOpen();
        if (session == null) {
            session = fixedRoot == null ? CgroupSession.fresh() : CgroupSession.at(fixedRoot);
            ShutdownTeardown.register(this);
        }
        return session;
    }

    /** The root directory of this backend's cgroups, made if not yet there (for tests and diagnostics). */
    public Path cgroupRoot() throws BpfException {
        return session().root();
    }

    /** The probe worker's pid, or -1 when none runs (for tests). */
    public long workerPid() {
        return probes.workerPid();
    }

    /** The private directory for device nodes, or null when none was made yet (for tests). */
    Path privateDirectory() {
        return probes.privateDirectory();
    }

    /** The kernel ids of the programs this backend loaded (for leak checks). */
    public Set<Integer> loadedProgIds() {
        return fds.loadedProgIds();
    }

    /**
     * Undoes everything, in an order that lets each step succeed: the worker ends (it may sit in a
     * scenario cgroup), the listeners close; with {@link Lifetime#SCOPED} the programs this backend
     * attached anywhere under its root are detached, its cgroups removed (bottom-up), its pins and
     * pin directories removed; then every program, map and link fd still open is closed, newest
     * first, and the private directory goes. Each step runs even when an earlier one failed; what
     * could not be undone is logged. Idempotent.
     */
    @Override
    public void close() {
        List<KernelObject> all;
        CgroupSession s;
        synchronized (this) {
            if (fds.isClosed()) {
                return;
            }
            all = fds.closeAll();
            s = session;
        }
        ShutdownTeardown.unregister(this);
        probes.stop();
        if (s != null && lifetime == Lifetime.SCOPED) {
            boolean fresh = fixedRoot == null;
            for (String problem : s.teardown(id -> fresh || fds.loadedName(id) != null)) {
                LOG.warn("kernel backend teardown: {}", problem);
            }
        }
        if (lifetime == Lifetime.SCOPED) {
            pins.unpinAll();
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            all.get(i).close();
        }
        probes.removePrivateDir();
    }

    /** Number of programs, maps and links this backend holds open (for tests and diagnostics). */
    public int openCount() {
        return fds.openCount();
    }

    /**
     * The kernel copies exactly key_size/value_size bytes from user memory, whatever the Java array
     * holds, so a wrong length is refused here, before the kernel could read past our copy. It is
     * EINVAL as in the engine backend, so that both backends answer a scenario alike.
     */
    private static void checkSize(String what, byte[] bytes, int expected, KernelMap m) throws BpfException {
        if (bytes == null || bytes.length != expected) {
            throw new BpfException(Errno.EINVAL, what + " of " + (bytes == null ? "null" : bytes.length + " bytes")
                    + " for map '" + m.spec().name() + "', which takes " + expected + " bytes");
        }
    }
}
