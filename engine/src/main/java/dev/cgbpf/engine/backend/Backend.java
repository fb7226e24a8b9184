package dev.cgbpf.engine.backend;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A cgroup-bpf implementation: the in-JVM engine or the host kernel. Both give the same answers,
 * errno for errno; the scenario runner and the OCI hook drive either through this interface.
 *
 * <p>Objects ({@link LoadedProg}, {@link BpfMap}, {@link BpfLink}) are fds of the backend that made
 * or opened them; passing one to another backend is a programming error. What {@link #close()}
 * leaves behind is the backend's {@link Lifetime}, chosen when it is opened.
 */
public interface Backend extends AutoCloseable {

    /** Short name for messages: {@code engine} or {@code kernel}. */
    String name();

    /** BPF_PROG_LOAD. A verifier rejection is a {@link BpfException} carrying the log. */
    LoadedProg load(LoadRequest request) throws BpfException;

    /** BPF_PROG_TEST_RUN. */
    TestRun.Result testRun(LoadedProg prog, TestRun.Request request) throws BpfException;

    /** BPF_MAP_CREATE. */
    BpfMap createMap(MapSpec spec) throws BpfException;

    /** BPF_MAP_UPDATE_ELEM with flags BPF_ANY (0), BPF_NOEXIST (1) or BPF_EXIST (2). */
    void update(BpfMap map, byte[] key, byte[] value, long flags) throws BpfException;

    /**
     * BPF_MAP_UPDATE_BATCH with elem_flags BPF_ANY: {@code count} elements, their keys packed in
     * {@code keys} (key_size bytes each) and their values in {@code values}, written in order as
     * by {@link #update} each; the first failing element stops the batch with its errno, the ones
     * before it stay written. One system call for a whole map, where {@link #update} is one per
     * element. The default is that loop of updates, which gives the same answers.
     */
    default void updateBatch(BpfMap map, byte[] keys, byte[] values, int count) throws BpfException {
        if (count == 0) {
            return;
        }
        int keySize = keys.length / count;
        int valueSize = values.length / count;
        if (keySize * count != keys.length || valueSize * count != values.length) {
            throw new IllegalArgumentException("a batch of " + count + " elements needs keys and values of whole"
                    + " elements, got " + keys.length + " and " + values.length + " bytes");
        }
        for (int i = 0; i < count; i++) {
            update(map, java.util.Arrays.copyOfRange(keys, i * keySize, (i + 1) * keySize),
                    java.util.Arrays.copyOfRange(values, i * valueSize, (i + 1) * valueSize), 0);
        }
    }

    /**
     * BPF_MAP_UPDATE_ELEM of a program array with BPF_ANY, the value {@code prog}'s fd: E2BIG for
     * an index past the end, EINVAL for a program that does not match the array's owner (the
     * first program that used the array or was put into it).
     */
    void updateProg(BpfMap map, byte[] key, LoadedProg prog) throws BpfException;

    /**
     * BPF_MAP_UPDATE_ELEM of a cgroup array with BPF_ANY, the value an fd of {@code cgroup}'s
     * directory (relative to the backend's cgroup root), open for the call only.
     */
    void updateCgroup(BpfMap map, byte[] key, String cgroup) throws BpfException;

    /**
     * BPF_MAP_UPDATE_ELEM of a sockmap or sockhash with BPF_ANY, the value the fd (u32 or u64, as
     * the map's value_size) of the helper endpoint {@link #listen} opened at addr:port of this
     * protocol: a TCP listener or a bound UDP socket. ENOENT when there is no such endpoint.
     */
    void updateListener(BpfMap map, byte[] key, InetAddress addr, int port, Probe.Proto proto) throws BpfException;

    /**
     * perf_event_open(2) of the event bpf_perf_event_output writes to ({@link PerfEvent}) on
     * {@code cpu}, for every task. The caller closes it.
     */
    default PerfEvent perfEventOpen(int cpu) throws BpfException {
        throw new UnsupportedOperationException(name() + " has no perf events");
    }

    /**
     * BPF_MAP_UPDATE_ELEM of a perf event array with BPF_ANY, the value {@code event}'s fd: E2BIG
     * for an index past the end; the slot holds the event from then on.
     */
    default void updatePerfEvent(BpfMap map, byte[] key, PerfEvent event) throws BpfException {
        throw new UnsupportedOperationException(name() + " has no perf events");
    }

    /** BPF_MAP_LOOKUP_ELEM; ENOENT when the key is absent. */
    byte[] lookup(BpfMap map, byte[] key) throws BpfException;

    /**
     * BPF_MAP_LOOKUP_AND_DELETE_ELEM: the value of {@code key}, taken out of the map. A queue or
     * stack map (key of 0 bytes) pops its next element (ENOENT when empty, EINVAL for any flag);
     * a hash map removes the key (ENOENT when absent); other map types answer ENOTSUPP. EPERM
     * unless the map and the fd allow both reading and writing.
     */
    byte[] lookupAndDelete(BpfMap map, byte[] key, long flags) throws BpfException;

    /** BPF_MAP_DELETE_ELEM. */
    void delete(BpfMap map, byte[] key) throws BpfException;

    /** BPF_MAP_GET_NEXT_KEY; key null asks for the first key; ENOENT after the last. */
    byte[] nextKey(BpfMap map, byte[] key) throws BpfException;

    /** BPF_MAP_FREEZE: user space may no longer write the map (EPERM when it is frozen already). */
    void freeze(BpfMap map) throws BpfException;

    // ---- cgroups: paths are relative to the backend's cgroup root ("" is the root itself) ----

    /** mkdir(2) of a cgroup directory. */
    void mkdir(String path) throws BpfException;

    /** rmdir(2) of a cgroup directory. */
    void rmdir(String path) throws BpfException;

    /** BPF_PROG_ATTACH; {@code replace} is the program to replace with {@link AttachFlag#REPLACE}, or null. */
    void attach(String cgroup, LoadedProg prog, AttachType type, Set<AttachFlag> flags, LoadedProg replace) throws BpfException;

    /** BPF_PROG_DETACH; {@code prog} may be null. */
    void detach(String cgroup, AttachType type, LoadedProg prog) throws BpfException;

    /**
     * BPF_LINK_CREATE on a cgroup, link_create.flags 0: the program attached through a link of its
     * own, like an attach with {@link AttachFlag#ALLOW_MULTI}. It stays attached while the link
     * lives (an fd or a pin holds it). EINVAL for a program that does not fit the attach type,
     * ENOENT for a removed cgroup, EPERM when the cgroup or an ancestor forbids it, E2BIG at 64.
     */
    BpfLink linkCreate(String cgroup, LoadedProg prog, AttachType type) throws BpfException;

    /**
     * BPF_LINK_UPDATE: the link runs {@code newProg} from now on, in the same place. With
     * {@code expectedOld} non-null (BPF_F_REPLACE) only if it still runs that program (EPERM
     * otherwise). ENOLINK for a defunct link, EINVAL for a program of another type.
     */
    void linkUpdate(BpfLink link, LoadedProg newProg, LoadedProg expectedOld) throws BpfException;

    /** BPF_LINK_DETACH: detaches now; the handle stays, defunct. A defunct link succeeds again. */
    void linkDetach(BpfLink link) throws BpfException;

    /**
     * BPF_PROG_QUERY, attached or effective; {@code max} is the size of the id buffer, or -1 for one large
     * enough. ENOSPC is an answer ({@link QueryResult#errno()}), other errors throw.
     */
    QueryResult query(String cgroup, AttachType type, boolean effective, int max) throws BpfException;

    /**
     * The ids of the programs BPF_PROG_QUERY reports for (cgroup, type), attached or effective, in
     * the kernel's order, with an id buffer large enough for all of them.
     */
    List<Integer> queryProgIds(String cgroup, AttachType type, boolean effective) throws BpfException;

    /**
     * Whether the program with kernel id {@code progId} is in the cgroup's attached list for
     * {@code type} (plainly or through a link): one BPF_PROG_QUERY. ENOENT when the cgroup is gone.
     */
    default boolean isAttached(String cgroup, AttachType type, int progId) throws BpfException {
        return queryProgIds(cgroup, type, false).contains(progId);
    }

    /** The cgroup's id (the kernel: its directory's inode number), as {@link LinkInfo#cgroupId()} reports it. */
    long cgroupId(String cgroup) throws BpfException;

    /** The cgroup storage of {@code map} that the program attached to (cgroup, type) sees. */
    byte[] storage(String cgroup, AttachType type, BpfMap map) throws BpfException;

    // ---- object info ----

    /** BPF_OBJ_GET_INFO_BY_FD of a program. */
    ProgInfo progInfo(LoadedProg prog) throws BpfException;

    /** BPF_OBJ_GET_INFO_BY_FD of a map. */
    MapInfo mapInfo(BpfMap map) throws BpfException;

    /**
     * Keeps the calling thread on CPU {@code cpu} until the handle is closed (on the same thread),
     * so that its map syscalls and test runs use that CPU: an LRU hash's local lists, a per-CPU
     * value, what bpf_get_smp_processor_id answers, which perf event bpf_perf_event_output may
     * write to. The kernel: sched_setaffinity of the thread (threads and processes it starts
     * meanwhile inherit the pin), closing restores its former CPUs; the engine runs everything on
     * CPU 0 (BaseHelpers.ENGINE_CPU) and takes CPU 0 only.
     */
    default AutoCloseable pinThread(int cpu) throws BpfException {
        throw new UnsupportedOperationException(name() + " cannot pin threads");
    }

    /** BPF_OBJ_GET_INFO_BY_FD of a cgroup link. */
    LinkInfo linkInfo(BpfLink link) throws BpfException;

    // ---- the bpf file system: absolute, normalized paths on a bpffs ----
    //
    // The kernel backend works on mounted bpf file systems; the engine keeps one in memory,
    // mounted at its host's bpffs mount point (/sys/fs/bpf unless told otherwise). On both a path
    // that is not absolute and normalized, or not on a bpf file system, or (kernel) reached through
    // a symbolic link is an IllegalArgumentException, before anything is asked. The errnos are the
    // kernel's (Linux 6.18): EEXIST when the path exists, ENOENT when it or its directory does not,
    // ENOTDIR through a file, EPERM for any name containing '.' (bpffs refuses to look such a name
    // up), ENAMETOOLONG beyond 255 bytes.

    /**
     * BPF_OBJ_PIN: names the object at {@code path} (mode 0600), which holds it from now on as a
     * reference of its own. EEXIST, ENOENT, ENOTDIR, EPERM, ENAMETOOLONG as above.
     */
    void objPin(BpfObject obj, Path path) throws BpfException;

    /**
     * BPF_OBJ_GET: a new fd of the pinned object: a {@link LoadedProg}, {@link BpfMap} or
     * {@link BpfLink}. ENOENT, ENOTDIR, EPERM as above; EACCES for a directory; EINVAL for a link
     * with an access other than {@link ObjAccess#READ_WRITE}.
     */
    BpfObject objGet(Path path, ObjAccess access) throws BpfException;

    /** {@link #objGet} of a pinned program; EINVAL when the pin is not a program (bpf_prog_get_type_path's answer). */
    default LoadedProg progGet(Path path) throws BpfException {
        return typed(objGet(path, ObjAccess.READ_WRITE), LoadedProg.class, path);
    }

    /** {@link #objGet} of a pinned map, opened with {@code access}; EINVAL when the pin is not a map. */
    default BpfMap mapGet(Path path, ObjAccess access) throws BpfException {
        return typed(objGet(path, access), BpfMap.class, path);
    }

    /** {@link #objGet} of a pinned link; EINVAL when the pin is not a link. */
    default BpfLink linkGet(Path path) throws BpfException {
        return typed(objGet(path, ObjAccess.READ_WRITE), BpfLink.class, path);
    }

    private static <T extends BpfObject> T typed(BpfObject o, Class<T> kind, Path path) throws BpfException {
        if (kind.isInstance(o)) {
            return kind.cast(o);
        }
        o.close();
        throw new BpfException(Errno.EINVAL, "pin " + path + " is not a " + switch (kind.getSimpleName()) {
            case "LoadedProg" -> "program";
            case "BpfMap" -> "map";
            default -> "link";
        });
    }

    /**
     * unlink(2) of a pin: the pin's reference goes (the object lives on while anything else holds
     * it). ENOENT, EPERM as above; EISDIR for a directory.
     */
    void unpin(Path path) throws BpfException;

    /** mkdir(2) of a directory for pins, mode 0700. EEXIST, ENOENT, EPERM as above. */
    void pinMkdir(Path path) throws BpfException;

    /** rmdir(2) of a pin directory. ENOTEMPTY while it holds anything, ENOTDIR for a pin, ENOENT. */
    void pinRmdir(Path path) throws BpfException;

    /** The names in a pin directory (pins and directories), sorted. ENOENT, ENOTDIR. */
    List<String> pinList(Path dir) throws BpfException;

    // ---- probes: what a task in the cgroup experiences ----

    /** True when the access is allowed; a failure other than EPERM (no such driver) counts as allowed. */
    boolean device(String cgroup, Probe.DeviceAccess access) throws BpfException;

    /** socket(2); the cgroup_inet_sock_create programs may refuse (EPERM) or set fields. */
    Probe.SocketInfo socket(String cgroup, Probe.Family family, Probe.SockType type, int protocol)
            throws BpfException;

    /** A helper endpoint outside every scenario cgroup, on a loopback address. */
    void listen(InetAddress addr, int port, Probe.Proto proto) throws BpfException;

    /** socket(2) + bind(2) from the cgroup. */
    Probe.Bound bind(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException;

    /** socket(2) + connect(2) from the cgroup (TCP: to a listener; UDP: a connected datagram socket). */
    Probe.Connected connect(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
            throws BpfException;

    /** An unconnected UDP sendmsg(2) from the cgroup, optionally with a source address (IP_PKTINFO). */
    Probe.Delivered sendmsg(String cgroup, Probe.Family family, InetAddress addr, int port, InetAddress src)
            throws BpfException;

    /** What {@link #close()} leaves behind. */
    Lifetime lifetime();

    /**
     * Closes every fd of this backend; with {@link Lifetime#SCOPED} first undoes everything it did
     * (see {@link Lifetime}). Idempotent.
     */
    @Override
    void close();
}
