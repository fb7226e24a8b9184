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
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.engine.backend.ObjNames;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgInfo;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.backend.TestRun;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Backend} on the host kernel's bpf(2). Every program and map it makes is a kernel fd
 * that this backend tracks; {@link #close()} closes whatever the caller has not closed yet.
 *
 * <p>Cgroups: the backend works under one root directory of the unified hierarchy (a
 * {@link CgroupSession}): a fresh scenario root ({@link #openScenario()}, or made on first use by
 * {@code new KernelBackend()}), or an existing cgroup ({@link #atCgroupRoot}). Probes run in a
 * {@link ProbeWorker} child process that is moved into the probed cgroup for each probe and back
 * to this process's cgroup afterwards; listeners are sockets of this process. {@link #close()}
 * undoes everything ({@link Lifetime#SCOPED}) or only closes the fds ({@link Lifetime#PERSISTENT}),
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

    // fcntl.h and unistd.h
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 01;
    private static final int O_RDWR = 02;
    private static final int O_NOCTTY = 0400;
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 02000000;
    private static final int O_DIRECTORY = 0200000;
    private static final int R_OK = 4;
    private static final int W_OK = 2;

    /** How long a sendmsg probe waits for its datagram, and a TCP connect for its handshake. */
    static final int DELIVERY_TIMEOUT_MS = 2000;

    private final Set<KernelObject> open = new LinkedHashSet<>();
    /** Kernel prog id to the name it was loaded under, for every program this backend loaded. */
    private final Map<Integer, String> namesById = new ConcurrentHashMap<>();
    private final Path fixedRoot;
    private final Lifetime lifetime;
    /** Pins and pin directories this backend made, in order: a scoped close() removes them. */
    private final List<Path> madePins = new ArrayList<>();
    private final List<Path> madePinDirs = new ArrayList<>();
    private CgroupSession session;
    private ProbeWorker worker;
    private Path privateDir;
    private final Map<String, Path> deviceNodes = new HashMap<>();
    private final LoopbackListeners listeners = new LoopbackListeners();
    private final AtomicLong seq = new AtomicLong();
    private final String nonce = Long.toHexString(new SecureRandom().nextLong());
    private boolean closed;

    /** A backend whose scenario root is made when a cgroup op or probe first needs it; {@link Lifetime#SCOPED}. */
    public KernelBackend() {
        this(null, Lifetime.SCOPED);
    }

    private KernelBackend(Path fixedRoot, Lifetime lifetime) {
        this.fixedRoot = fixedRoot;
        this.lifetime = lifetime;
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
        ensureOpen();
        int expected = request.expectedAttach() == null ? 0 : request.expectedAttach().value();
        ProgLoad.Loaded loaded = ProgLoad.progLoad(request.type().value(), request.program().encode(),
                request.license(), ObjNames.kernelName(request.name()), expected, request.logLevel());
        KernelProg p = track(new KernelProg(this, loaded.fd(), request.name(), request.type(), loaded.log()));
        try {
            namesById.put(ObjGetInfoByFd.progInfo(loaded.fd()).id(), request.name());
        } catch (BpfException e) {
            p.close();
            throw e;
        }
        return p;
    }

    @Override
    public TestRun.Result testRun(LoadedProg prog, TestRun.Request request) throws BpfException {
        ensureOpen();
        KernelProg p = own(prog);
        byte[] data = request.dataIn() == null ? new byte[0] : request.dataIn();
        ProgTestRun.Result r = ProgTestRun.progTestRun(p.fd(), new ProgTestRun.Request(
                data, data.length + DATA_OUT_HEADROOM, request.repeat(), null, 0, 0, 0));
        return new TestRun.Result(r.retval(), r.dataOut(), r.durationNs());
    }

    @Override
    public BpfMap createMap(MapSpec spec) throws BpfException {
        ensureOpen();
        Fd fd = MapCreate.mapCreate(spec.type().value(), spec.keySize(), spec.valueSize(), spec.maxEntries(),
                spec.flags(), ObjNames.kernelName(spec.name()));
        return track(new KernelMap(this, fd, spec));
    }

    @Override
    public void update(BpfMap map, byte[] key, byte[] value, long flags) throws BpfException {
        ensureOpen();
        KernelMap m = own(map);
        checkSize("key", key, m.spec().keySize(), m);
        checkSize("value", value, m.valueBytes(), m);
        MapElem.updateElem(m.handle(), key, value, flags);
    }

    @Override
    public byte[] lookup(BpfMap map, byte[] key) throws BpfException {
        ensureOpen();
        KernelMap m = own(map);
        checkSize("key", key, m.spec().keySize(), m);
        return MapElem.lookupElem(m.handle(), key, m.valueBytes(), 0);
    }

    @Override
    public void delete(BpfMap map, byte[] key) throws BpfException {
        ensureOpen();
        KernelMap m = own(map);
        checkSize("key", key, m.spec().keySize(), m);
        MapElem.deleteElem(m.handle(), key);
    }

    @Override
    public byte[] nextKey(BpfMap map, byte[] key) throws BpfException {
        ensureOpen();
        KernelMap m = own(map);
        if (key != null) {
            checkSize("key", key, m.spec().keySize(), m);
        }
        return MapElem.getNextKey(m.handle(), key, m.spec().keySize());
    }

    // ---- cgroups ----

    @Override
    public void mkdir(String path) throws BpfException {
        session().mkdir(path);
    }

    @Override
    public void rmdir(String path) throws BpfException {
        session().rmdir(path);
    }

    @Override
    public void attach(String cgroup, LoadedProg prog, AttachType type, Set<AttachFlag> flags, LoadedProg replace)
            throws BpfException {
        KernelProg p = own(prog);
        KernelProg r = replace == null ? null : own(replace);
        try (Fd cg = session().open(cgroup)) {
            ProgAttach.progAttach(cg, p.fd(), type.value(), flags, r == null ? null : r.fd());
        }
    }

    @Override
    public void detach(String cgroup, AttachType type, LoadedProg prog) throws BpfException {
        KernelProg p = prog == null ? null : own(prog);
        try (Fd cg = session().open(cgroup)) {
            ProgAttach.progDetach(cg, p == null ? null : p.fd(), type.value());
        }
    }

    @Override
    public BpfLink linkCreate(String cgroup, LoadedProg prog, AttachType type) throws BpfException {
        KernelProg p = own(prog);
        try (Fd cg = session().open(cgroup)) {
            return track(new KernelLink(this, LinkCreate.linkCreate(p.fd(), cg, type.value(), 0)));
        }
    }

    @Override
    public void linkUpdate(BpfLink link, LoadedProg newProg, LoadedProg expectedOld) throws BpfException {
        ensureOpen();
        KernelLink l = own(link);
        KernelProg p = own(newProg);
        KernelProg old = expectedOld == null ? null : own(expectedOld);
        LinkUpdate.linkUpdate(l.handle(), p.fd(), old == null ? null : old.fd());
    }

    @Override
    public void linkDetach(BpfLink link) throws BpfException {
        ensureOpen();
        LinkDetach.linkDetach(own(link).handle());
    }

    @Override
    public LinkInfo linkInfo(BpfLink link) throws BpfException {
        ensureOpen();
        ObjGetInfoByFd.LinkInfo i = ObjGetInfoByFd.linkInfo(own(link).handle());
        if (i.type() != ObjGetInfoByFd.BPF_LINK_TYPE_CGROUP) {
            throw new BpfException(Errno.EINVAL, "link id " + i.id() + " is of link type " + i.type() + ", not a cgroup link");
        }
        return new LinkInfo(i.id(), i.progId(), attachType(i.attachType()), i.cgroupId());
    }

    private static AttachType attachType(int value) throws BpfException {
        for (AttachType t : AttachType.values()) {
            if (t.value() == value) {
                return t;
            }
        }
        throw new BpfException(Errno.EINVAL, "attach type " + value + " is not one cgbpf knows");
    }

    @Override
    public List<Integer> queryProgIds(String cgroup, AttachType type, boolean effective) throws BpfException {
        int queryFlags = effective ? ProgQuery.BPF_F_QUERY_EFFECTIVE : 0;
        try (Fd cg = session().open(cgroup)) {
            // a program attached between the count and the ids makes the second call ENOSPC: ask again
            while (true) {
                int count = ProgQuery.progQuery(cg, type.value(), queryFlags, 0, false).count();
                ProgQuery.Result r = ProgQuery.progQuery(cg, type.value(), queryFlags, count, false);
                if (!r.enospc()) {
                    List<Integer> ids = new ArrayList<>(r.progIds().length);
                    for (int id : r.progIds()) {
                        ids.add(id);
                    }
                    return ids;
                }
            }
        }
    }

    @Override
    public long cgroupId(String cgroup) throws BpfException {
        return CgroupFs.id(session().dir(cgroup));
    }

    @Override
    public QueryResult query(String cgroup, AttachType type, boolean effective, int max) throws BpfException {
        int queryFlags = effective ? ProgQuery.BPF_F_QUERY_EFFECTIVE : 0;
        try (Fd cg = session().open(cgroup)) {
            int size = max;
            if (max < 0) {
                size = ProgQuery.progQuery(cg, type.value(), queryFlags, 0, false).count();
            }
            ProgQuery.Result r = ProgQuery.progQuery(cg, type.value(), queryFlags, size, false);
            List<String> names = new ArrayList<>();
            for (int id : r.progIds()) {
                names.add(nameOf(id));
            }
            return new QueryResult(r.attachFlags(), names, r.count(), r.enospc() ? "ENOSPC" : null);
        }
    }

    /** The scenario name of a program, or "?" and the kernel's name for one loaded elsewhere. */
    private String nameOf(int id) {
        String n = namesById.get(id);
        if (n != null) {
            return n;
        }
        try (Fd fd = ProgGetFdById.progGetFdById(id)) {
            return "?" + ObjGetInfoByFd.progInfo(fd).name();
        } catch (BpfException e) {
            return "?";
        }
    }

    /**
     * The cgroup storage element of (cgroup, attach type): key {cgroup id, attach type} for maps
     * with the 16-byte struct bpf_cgroup_storage_key, {cgroup id} for shared (8-byte key) ones.
     * ENOENT when no program using the map is attached there.
     */
    @Override
    public byte[] storage(String cgroup, AttachType type, BpfMap map) throws BpfException {
        ensureOpen();
        KernelMap m = own(map);
        MapType mt = m.spec().type();
        if (mt != MapType.CGROUP_STORAGE && mt != MapType.PERCPU_CGROUP_STORAGE) {
            throw new BpfException(Errno.EINVAL, "map '" + m.spec().name() + "' is " + mt.scenarioName()
                    + ", not a cgroup storage map");
        }
        long id = CgroupFs.id(session().dir(cgroup));
        ByteBuffer key = ByteBuffer.allocate(m.spec().keySize()).order(ByteOrder.nativeOrder());
        key.putLong(id);
        if (m.spec().keySize() >= 12) {
            key.putInt(type.value());
        }
        return MapElem.lookupElem(m.handle(), key.array(), m.valueBytes(), 0);
    }

    // ---- object info ----

    @Override
    public ProgInfo progInfo(LoadedProg prog) throws BpfException {
        ensureOpen();
        ObjGetInfoByFd.ProgInfo i = ObjGetInfoByFd.progInfo(own(prog).fd());
        return new ProgInfo(i.id(), progType(i.type()), i.name(), i.tag());
    }

    @Override
    public MapInfo mapInfo(BpfMap map) throws BpfException {
        ensureOpen();
        return mapInfo(ObjGetInfoByFd.mapInfo(own(map).handle()));
    }

    private static MapInfo mapInfo(ObjGetInfoByFd.MapInfo i) throws BpfException {
        return new MapInfo(i.id(), new MapSpec(i.name(), mapType(i.type()), i.keySize(), i.valueSize(), i.maxEntries(),
                i.flags()));
    }

    private static ProgType progType(int value) throws BpfException {
        for (ProgType t : ProgType.values()) {
            if (t.value() == value) {
                return t;
            }
        }
        throw new BpfException(Errno.EINVAL, "program type " + value + " is not one cgbpf knows");
    }

    private static MapType mapType(int value) throws BpfException {
        for (MapType t : MapType.values()) {
            if (t.value() == value) {
                return t;
            }
        }
        throw new BpfException(Errno.EINVAL, "map type " + value + " is not one cgbpf knows");
    }

    // ---- the bpf file system ----

    @Override
    public void objPin(BpfObject obj, Path path) throws BpfException {
        ensureOpen();
        BpfFs.checkOnBpfFs(path);
        KernelObject o = own(obj);
        BpfFs.pinMode0600(o.handle(), path);
        if (lifetime == Lifetime.SCOPED) {
            synchronized (this) {
                madePins.add(path);
            }
        }
    }

    /**
     * BPF_OBJ_GET, then what the fd is from /proc/self/fd (anon_inode:bpf-prog, bpf-map,
     * bpf-link; a link made by BPF_LINK_CREATE shows bpf_link) and its info: a program keeps the name this backend loaded it under, else the
     * kernel's copy; a map's spec is the kernel's (its name the kernel's copy).
     */
    @Override
    public BpfObject objGet(Path path, ObjAccess access) throws BpfException {
        ensureOpen();
        BpfFs.checkOnBpfFs(path);
        Fd fd = ObjPin.objGet(path.toString(), access.fileFlags());
        try {
            String kind = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd.get())).toString();
            switch (kind) {
                case "anon_inode:bpf-prog" -> {
                    ObjGetInfoByFd.ProgInfo i = ObjGetInfoByFd.progInfo(fd);
                    String name = namesById.getOrDefault(i.id(), i.name());
                    return track(new KernelProg(this, fd, name, progType(i.type()), ""));
                }
                case "anon_inode:bpf-map" -> {
                    return track(new KernelMap(this, fd, mapInfo(ObjGetInfoByFd.mapInfo(fd)).spec()));
                }
                case "anon_inode:bpf-link", "anon_inode:bpf_link" -> {
                    return track(new KernelLink(this, fd));
                }
                default -> throw new BpfException(Errno.EINVAL, path + " opened as " + kind + ", not a bpf object");
            }
        } catch (IOException e) {
            fd.close();
            throw new BpfException(Errno.EIO, "cannot tell what " + path + " holds: " + e.getMessage());
        } catch (BpfException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    @Override
    public void unpin(Path path) throws BpfException {
        ensureOpen();
        BpfFs.checkOnBpfFs(path);
        if (LibC.INSTANCE.unlink(path.toString()) != 0) {
            throw SysErrno.lastAsException("unpin " + path);
        }
        synchronized (this) {
            madePins.remove(path);
        }
    }

    @Override
    public void pinMkdir(Path path) throws BpfException {
        ensureOpen();
        BpfFs.checkOnBpfFs(path);
        if (LibC.INSTANCE.mkdir(path.toString(), 0700) != 0) {
            throw SysErrno.lastAsException("mkdir " + path);
        }
        if (lifetime == Lifetime.SCOPED) {
            synchronized (this) {
                madePinDirs.add(path);
            }
        }
    }

    @Override
    public void pinRmdir(Path path) throws BpfException {
        ensureOpen();
        BpfFs.checkOnBpfFs(path);
        if (LibC.INSTANCE.rmdir(path.toString()) != 0) {
            throw SysErrno.lastAsException("rmdir " + path);
        }
        synchronized (this) {
            madePinDirs.remove(path);
        }
    }

    @Override
    public List<String> pinList(Path dir) throws BpfException {
        ensureOpen();
        BpfFs.checkOnBpfFs(dir);
        // open(2) first, for the kernel's answer (ENOENT, ENOTDIR, EPERM for a name with '.')
        int fd = LibC.INSTANCE.open(dir.toString(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            throw SysErrno.lastAsException("open " + dir);
        }
        LibC.INSTANCE.close(fd);
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new BpfException(Errno.EIO, "cannot list " + dir + ": " + e.getMessage());
        }
    }

    // ---- probes ----

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
    @Override
    public boolean device(String cgroup, Probe.DeviceAccess access) throws BpfException {
        ensureOpen();
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

    @Override
    public Probe.SocketInfo socket(String cgroup, Probe.Family family, Probe.SockType type, int protocol)
            throws BpfException {
        ensureOpen();
        String[] v = probe(cgroup, "socket " + af(family) + " " + sockType(type) + " " + protocol);
        return new Probe.SocketInfo(Integer.parseInt(v[0]), Integer.parseInt(v[1]), Integer.parseInt(v[2]));
    }

    @Override
    public void listen(InetAddress addr, int port, Probe.Proto proto) throws BpfException {
        ensureOpen();
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
    @Override
    public Probe.Bound bind(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        ensureOpen();
        String[] v = probe(cgroup, "bind " + af(family) + " " + sockType(proto) + " " + SockAddr.hex(addr) + " "
                + port);
        int bound = Integer.parseInt(v[1]);
        if (port == 0 && LocalPortRange.current().contains(bound)) {
            bound = 0;
        }
        return new Probe.Bound(SockAddr.unhex(v[0]), bound);
    }

    @Override
    public Probe.Connected connect(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        ensureOpen();
        listeners.drainConnections();
        try {
            String[] v = probe(cgroup, "connect " + af(family) + " " + sockType(proto) + " " + SockAddr.hex(addr)
                    + " " + port + " " + DELIVERY_TIMEOUT_MS);
            return new Probe.Connected(SockAddr.unhex(v[0]), Integer.parseInt(v[1]), SockAddr.unhex(v[2]));
        } finally {
            listeners.drainConnections();
        }
    }

    @Override
    public Probe.Delivered sendmsg(String cgroup, Probe.Family family, InetAddress addr, int port, InetAddress src)
            throws BpfException {
        ensureOpen();
        listeners.drainDatagrams();
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
        CgroupSession s = session();
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
        ensureOpen();
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
        ensureOpen();
        if (privateDir == null) {
            sweepStalePrivateDirs();
            try {
                privateDir = Files.createTempDirectory(PRIVATE_PREFIX + ProcessHandle.current().pid() + "-",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (IOException e) {
                throw new BpfException(Errno.EIO, "cannot make a private directory: " + e.getMessage());
            }
            ShutdownTeardown.register(this);
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

    private synchronized CgroupSession session() throws BpfException {
        ensureOpen();
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
    synchronized long workerPid() {
        return worker == null ? -1 : worker.pid();
    }

    /** The private directory for device nodes, or null when none was made yet (for tests). */
    synchronized Path privateDirectory() {
        return privateDir;
    }

    /** The kernel ids of the programs this backend loaded (for leak checks). */
    public Set<Integer> loadedProgIds() {
        return Set.copyOf(namesById.keySet());
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
            if (closed) {
                return;
            }
            closed = true;
            all = new ArrayList<>(open);
            open.clear();
            s = session;
        }
        ShutdownTeardown.unregister(this);
        endWorker();
        listeners.close();
        if (s != null && lifetime == Lifetime.SCOPED) {
            boolean fresh = fixedRoot == null;
            for (String problem : s.teardown(id -> fresh || namesById.containsKey(id))) {
                LOG.warn("kernel backend teardown: {}", problem);
            }
        }
        if (lifetime == Lifetime.SCOPED) {
            unpinAll();
        }
        for (int i = all.size() - 1; i >= 0; i--) {
            all.get(i).close();
        }
        Path dir;
        synchronized (this) {
            dir = privateDir;
        }
        if (dir != null) {
            deleteTree(dir);
        }
    }

    /** Removes the pins, then the pin directories, this backend made (newest first); logs what stays. */
    private void unpinAll() {
        List<Path> pins;
        List<Path> dirs;
        synchronized (this) {
            pins = new ArrayList<>(madePins);
            dirs = new ArrayList<>(madePinDirs);
        }
        for (int i = pins.size() - 1; i >= 0; i--) {
            if (LibC.INSTANCE.unlink(pins.get(i).toString()) != 0 && SysErrno.last() != Errno.ENOENT.number()) {
                LOG.warn("kernel backend teardown: unpin {}: {}", pins.get(i), SysErrno.name(SysErrno.last()));
            }
        }
        for (int i = dirs.size() - 1; i >= 0; i--) {
            if (LibC.INSTANCE.rmdir(dirs.get(i).toString()) != 0 && SysErrno.last() != Errno.ENOENT.number()) {
                LOG.warn("kernel backend teardown: rmdir {}: {}", dirs.get(i), SysErrno.name(SysErrno.last()));
            }
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

    /** Number of programs, maps and links this backend holds open (for tests and diagnostics). */
    public synchronized int openCount() {
        return open.size();
    }

    synchronized void forget(KernelObject o) {
        open.remove(o);
    }

    private synchronized <T extends KernelObject> T track(T o) {
        open.add(o);
        return o;
    }

    private synchronized void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the kernel backend is closed");
        }
    }

    private KernelProg own(LoadedProg prog) {
        if (prog instanceof KernelProg p && p.isOpenIn(this)) {
            return p;
        }
        throw new IllegalArgumentException(prog + " is not an open program of this kernel backend");
    }

    private KernelMap own(BpfMap map) {
        if (map instanceof KernelMap m && m.isOpenIn(this)) {
            return m;
        }
        throw new IllegalArgumentException(map + " is not an open map of this kernel backend");
    }

    private KernelLink own(BpfLink link) {
        if (link instanceof KernelLink l && l.isOpenIn(this)) {
            return l;
        }
        throw new IllegalArgumentException(link + " is not an open link of this kernel backend");
    }

    private KernelObject own(BpfObject obj) {
        if (obj instanceof KernelObject o && o.isOpenIn(this)) {
            return o;
        }
        throw new IllegalArgumentException(obj + " is not an open program, map or link of this kernel backend");
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

    /** The name as the kernel will take it: only [A-Za-z0-9_.], others as '_'. */
    static String kernelName(String name) {
        return ObjNames.kernelName(name);
    }
}
