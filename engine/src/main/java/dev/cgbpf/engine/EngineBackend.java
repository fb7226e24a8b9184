package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.cgroup.AttachFlags;
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
import dev.cgbpf.engine.interp.AddressSpace;
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
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The in-JVM {@link Backend}: programs run on the {@link Interpreter}, maps are
 * {@link EngineMap}s, and both get small integer fds handed out like a kernel fd table does
 * (lowest free number, starting at 3 as in a process with stdin/out/err open).
 *
 * <p>Every load goes through the engine's {@link Verifier}, which answers as the running kernel's
 * verifier does (errno and log line; differences in docs/fidelity.md). The interpreter still
 * checks every memory access, so anything the verifier let through by mistake stops with a fault
 * (errno EFAULT, the message naming the instruction) instead of corrupting the JVM.
 *
 * <p>Cgroups: an in-memory {@link CgroupTree}; the backend's cgroup root (path "") is a fresh child
 * of the tree's root, so that rmdir "" behaves as on the kernel. The probes run the effective
 * arrays of that tree through the hooks package ({@link DeviceCgroup}, {@link SocketLayer}); loaded
 * programs are the tree's {@link CgroupProg}s (one object per load). Cgroup storage is allocated
 * when a program using it is attached and freed with its cgroup, as the running kernel does.
 */
public final class EngineBackend implements Backend {
    /** BPF_COMPLEXITY_LIMIT_INSNS: the kernel refuses longer programs with E2BIG. */
    static final int MAX_INSNS = 1_000_000;
    static final int FIRST_FD = 3;
    /** Largest test_run packet: PAGE_SIZE - headroom (NET_SKB_PAD) - skb_shared_info tail, as the kernel measures. */
    static final int MAX_SKB_DATA = 3712;
    static final int IPV4_HLEN = 20;
    static final int IPV6_HLEN = 40;

    /** The name of the backend's cgroup root under the tree's root. */
    static final String SCENARIO_ROOT = "scenario";

    private final AddressSpace space = new AddressSpace();
    private final List<Object> fds = new ArrayList<>();
    private final long insnBudget;
    private final CgroupTree tree = new CgroupTree();
    private final Cgroup scenarioRoot;
    private final HookRunner hooks;
    private final DeviceCgroup devices;
    private final SocketLayer sockets;
    /** Every storage map made here, so an rmdir can free its cgroup's storages even in maps whose fd is closed. */
    private final List<CgroupStorageMap> storageMaps = new CopyOnWriteArrayList<>();

    public EngineBackend() {
        this(Interpreter.DEFAULT_BUDGET);
    }

    /** @param insnBudget instructions one program run may execute before it is stopped */
    public EngineBackend(long insnBudget) {
        if (insnBudget <= 0) {
            throw new IllegalArgumentException("instruction budget must be positive, got " + insnBudget);
        }
        this.insnBudget = insnBudget;
        try {
            this.scenarioRoot = tree.mkdir(SCENARIO_ROOT);
        } catch (BpfException e) {
            throw new IllegalStateException("a fresh cgroup tree has no room for its root", e);
        }
        this.hooks = new HookRunner(tree, executor());
        this.devices = new DeviceCgroup(hooks);
        this.sockets = new SocketLayer(hooks);
    }

    @Override
    public String name() {
        return "engine";
    }

    // ---------------------------------------------------------------- fds

    private synchronized int allocFd(Object o) {
        for (int i = 0; i < fds.size(); i++) {
            if (fds.get(i) == null) {
                fds.set(i, o);
                return i + FIRST_FD;
            }
        }
        fds.add(o);
        return fds.size() - 1 + FIRST_FD;
    }

    private synchronized Object fdObject(int fd) {
        int i = fd - FIRST_FD;
        return i >= 0 && i < fds.size() ? fds.get(i) : null;
    }

