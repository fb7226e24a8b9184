package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Cgroup storage through the engine as the running kernel showed it with counting sock_create
 * programs: no storage before an attach; programs of one map on one cgroup and type share it; it
 * survives the detach of every program (and a re-attach sees the old value); a bare u64 key shares
 * one storage between attach types; it goes with its cgroup; user space may update (ANY, EXIST)
 * but not with NOEXIST or F_LOCK (EINVAL), nor delete (EINVAL).
 */
class StorageLifecycleTest {
    private final EngineBackend engine = new EngineBackend(100_000);
    private static final Set<AttachFlag> MULTI = EnumSet.of(AttachFlag.ALLOW_MULTI);

    @AfterEach
    void close() {
        engine.close();
    }

    private LoadedProg counter(BpfMap m, AttachType type) throws BpfException {
        return engine.load(new LoadRequest("count", ProgType.CGROUP_SOCK, type, new Assembler(Map.of("m", m.fd())::get).assemble(List.of(
                "r1 = map[m]", "r2 = 0", "call bpf_get_local_storage#81",
                "r1 = *(u64 *)(r0 +0)", "r1 += 1", "*(u64 *)(r0 +0) = r1", "r0 = 1", "exit")), "GPL", 0));
    }

    private long value(BpfMap m, String cg, AttachType t) throws BpfException {
        byte[] b = engine.storage(cg, t, m);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    private void socket(String cg) throws BpfException {
        engine.socket(cg, Probe.Family.INET, Probe.SockType.STREAM, 0);
    }

    @Test
    void sharedPersistentAndFreedWithTheCgroup() throws Exception {
        BpfMap m = engine.createMap(new MapSpec("st", MapType.CGROUP_STORAGE, 16, 8, 0, 0));
        engine.mkdir("c");
        AttachType create = AttachType.CGROUP_INET_SOCK_CREATE;
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> engine.storage("c", create, m)).errno());
        LoadedProg p = counter(m, create);
        LoadedProg p3 = counter(m, create);
        engine.attach("c", p, create, MULTI, null);
        socket("c");
        socket("c");
        assertEquals(2, value(m, "c", create));
        engine.attach("c", p3, create, MULTI, null);
        socket("c");
        assertEquals(4, value(m, "c", create), "both programs count into one storage");
        engine.detach("c", create, p);
        engine.detach("c", create, p3);
        assertEquals(4, value(m, "c", create), "the storage outlives the detach");
        engine.attach("c", p, create, MULTI, null);
        assertEquals(4, value(m, "c", create));
        byte[] key = engine.nextKey(m, null);
        assertEquals(16, key.length);
        engine.update(m, key, new byte[] {7, 7, 7, 7, 7, 7, 7, 7}, 2);
        assertEquals(0x0707070707070707L, value(m, "c", create));
        assertEquals("EINVAL", assertThrows(BpfException.class, () -> engine.update(m, key, new byte[8], 1)).errno());
        assertEquals("EINVAL", assertThrows(BpfException.class, () -> engine.update(m, key, new byte[8], 4)).errno());
        assertEquals("EINVAL", assertThrows(BpfException.class, () -> engine.delete(m, key)).errno());
        engine.detach("c", create, p);
        engine.rmdir("c");
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> engine.lookup(m, key)).errno(), "freed with the cgroup");
    }

    @Test
    void u64KeySharesOneStorageBetweenAttachTypes() throws Exception {
        BpfMap m = engine.createMap(new MapSpec("st8", MapType.CGROUP_STORAGE, 8, 8, 0, 0));
        engine.mkdir("c");
        engine.attach("c", counter(m, AttachType.CGROUP_INET_SOCK_CREATE), AttachType.CGROUP_INET_SOCK_CREATE, MULTI, null);
        engine.attach("c", counter(m, AttachType.CGROUP_INET4_POST_BIND), AttachType.CGROUP_INET4_POST_BIND, MULTI, null);
        engine.bind("c", Probe.Family.INET, Probe.Proto.TCP, java.net.InetAddress.getByName("127.0.0.1"), 0);
        assertEquals(2, value(m, "c", AttachType.CGROUP_INET4_POST_BIND), "sock_create and post_bind counted into one value");
        assertEquals(2, value(m, "c", AttachType.CGROUP_DEVICE), "the attach type is not part of an 8-byte key");
    }

    @Test
    void storageIsTheAttachedCgroupsNotTheTasks() throws Exception {
        BpfMap m = engine.createMap(new MapSpec("st", MapType.CGROUP_STORAGE, 16, 8, 0, 0));
        engine.mkdir("top");
        engine.mkdir("top/leaf");
        AttachType create = AttachType.CGROUP_INET_SOCK_CREATE;
        engine.attach("top", counter(m, create), create, MULTI, null);
        socket("top/leaf");
        assertEquals(1, value(m, "top", create));
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> engine.storage("top/leaf", create, m)).errno());
    }

    @Test
    void perCpuStorageHoldsAValuePerCpuAndProgramsWriteCpu0() throws Exception {
        BpfMap m = engine.createMap(new MapSpec("pc", MapType.PERCPU_CGROUP_STORAGE, 16, 4, 0, 0));
        LoadedProg p = engine.load(new LoadRequest("pc", ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE,
                new Assembler(Map.of("m", m.fd())::get).assemble(List.of("r1 = map[m]", "r2 = 0",
                        "call bpf_get_local_storage#81", "r1 = 9", "*(u32 *)(r0 +0) = r1", "r0 = 1", "exit")), "GPL", 0));
        engine.attach("", p, AttachType.CGROUP_DEVICE, MULTI, null);
        engine.device("", new Probe.DeviceAccess('c', 1, 3, "r"));
        byte[] v = engine.storage("", AttachType.CGROUP_DEVICE, m);
        int cpus = v.length / 8;
        byte[] want = new byte[8 * cpus];
        want[0] = 9;
        assertArrayEquals(want, v);
    }

    @Test
    void createChecksAsTheKernel() {
        Object[][] cases = {
            {16, 8, 0, 0, null}, {8, 8, 0, 0, null}, {12, 8, 0, 0, "EINVAL"}, {16, 0, 0, 0, "EINVAL"},
            {16, 8, 1, 0, "EINVAL"}, {16, 65407, 0, 0, null}, {16, 65408, 0, 0, "E2BIG"}, {16, 8, 0, 1, "EINVAL"},
            {16, 8, 0, 0x8, null}, {16, 8, 0, 0x400, "EINVAL"},
        };
        for (Object[] c : cases) {
            MapSpec spec = new MapSpec("s", MapType.CGROUP_STORAGE, (int) c[0], (int) c[1], (int) c[2], (int) c[3]);
            try {
                engine.createMap(spec).close();
                assertEquals(c[4], null, spec.toString());
            } catch (BpfException e) {
                assertEquals(c[4], e.errno(), spec.toString());
            }
        }
        try {
            engine.createMap(new MapSpec("p", MapType.PERCPU_CGROUP_STORAGE, 16, 32769, 0, 0));
        } catch (BpfException e) {
            assertEquals("E2BIG", e.errno());
            return;
        }
        throw new AssertionError("a per-CPU value of 32769 bytes must be E2BIG");
    }

    @Test
    void twoStoragesOfOneTypeInAProgramAreRefused() throws Exception {
        BpfMap a = engine.createMap(new MapSpec("a", MapType.CGROUP_STORAGE, 16, 8, 0, 0));
        BpfMap b = engine.createMap(new MapSpec("b", MapType.CGROUP_STORAGE, 16, 8, 0, 0));
        BpfException e = assertThrows(BpfException.class, () -> engine.load(new LoadRequest("two", ProgType.CGROUP_DEVICE, null,
                new Assembler(Map.of("a", a.fd(), "b", b.fd())::get).assemble(List.of("r1 = map[a]", "r1 = map[b]", "r0 = 1", "exit")),
                "GPL", 0)));
        assertEquals("EBUSY", e.errno(), "as the kernel's verifier answers");
        assertEquals("only one cgroup storage of each type is allowed", e.logReason());
    }
}
