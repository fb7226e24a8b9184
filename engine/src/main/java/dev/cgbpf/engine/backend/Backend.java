package dev.cgbpf.engine.backend;

/**
 * A cgroup-bpf implementation: the in-JVM engine or the host kernel. Both give the same answers,
 * errno for errno; the scenario runner drives either through this interface.
 *
 * <p>Grows with the project: attach/detach/query and the hook probes come with the cgroup issues.
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

    /** Releases everything this backend made. */
    @Override
    void close();
}
