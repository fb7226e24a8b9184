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
import dev.cgbpf.engine.backend.ObjNames;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgInfo;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupLink;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.cgroup.CgroupTree;
import dev.cgbpf.engine.hooks.CgroupHelpers;
import dev.cgbpf.engine.hooks.CgroupSkbTestRun;
import dev.cgbpf.engine.hooks.DeviceCgroup;
import dev.cgbpf.engine.hooks.HookFault;
import dev.cgbpf.engine.hooks.HookRunner;
import dev.cgbpf.engine.hooks.LircDevice;
import dev.cgbpf.engine.hooks.ProgExecutor;
import dev.cgbpf.engine.hooks.SkbHooks;
import dev.cgbpf.engine.hooks.SocketLayer;
import dev.cgbpf.engine.hooks.SockOpsHook;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.ProgramFault;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.HelperIds;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.MalformedProgramException;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.maps.CgroupStorageMap;
import dev.cgbpf.engine.maps.EngineMap;
import dev.cgbpf.engine.verifier.Verifier;
import dev.cgbpf.engine.verifier.VerifierResult;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The in-JVM {@link Backend}: programs run on the {@link Interpreter}, maps are
 * {@link EngineMap}s, and both get small integer fds handed out like a kernel fd table does
 * ({@link FdTable}).
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
    /** BPF_COMPLEXITY_LIMIT_INSNS: the kernel refuses longer programs with E2BIG. */
    static final int MAX_INSNS = 1_000_000;
    /** Largest test_run packet: PAGE_SIZE - headroom (NET_SKB_PAD) - skb_shared_info tail, as the kernel measures. */
    static final int MAX_SKB_DATA = 3712;
    static final int IPV4_HLEN = 20;
    static final int IPV6_HLEN = 40;

    private final EngineHost host;
    private final Lifetime lifetime;
    /** True when the root was made for this backend (a scenario root): close() then removes it all. */
    private final boolean freshRoot;
    private final Cgroup root;
    private final FdTable fds = new FdTable();
    private final long insnBudget;
    private final HookRunner hooks;
    private final DeviceCgroup devices;
    private final SocketLayer sockets;
    /** The programs this backend loaded: what a scoped close() detaches under an existing root. */
    private final Set<EngineProg> loaded = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    /** Cgroups, pins and pin directories this backend made, in order (undone by a scoped close()). */
    private final List<Cgroup> madeCgroups = Collections.synchronizedList(new ArrayList<>());
    private final List<Path> madePins = Collections.synchronizedList(new ArrayList<>());
    private final List<Path> madePinDirs = Collections.synchronizedList(new ArrayList<>());
    private boolean closed;

    /** A backend on a host of its own, at a fresh scenario root, {@link Lifetime#SCOPED}. */
    public EngineBackend() {
        this(Interpreter.DEFAULT_BUDGET);
    }

    /** @param insnBudget instructions one program run may execute before it is stopped */
    public EngineBackend(long insnBudget) {
        this(new EngineHost(), null, Lifetime.SCOPED, insnBudget);
    }

    private EngineBackend(EngineHost host, Cgroup root, Lifetime lifetime, long insnBudget) {
        if (insnBudget <= 0) {
            throw new IllegalArgumentException("instruction budget must be positive, got " + insnBudget);
        }
        this.host = host;
        this.lifetime = lifetime;
        this.insnBudget = insnBudget;
        this.freshRoot = root == null;
        this.root = root == null ? host.newScenarioRoot() : root;
        this.hooks = new HookRunner(host.tree, executor());
        this.devices = new DeviceCgroup(hooks);
        this.sockets = new SocketLayer(hooks);
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

    // ---------------------------------------------------------------- programs

    @Override
    public LoadedProg load(LoadRequest request) throws BpfException {
        Program p = request.program();
        // the kernel's bpf_prog_load refuses an empty or oversized program before anything else
        if (p == null || p.size() == 0 || p.size() > MAX_INSNS) {
            throw new BpfException(Errno.E2BIG, "program '" + request.name() + "' has "
                    + (p == null ? 0 : p.size()) + " instructions (1 to " + MAX_INSNS + " allowed)", "");
        }
        // the verifier checks in the kernel's order, map fds included; usedMaps then only collects them
        VerifierResult verified = Verifier.verify(p, request.type(), request.expectedAttach(), this::mapSpecAt,
                fd -> fds.get(fd) != null, request.logLevel(), request.license());
        Set<EngineMap> used = usedMaps(request.name(), p);
        Interpreter interp;
        try {
            interp = Interpreter.decode(p, pseudoResolver());
        } catch (MalformedProgramException e) {
            // the verifier accepted what the interpreter cannot decode: an engine bug, never the user's
            throw new IllegalStateException("program '" + request.name() + "' passed the verifier but: "
                    + e.getMessage(), e);
        }
        checkOneStorageOfEachType(request.name(), used);
        checkHelpersRunnable(request, verified);
        for (EngineMap m : used) {
            m.retain();
        }
        EngineProg prog = new EngineProg(request.name(), request.type(), request.expectedAttach(), p, interp,
                List.copyOf(used), verified, host.nextProgId());
        loaded.add(prog);
        return new ProgFd(fds, prog);
    }

    /** The spec of the map open at {@code fd}, or null when the fd is no map (the verifier's view). */
    private MapSpec mapSpecAt(int fd) {
        return fds.get(fd) instanceof MapFd h ? h.map.spec() : null;
    }

    /**
     * The maps a program refers to by fd, checked as resolve_pseudo_ldimm64 checks them: an fd
     * that is not open is EBADF, an open fd that is not a map EINVAL, both with the kernel's log line.
     */
    private Set<EngineMap> usedMaps(String name, Program p) throws BpfException {
        Set<EngineMap> used = new LinkedHashSet<>();
        for (int i = 0; i < p.size(); i++) {
            Insn insn = p.get(i);
            if (!insn.isLdImm64()) {
                continue;
            }
            if (insn.src() == Opcodes.PSEUDO_MAP_FD || insn.src() == Opcodes.PSEUDO_MAP_VALUE) {
                Object o = fds.get(insn.imm());
                if (!(o instanceof MapFd h)) {
                    String log = "fd " + insn.imm() + " is not pointing to valid bpf_map";
                    throw new BpfException(o == null ? Errno.EBADF : Errno.EINVAL,
                            "program '" + name + "': insn " + i + ": " + log, log);
                }
                used.add(h.map);
            }
            i++;
        }
        return used;
    }

    /**
     * The verifier's rule for cgroup storage: a program uses at most one shared and one per-CPU
     * storage map ("only one cgroup storage of each type is allowed", EBUSY).
     */
    private static void checkOneStorageOfEachType(String name, Set<EngineMap> used) throws BpfException {
        CgroupStorageMap shared = null;
        CgroupStorageMap percpu = null;
        for (EngineMap m : used) {
            if (m instanceof CgroupStorageMap s) {
                CgroupStorageMap seen = s.percpu() ? percpu : shared;
                if (seen != null && seen != s) {
                    String log = "only one cgroup storage of each type is allowed";
                    throw new BpfException(Errno.EBUSY, "program '" + name + "': " + log, log);
                }
                if (s.percpu()) {
                    percpu = s;
                } else {
                    shared = s;
                }
            }
        }
    }

    /**
     * The engine's own last check, after every check the kernel makes: each helper the program
     * calls must be one the interpreter implements for the program type, so that a program the
     * engine cannot run is refused here (EINVAL) instead of faulting when it runs. A call in code
     * that can never run is refused too (stricter than the kernel, which drops dead code).
     */
    private static void checkHelpersRunnable(LoadRequest request, VerifierResult verified) throws BpfException {
        dev.cgbpf.engine.interp.HelperTable table = CgroupHelpers.tableFor(request.type(), request.expectedAttach());
        Program p = request.program();
        for (int i = 0; i < p.size(); i++) {
            Insn insn = p.get(i);
            if (insn.isLdImm64()) {
                i++;
            } else if (insn.code() == (Opcodes.JMP | Opcodes.CALL) && insn.src() == 0 && !table.has(insn.imm())) {
                int id = insn.imm();
                String line = "engine: helper " + HelperIds.name(id).orElse("helper") + "#" + id
                        + " is not implemented by the engine's interpreter";
                String log = verified.log() == null || verified.log().isEmpty() ? line + "\n"
                        : verified.log() + (verified.log().endsWith("\n") ? "" : "\n") + line + "\n";
                throw new BpfException(Errno.EINVAL, "program '" + request.name() + "': insn " + i + ": " + line, log);
            }
        }
    }

    /** resolve_pseudo_ldimm64: map fds of this backend become map object / value addresses. */
    private PseudoResolver pseudoResolver() {
        return (src, imm, nextImm) -> {
            if (src != Opcodes.PSEUDO_MAP_FD && src != Opcodes.PSEUDO_MAP_VALUE) {
                throw new Fault(src > Opcodes.PSEUDO_MAP_IDX_VALUE ? "unrecognized bpf_ld_imm64 insn"
                        : "ld_imm64 with src " + src + " is not supported by the engine");
            }
            EngineMap map = ((MapFd) fds.get(imm)).map;
            if (src == Opcodes.PSEUDO_MAP_FD) {
                return map.objectAddress();
            }
            long address = map.directValueAddress(nextImm);
            if (address < 0) {
                throw new Fault("invalid access to map value pointer, value_size=" + map.spec().valueSize()
                        + " off=" + Integer.toUnsignedString(nextImm));
            }
            return address;
        };
    }

    @Override
    public TestRun.Result testRun(LoadedProg loaded, TestRun.Request request) throws BpfException {
        EngineProg prog = prog(loaded);
        if (prog.type != ProgType.SOCKET_FILTER && prog.type != ProgType.CGROUP_SKB) {
            // the kernel has no test_run for the other cgroup types (ENOTSUPP)
            throw new BpfException(Errno.ENOTSUPP, "test_run of " + prog.type.scenarioName() + " programs is not supported");
        }
        byte[] data = request.dataIn() == null ? new byte[0] : request.dataIn();
        checkSkbData(data);
        if (prog.type == ProgType.CGROUP_SKB) {
            return testRunCgroupSkb(prog, data, Math.max(1, request.repeat()));
        }
        SkBuffContext ctx = new SkBuffContext(data);
        Machine machine = new Machine(host.space, BaseHelpers.TABLE, ctx);
        int repeat = Math.max(1, request.repeat());
        long r0 = 0;
        long start = System.nanoTime();
        try {
            for (int i = 0; i < repeat; i++) {
                r0 = prog.interp.run(machine, insnBudget);
            }
        } catch (ProgramFault f) {
            throw new BpfException(Errno.EFAULT, "program '" + prog.name + "' faulted: " + f.getMessage());
        }
        long duration = (System.nanoTime() - start) / repeat;
        return new TestRun.Result(r0 & 0xffffffffL, ctx.dataOut(), duration);
    }

    /** bpf_prog_test_run_skb for a cgroup_skb program ({@link CgroupSkbTestRun}). */
    private TestRun.Result testRunCgroupSkb(EngineProg prog, byte[] frame, int repeat) throws BpfException {
        long start = System.nanoTime();
        try {
            CgroupSkbTestRun.Result r = new CgroupSkbTestRun(executor(), host.tree.root()).run(prog, frame, repeat);
            return new TestRun.Result(r.retval(), r.dataOut(), (System.nanoTime() - start) / repeat);
        } catch (HookFault f) {
            throw new BpfException(Errno.EFAULT, f.getMessage());
        }
    }

    /** The packet checks of bpf_prog_test_run_skb, as the running kernel answers them. */
    private static void checkSkbData(byte[] data) throws BpfException {
        if (data.length < SkBuffContext.ETH_HLEN || data.length > MAX_SKB_DATA) {
            throw new BpfException(Errno.EINVAL, "test_run data of " + data.length + " bytes: need "
                    + SkBuffContext.ETH_HLEN + ".." + MAX_SKB_DATA);
        }
        int etherType = ((data[12] & 0xff) << 8) | (data[13] & 0xff);
        int payload = data.length - SkBuffContext.ETH_HLEN;
        if ((etherType == 0x0800 && payload < IPV4_HLEN) || (etherType == 0x86dd && payload < IPV6_HLEN)) {
            throw new BpfException(Errno.EINVAL, "test_run data: EtherType 0x" + Integer.toHexString(etherType)
                    + " with a " + payload + "-byte network header is too short");
        }
    }

    private EngineProg prog(LoadedProg loaded) throws BpfException {
        if (!(loaded instanceof ProgFd f) || !f.isOpenIn(fds)) {
            throw new BpfException(Errno.EBADF, "program is not loaded in this engine");
        }
        return f.prog;
    }

    @Override
    public ProgInfo progInfo(LoadedProg loaded) throws BpfException {
        EngineProg p = prog(loaded);
        return new ProgInfo(p.id, p.type, ObjNames.infoName(p.name), p.tag);
    }

    // ---------------------------------------------------------------- maps

    @Override
    public BpfMap createMap(MapSpec spec) throws BpfException {
        EngineMap map = EngineMap.create(spec, host.space);
        map.assignId(host.nextMapId());
        if (map instanceof CgroupStorageMap s) {
            host.storageMaps.add(s);
        }
        return new MapFd(fds, map, ObjAccess.READ_WRITE);
    }

    private MapFd handle(BpfMap map) throws BpfException {
        if (!(map instanceof MapFd h) || !h.isOpenIn(fds)) {
            throw new BpfException(Errno.EBADF, "map is not open in this engine");
        }
        return h;
    }

    private static void checkKey(EngineMap m, byte[] key) throws BpfException {
        if (key == null) {
            throw new BpfException(Errno.EFAULT, "no key");
        }
        if (key.length != m.spec().keySize()) {
            throw new BpfException(Errno.EINVAL, "key of " + key.length + " bytes for map '" + m.spec().name()
                    + "' with key_size " + m.spec().keySize());
        }
    }

    @Override
    public void update(BpfMap map, byte[] key, byte[] value, long flags) throws BpfException {
        MapFd h = handle(map);
        EngineMap m = h.map;
        if (!m.syscallCanWrite() || !h.access.canWrite()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is read-only for user space (or through this fd)");
        }
        checkKey(m, key);
        if (value == null) {
            throw new BpfException(Errno.EFAULT, "no value");
        }
        if (value.length != m.syscallValueSize()) {
            throw new BpfException(Errno.EINVAL, "value of " + value.length + " bytes for map '" + m.spec().name()
                    + "' with value_size " + m.spec().valueSize()
                    + (m.syscallValueSize() != m.spec().valueSize() ? " (" + m.syscallValueSize() + " for all CPUs)" : ""));
        }
        EngineMap.check(m.updateElem(key, value, flags), "update of map '" + m.spec().name() + "'");
    }

    @Override
    public byte[] lookup(BpfMap map, byte[] key) throws BpfException {
        MapFd h = handle(map);
        EngineMap m = h.map;
        if (!m.syscallCanRead() || !h.access.canRead()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is write-only for user space (or through this fd)");
        }
        checkKey(m, key);
        synchronized (m) {
            int i = m.lookupIndex(key);
            if (i < 0) {
                throw new BpfException(Errno.ENOENT, "no such key in map '" + m.spec().name() + "'");
            }
            return m.valueOf(i);
        }
    }

    @Override
    public void delete(BpfMap map, byte[] key) throws BpfException {
        MapFd h = handle(map);
        EngineMap m = h.map;
        if (!m.syscallCanWrite() || !h.access.canWrite()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is read-only for user space (or through this fd)");
        }
        checkKey(m, key);
        EngineMap.check(m.deleteElem(key), "delete from map '" + m.spec().name() + "'");
    }

    @Override
    public byte[] nextKey(BpfMap map, byte[] key) throws BpfException {
        MapFd h = handle(map);
        EngineMap m = h.map;
        if (!m.syscallCanRead() || !h.access.canRead()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is write-only for user space (or through this fd)");
        }
        if (key != null) {
            checkKey(m, key);
        }
        byte[] next = m.nextKey(key);
        if (next == null) {
            throw new BpfException(Errno.ENOENT, "no next key in map '" + m.spec().name() + "'");
        }
        return next;
    }

    @Override
    public MapInfo mapInfo(BpfMap map) throws BpfException {
        EngineMap m = handle(map).map;
        MapSpec s = m.spec();
        return new MapInfo(m.id(), new MapSpec(ObjNames.infoName(s.name()), s.type(), s.keySize(), s.valueSize(),
                s.maxEntries(), s.flags()));
    }

    // ---------------------------------------------------------------- cgroups

    /** The cgroup at a path relative to the backend's root; "" and "." are the root itself. */
    private Cgroup cgroup(String path) throws BpfException {
        return host.tree.lookup(treePath(path));
    }

    private String treePath(String path) {
        if (path == null) {
            throw new IllegalArgumentException("cgroup path missing");
        }
        if (path.startsWith("/") || List.of(path.split("/", -1)).contains("..")) {
            throw new IllegalArgumentException("cgroup path '" + path + "' escapes the backend's root");
        }
        String base = root.path();
        if (path.isEmpty() || path.equals(".")) {
            return base;
        }
        return base.isEmpty() ? path : base + "/" + path;
    }

    @Override
    public void mkdir(String path) throws BpfException {
        madeCgroups.add(host.tree.mkdir(treePath(path)));
    }

    /** rmdir, and cgroup_bpf_release: the cgroup's storages go with it. */
    @Override
    public void rmdir(String path) throws BpfException {
        host.rmdir(cgroup(path));
    }

    /** BPF_PROG_ATTACH, then bpf_cgroup_storages_alloc for the maps the program uses (kept if they exist). */
    @Override
    public void attach(String path, LoadedProg loaded, AttachType type, Set<AttachFlag> flags, LoadedProg replace)
            throws BpfException {
        EngineProg p = prog(loaded);
        EngineProg r = replace == null ? null : prog(replace);
        Cgroup c = cgroup(path);
        host.tree.attach(c, p, type, flags, r);
        allocateStorage(p, c, type);
    }

    private static void allocateStorage(EngineProg p, Cgroup c, AttachType type) throws BpfException {
        for (EngineMap m : p.maps) {
            if (m instanceof CgroupStorageMap s) {
                s.allocate(c.id(), type);
            }
        }
    }

    @Override
    public void detach(String path, AttachType type, LoadedProg loaded) throws BpfException {
        EngineProg p = loaded == null ? null : prog(loaded);
        host.tree.detach(cgroup(path), type, p);
    }

    @Override
    public QueryResult query(String path, AttachType type, boolean effective, int max) throws BpfException {
        if (max < -1) {
            throw new IllegalArgumentException("query buffer size must be >= 0 (or -1 for any), got " + max);
        }
        dev.cgbpf.engine.cgroup.QueryResult q = host.tree.query(cgroup(path), type, effective, max < 0 ? Integer.MAX_VALUE : max);
        List<String> names = new ArrayList<>();
        for (CgroupProg cp : q.progs()) {
            names.add(cp.name());
        }
        return new QueryResult(q.flags(), names, q.count(), q.noSpace() ? "ENOSPC" : null);
    }

    @Override
    public List<Integer> queryProgIds(String path, AttachType type, boolean effective) throws BpfException {
        List<Integer> ids = new ArrayList<>();
        for (CgroupProg cp : host.tree.query(cgroup(path), type, effective).progs()) {
            ids.add(cp instanceof EngineProg p ? p.id : 0);
        }
        return ids;
    }

    @Override
    public long cgroupId(String path) throws BpfException {
        return cgroup(path).id();
    }

    /**
     * The storage a program attached to (cgroup, type) sees: the map's element keyed by the cgroup's
     * id and the attach type (or the id alone for an 8-byte key); ENOENT when none was allocated.
     */
    @Override
    public byte[] storage(String path, AttachType type, BpfMap map) throws BpfException {
        EngineMap m = handle(map).map;
        if (!(m instanceof CgroupStorageMap s)) {
            throw new BpfException(Errno.EINVAL, "map '" + m.spec().name() + "' is not a cgroup storage map");
        }
        Cgroup c = cgroup(path);
        synchronized (s) {
            int i = s.lookupIndex(s.key(c.id(), type));
            if (i < 0) {
                throw new BpfException(Errno.ENOENT, "no storage of map '" + m.spec().name() + "' for cgroup '"
                        + path + "' and " + type.scenarioName());
            }
            return s.valueOf(i);
        }
    }

    // ---------------------------------------------------------------- cgroup links

    /**
     * BPF_LINK_CREATE on a cgroup of this backend ({@link CgroupTree#linkCreate} has the rules):
     * the link gets an fd of its own, and closing its last fd (with no pin) detaches the program,
     * as closing a kernel link fd does. Cgroup storage is allocated for the program's maps as for
     * a plain attach.
     */
    @Override
    public LinkFd linkCreate(String path, LoadedProg loaded, AttachType type) throws BpfException {
        EngineProg p = prog(loaded);
        Cgroup c = cgroup(path);
        CgroupLink cgroupLink = host.tree.linkCreate(c, p, type);
        allocateStorage(p, c, type);
        return new LinkFd(fds, new EngineLink(cgroupLink, host.nextLinkId()));
    }

    /**
     * BPF_LINK_UPDATE: EBADF for a closed link or a program not loaded here, then the rules of
     * {@link CgroupTree#linkUpdate}. {@code oldProg} non-null is BPF_F_REPLACE.
     *
     * <p>No cgroup storage is allocated for the new program: the kernel (6.18) keeps the link's
     * entry with the storage made when the link was created and accepts a new program using other
     * storage maps. Such a program then runs in the kernel on the old program's storage; in the
     * engine its bpf_get_local_storage finds no storage and the hook fails with EFAULT.
     */
    @Override
    public void linkUpdate(BpfLink link, LoadedProg newProg, LoadedProg oldProg) throws BpfException {
        LinkFd l = link(link);
        EngineProg p = prog(newProg);
        EngineProg old = oldProg == null ? null : prog(oldProg);
        l.link.cgroupLink.update(p, old);
    }

    /** BPF_LINK_DETACH: EBADF for a closed link; a defunct one succeeds doing nothing. */
    @Override
    public void linkDetach(BpfLink link) throws BpfException {
        link(link).link.cgroupLink.detach();
    }

    @Override
    public LinkInfo linkInfo(BpfLink link) throws BpfException {
        EngineLink l = link(link).link;
        CgroupLink cl = l.cgroupLink;
        Cgroup c = cl.cgroup();
        return new LinkInfo(l.id, cl.prog() instanceof EngineProg p ? p.id : 0, cl.attachType(), c == null ? 0 : c.id());
    }

    private LinkFd link(BpfLink link) throws BpfException {
        if (!(link instanceof LinkFd l) || !l.isOpenIn(fds)) {
            throw new BpfException(Errno.EBADF, "link is not open in this engine");
        }
        return l;
    }

    // ---------------------------------------------------------------- the bpf file system

    /** The object an fd of this backend holds, for a pin; EINVAL when it is no open fd here (as bpf_fd_probe_obj). */
    private Object object(BpfObject obj) throws BpfException {
        if (obj instanceof ProgFd f && f.isOpenIn(fds)) {
            return f.prog;
        }
        if (obj instanceof MapFd f && f.isOpenIn(fds)) {
            return f.map;
        }
        if (obj instanceof LinkFd f && f.isOpenIn(fds)) {
            return f.link;
        }
        throw new BpfException(Errno.EINVAL, obj + " is not an open program, map or link of this engine");
    }

    @Override
    public void objPin(BpfObject obj, Path path) throws BpfException {
        host.bpffs.pin(object(obj), path);
        if (lifetime == Lifetime.SCOPED) {
            madePins.add(path);
        }
    }

    @Override
    public BpfObject objGet(Path path, ObjAccess access) throws BpfException {
        Object o = host.bpffs.getAndHold(path);
        if (o instanceof EngineProg p) {
            return new ProgFd(fds, p);
        }
        if (o instanceof EngineMap m) {
            return new MapFd(fds, m, access);
        }
        EngineLink l = (EngineLink) o;
        if (access != ObjAccess.READ_WRITE) {
            l.put();
            throw new BpfException(Errno.EINVAL, "a link is opened read-write only, not " + access);
        }
        return new LinkFd(fds, l);
    }

    @Override
    public void unpin(Path path) throws BpfException {
        host.bpffs.unlink(path);
        madePins.remove(path);
    }

    @Override
    public void pinMkdir(Path path) throws BpfException {
        host.bpffs.mkdir(path);
        if (lifetime == Lifetime.SCOPED) {
            madePinDirs.add(path);
        }
    }

    @Override
    public void pinRmdir(Path path) throws BpfException {
        host.bpffs.rmdir(path);
        madePinDirs.remove(path);
    }

    @Override
    public List<String> pinList(Path dir) throws BpfException {
        return host.bpffs.list(dir);
    }

    // ---------------------------------------------------------------- probes

    /** Runs one program for a hook; a run-time fault becomes a {@link HookFault}. */
    private ProgExecutor executor() {
        return (cgroupProg, ctx, env) -> {
            EngineProg p = (EngineProg) cgroupProg;
            Machine m = new Machine(host.space, p.helpers, ctx, env);
            try {
                return p.interp.run(m, insnBudget) & 0xffffffffL;
            } catch (ProgramFault f) {
                throw new HookFault(p.name, f.getMessage());
            }
        };
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

    @Override
    public boolean device(String path, Probe.DeviceAccess access) throws BpfException {
        Cgroup c = cgroup(path);
        return probe(() -> devices.check(c, access));
    }

    @Override
    public Probe.SocketInfo socket(String path, Probe.Family family, Probe.SockType type, int protocol)
            throws BpfException {
        Cgroup c = cgroup(path);
        return probe(() -> sockets.socket(c, family, type, protocol));
    }

    @Override
    public void listen(InetAddress addr, int port, Probe.Proto proto) throws BpfException {
        sockets.listen(addr, port, proto);
    }

    @Override
    public Probe.Bound bind(String path, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        Cgroup c = cgroup(path);
        return probe(() -> sockets.bind(c, family, proto, addr, port));
    }

    @Override
    public Probe.Connected connect(String path, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException {
        Cgroup c = cgroup(path);
        return probe(() -> sockets.connect(c, family, proto, addr, port));
    }

    @Override
    public Probe.Delivered sendmsg(String path, Probe.Family family, InetAddress addr, int port, InetAddress src)
            throws BpfException {
        Cgroup c = cgroup(path);
        return probe(() -> sockets.sendmsg(c, family, addr, port, src));
    }

    /** The cgroup_skb hooks of this backend's tree (library level: the scenario format has no skb probe). */
    public SkbHooks skbHooks() {
        return new SkbHooks(hooks);
    }

    /** The sock_ops hook of this backend's tree (library level). */
    public SockOpsHook sockOpsHook() {
        return new SockOpsHook(hooks);
    }

    /** The cgroup of a backend path, for the library-level hooks. */
    public Cgroup cgroupAt(String path) throws BpfException {
        return cgroup(path);
    }

    /** A new remote-control receiver to attach lirc_mode2 programs of this backend to. */
    public LircDevice newLircDevice() {
        return new LircDevice(executor());
    }

    /** A program of this backend as the cgroup and lirc layers take it. */
    public CgroupProg cgroupProg(LoadedProg loaded) throws BpfException {
        return prog(loaded);
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
            teardown(root);
            if (!freshRoot) {
                List<Cgroup> made = new ArrayList<>(madeCgroups);
                for (int i = made.size() - 1; i >= 0; i--) {
                    removeCgroup(made.get(i));
                }
            }
            unpinAll();
        }
        sockets.close();
        for (Object o : fds.open()) {
            ((BpfObject) o).close();
        }
    }

    /** Detaches this backend's programs (all programs under a fresh root) below and at {@code c}, removing cgroups of a fresh root. */
    private void teardown(Cgroup c) {
        for (Cgroup child : List.copyOf(c.children())) {
            teardown(child);
        }
        if (!c.isOnline()) {
            return;
        }
        for (AttachType t : AttachType.values()) {
            if (t == AttachType.LIRC_MODE2) {
                continue;
            }
            for (CgroupProg p : host.tree.attached(c, t)) {
                if (!freshRoot && !loaded.contains(p)) {
                    continue;
                }
                try {
                    host.tree.detach(c, t, p);
                } catch (BpfException e) {
                    // already gone, or attached through a link (which goes with its fd)
                }
            }
        }
        if (freshRoot) {
            removeCgroup(c);
        }
    }

    private void removeCgroup(Cgroup c) {
        if (!c.isOnline()) {
            return;
        }
        try {
            host.rmdir(c);
        } catch (BpfException e) {
            // a child could not go, or somebody else's: it stays
        }
    }

    private void unpinAll() {
        List<Path> pins = new ArrayList<>(madePins);
        for (int i = pins.size() - 1; i >= 0; i--) {
            try {
                host.bpffs.unlink(pins.get(i));
            } catch (BpfException e) {
                // unpinned by somebody else meanwhile
            }
        }
        List<Path> dirs = new ArrayList<>(madePinDirs);
        for (int i = dirs.size() - 1; i >= 0; i--) {
            try {
                host.bpffs.rmdir(dirs.get(i));
            } catch (BpfException e) {
                // not empty (somebody else's pins) or gone
            }
        }
    }
}
