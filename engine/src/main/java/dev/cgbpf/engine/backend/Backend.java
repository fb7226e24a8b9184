package dev.cgbpf.engine.backend;

import java.net.InetAddress;
import java.util.Set;

/**
 * A cgroup-bpf implementation: the in-JVM engine or the host kernel. Both give the same answers,
 * errno for errno; the scenario runner drives either through this interface.
 *
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

    /** BPF_MAP_LOOKUP_ELEM; ENOENT when the key is absent. */
    byte[] lookup(BpfMap map, byte[] key) throws BpfException;

    /** BPF_MAP_DELETE_ELEM. */
    void delete(BpfMap map, byte[] key) throws BpfException;

    /** BPF_MAP_GET_NEXT_KEY; key null asks for the first key; ENOENT after the last. */
    byte[] nextKey(BpfMap map, byte[] key) throws BpfException;

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
     * BPF_PROG_QUERY, attached or effective; {@code max} is the size of the id buffer, or -1 for one large
     * enough. ENOSPC is an answer ({@link QueryResult#errno()}), other errors throw.
     */
    QueryResult query(String cgroup, AttachType type, boolean effective, int max) throws BpfException;

    /** The cgroup storage of {@code map} that the program attached to (cgroup, type) sees. */
    byte[] storage(String cgroup, AttachType type, BpfMap map) throws BpfException;

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

    /** Releases everything this backend made. */
    @Override
    void close();
}