    private synchronized void freeFd(int fd, Object o) {
        int i = fd - FIRST_FD;
        if (i >= 0 && i < fds.size() && fds.get(i) == o) {
            fds.set(i, null);
        }
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
                fd -> fdObject(fd) != null, request.logLevel(), request.license());
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
        Prog prog = new Prog(request.name(), request.type(), request.expectedAttach(), interp, List.copyOf(used),
                verified);
        prog.fd = allocFd(prog);
        return prog;
    }

    /** The spec of the map open at {@code fd}, or null when the fd is no map (the verifier's view). */
    private MapSpec mapSpecAt(int fd) {
        return fdObject(fd) instanceof MapHandle h && !h.closed ? h.map.spec() : null;
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
                Object o = fdObject(insn.imm());
                if (!(o instanceof MapHandle h) || h.closed) {
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
            EngineMap map = ((MapHandle) fdObject(imm)).map;
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
        if (!(loaded instanceof Prog prog) || fdObject(prog.fd) != prog) {
            throw new BpfException(Errno.EBADF, "program is not loaded in this engine");
        }
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
        Machine machine = new Machine(space, BaseHelpers.TABLE, ctx);
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
    private TestRun.Result testRunCgroupSkb(Prog prog, byte[] frame, int repeat) throws BpfException {
        long start = System.nanoTime();
        try {
            CgroupSkbTestRun.Result r = new CgroupSkbTestRun(executor(), tree.root()).run(prog, frame, repeat);
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

    /** A loaded program: the backend's LoadedProg and, the same object, the cgroup tree's CgroupProg. */
    private final class Prog implements LoadedProg, CgroupProg {
        final String name;
        final ProgType type;
        final AttachType expectedAttach;
        final Interpreter interp;
        final List<EngineMap> maps;
        final dev.cgbpf.engine.interp.HelperTable helpers;
        final VerifierResult verified;
        int fd;
        private boolean closed;

        Prog(String name, ProgType type, AttachType expectedAttach, Interpreter interp, List<EngineMap> maps,
             VerifierResult verified) {
            this.verified = verified;
            this.name = name;
            this.type = type;
            this.expectedAttach = expectedAttach;
            this.interp = interp;
            this.maps = maps;
            this.helpers = CgroupHelpers.tableFor(type, expectedAttach);
        }

        @Override
        public AttachType expectedAttach() {
            return expectedAttach;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public ProgType type() {
            return type;
        }

        @Override
        public String verifierLog() {
            return verified.log();
        }

        @Override
        public boolean enforcesExpectedAttach() {
            return verified.enforcesExpectedAttach();
        }

        @Override
        public void close() {
            synchronized (EngineBackend.this) {
                if (closed) {
                    return;
                }
                closed = true;
                freeFd(fd, this);
            }
            maps.forEach(EngineMap::release);
        }

        @Override
        public String toString() {
            return "engine prog " + name + " (fd " + fd + ")";
        }
    }

    // ---------------------------------------------------------------- maps

    @Override
    public BpfMap createMap(MapSpec spec) throws BpfException {
        EngineMap map = EngineMap.create(spec, space);
        if (map instanceof CgroupStorageMap s) {
            storageMaps.add(s);
        }
        MapHandle h = new MapHandle(map);
        h.fd = allocFd(h);
        return h;
    }

    private MapHandle handle(BpfMap map) throws BpfException {
        if (!(map instanceof MapHandle h) || h.closed || fdObject(h.fd) != h) {
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
        EngineMap m = handle(map).map;
        if (!m.syscallCanWrite()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is read-only for user space");
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
        EngineMap m = handle(map).map;
        if (!m.syscallCanRead()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is write-only for user space");
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
        EngineMap m = handle(map).map;
        if (!m.syscallCanWrite()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is read-only for user space");
        }
        checkKey(m, key);
        EngineMap.check(m.deleteElem(key), "delete from map '" + m.spec().name() + "'");
    }

    @Override
    public byte[] nextKey(BpfMap map, byte[] key) throws BpfException {
        EngineMap m = handle(map).map;
        if (!m.syscallCanRead()) {
            throw new BpfException(Errno.EPERM, "map '" + m.spec().name() + "' is write-only for user space");
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

    private final class MapHandle implements BpfMap {
        final EngineMap map;
        int fd;
        volatile boolean closed;

        MapHandle(EngineMap map) {
            this.map = map;
        }

        @Override
        public MapSpec spec() {
            return map.spec();
        }

        @Override
        public int fd() {
            return fd;
        }

        @Override
        public void close() {
            synchronized (EngineBackend.this) {
                if (closed) {
                    return;
                }
                closed = true;
                freeFd(fd, this);
            }
            map.release();
        }

        @Override
        public String toString() {
            return "engine map " + map.spec().name() + " (fd " + fd + ")";
        }
    }

    // ---------------------------------------------------------------- cgroups

    /** The cgroup at a path relative to the backend's root; "" and "." are the root itself. */
    private Cgroup cgroup(String path) throws BpfException {
        return tree.lookup(treePath(path));
    }

    private static String treePath(String path) {
        if (path == null) {
            throw new IllegalArgumentException("cgroup path missing");
        }
        if (path.startsWith("/") || List.of(path.split("/", -1)).contains("..")) {
            throw new IllegalArgumentException("cgroup path '" + path + "' escapes the backend's root");
        }
        return path.isEmpty() || path.equals(".") ? SCENARIO_ROOT : SCENARIO_ROOT + "/" + path;
    }

    private Prog prog(LoadedProg loaded) throws BpfException {
        if (!(loaded instanceof Prog p) || fdObject(p.fd) != p) {
            throw new BpfException(Errno.EBADF, "program is not loaded in this engine");
        }
        return p;
    }

    @Override
    public void mkdir(String path) throws BpfException {
        tree.mkdir(treePath(path));
    }

    /** rmdir, and cgroup_bpf_release: the cgroup's storages go with it. */
    @Override
    public void rmdir(String path) throws BpfException {
        String p = treePath(path);
        Cgroup c = tree.lookup(p);
        tree.rmdir(p);
        for (CgroupStorageMap m : storageMaps) {
            m.freeCgroup(c.id());
        }
    }

    /** BPF_PROG_ATTACH, then bpf_cgroup_storages_alloc for the maps the program uses (kept if they exist). */
    @Override
    public void attach(String path, LoadedProg loaded, AttachType type, Set<AttachFlag> flags, LoadedProg replace)
            throws BpfException {
        Prog p = prog(loaded);
        Prog r = replace == null ? null : prog(replace);
        Cgroup c = cgroup(path);
        tree.attach(c, p, type, new AttachFlags(AttachFlag.bits(flags)), r);
        for (EngineMap m : p.maps) {
            if (m instanceof CgroupStorageMap s) {
                s.allocate(c.id(), type);
            }
        }
    }

    @Override
    public void detach(String path, AttachType type, LoadedProg loaded) throws BpfException {
        Prog p = loaded == null ? null : prog(loaded);
        tree.detach(cgroup(path), type, p);
    }

    @Override
    public QueryResult query(String path, AttachType type, boolean effective, int max) throws BpfException {
        if (max < -1) {
            throw new IllegalArgumentException("query buffer size must be >= 0 (or -1 for any), got " + max);
        }
        dev.cgbpf.engine.cgroup.QueryResult q = tree.query(cgroup(path), type, effective, max < 0 ? Integer.MAX_VALUE : max);
        List<String> names = new ArrayList<>();
        for (CgroupProg cp : q.progs()) {
            names.add(cp.name());
        }
        return new QueryResult(AttachFlag.of(q.flags().bits()), names, q.count(), q.noSpace() ? "ENOSPC" : null);
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

    // ---------------------------------------------------------------- cgroup links (library level)

    /**
     * BPF_LINK_CREATE on a cgroup of this backend ({@link CgroupTree#linkCreate} has the rules):
     * the link gets an fd of its own, and closing it detaches the program, as closing a kernel
     * link fd does. Cgroup storage is allocated for the program's maps as for a plain attach.
     * The scenario format has no link op; this is for library users and tests.
     */
    public Link linkCreate(String path, LoadedProg loaded, AttachType type) throws BpfException {
        Prog p = prog(loaded);
        Cgroup c = cgroup(path);
        CgroupLink cgroupLink = tree.linkCreate(c, p, type);
        for (EngineMap m : p.maps) {
            if (m instanceof CgroupStorageMap s) {
                s.allocate(c.id(), type);
            }
        }
        Link link = new Link(cgroupLink);
        link.fd = allocFd(link);
        return link;
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
    public void linkUpdate(Link link, LoadedProg newProg, LoadedProg oldProg) throws BpfException {
        Link l = link(link);
        Prog p = prog(newProg);
        Prog old = oldProg == null ? null : prog(oldProg);
        l.cgroupLink.update(p, old);
    }

    /** BPF_LINK_DETACH: EBADF for a closed link; a defunct one succeeds doing nothing. */
    public void linkDetach(Link link) throws BpfException {
        link(link).cgroupLink.detach();
    }

    private Link link(Link link) throws BpfException {
        if (link == null || link.owner() != this || fdObject(link.fd) != link) {
            throw new BpfException(Errno.EBADF, "link is not open in this engine");
        }
        return link;
    }

    /** A cgroup link of this backend with its fd; {@link #close()} is closing the fd. */
    public final class Link implements AutoCloseable {
        private final CgroupLink cgroupLink;
        int fd;

        Link(CgroupLink cgroupLink) {
            this.cgroupLink = cgroupLink;
        }

        EngineBackend owner() {
            return EngineBackend.this;
        }

        public int fd() {
            return fd;
        }

        /** The link in the cgroup tree: its program, attach type, and cgroup (null once defunct). */
        public CgroupLink cgroupLink() {
            return cgroupLink;
        }

        /** Closes the fd: the link is released (detached if still attached). Idempotent. */
        @Override
        public void close() {
            synchronized (EngineBackend.this) {
                if (fdObject(fd) != this) {
                    return;
                }
                freeFd(fd, this);
            }
            cgroupLink.close();
        }

        @Override
        public String toString() {
            return "engine " + cgroupLink + " (fd " + fd + ")";
        }
    }

    // ---------------------------------------------------------------- probes

    /** Runs one program for a hook; a run-time fault becomes a {@link HookFault}. */
    private ProgExecutor executor() {
        return (cgroupProg, ctx, env) -> {
            Prog p = (Prog) cgroupProg;
            Machine m = new Machine(space, p.helpers, ctx, env);
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
     * Detaches everything attached under the backend's root, removes its cgroups bottom-up, closes
     * the helper endpoints, then every fd.
     */
    @Override
    public void close() {
        teardown(scenarioRoot);
        sockets.close();
        closeFds();
    }

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
            for (CgroupProg p : tree.attached(c, t)) {
                try {
                    tree.detach(c, t, p);
                } catch (BpfException e) {
                    // already gone: nothing to undo
                }
            }
        }
        if (c != scenarioRoot) {
            try {
                tree.rmdir(c.path());
            } catch (BpfException e) {
                // a child could not go; the tree is dropped with the backend anyway
            }
            for (CgroupStorageMap m : storageMaps) {
                m.freeCgroup(c.id());
            }
        }
    }

    private void closeFds() {
        List<Object> open;
        synchronized (this) {
            open = new ArrayList<>(fds);
        }
        for (Object o : open) {
            if (o instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing " + o, e);
                }
            }
        }
    }
}
