package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Lifetime;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.QueryResult;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The wave-2 cgroup ops of {@link KernelBackend} on real cgroups under a fresh scenario root. */
class KernelBackendCgroupTest {
    static final AttachType DEV = AttachType.CGROUP_DEVICE;
    static final Set<AttachFlag> MULTI = Set.of(AttachFlag.ALLOW_MULTI);
    static final Set<AttachFlag> NONE = Set.of();

    KernelBackend b;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @BeforeEach
    void open() throws BpfException {
        b = KernelBackend.openScenario();
    }

    @AfterEach
    void close() {
        b.close();
    }

    static String errno(ThrowingOp op) {
        try {
            op.run();
            return "OK";
        } catch (BpfException e) {
            return e.errno();
        }
    }

    interface ThrowingOp {
        void run() throws BpfException;
    }

    @Test
    void scenarioRootIsAFreshEmptyCgroupUnderTheV2Mount() throws Exception {
        Path root = b.cgroupRoot();
        assertTrue(root.getFileName().toString().startsWith("cgbpf-scn-" + ProcessHandle.current().pid() + "-"));
        assertEquals(CgroupV2Mount.discover().orElseThrow().mountPoint(), root.getParent());
        assertTrue(Files.exists(root.resolve("cgroup.procs")));
        assertEquals(List.of(), CgroupFs.descendants(root));
    }

    @Test
    void mkdirAndRmdirAnswerWithTheKernelsErrnos() throws Exception {
        assertEquals("OK", errno(() -> b.mkdir("a")));
        assertEquals("OK", errno(() -> b.mkdir("a/b")));
        assertEquals("EEXIST", errno(() -> b.mkdir("a")));
        assertEquals("EEXIST", errno(() -> b.mkdir("")));
        assertEquals("EEXIST", errno(() -> b.mkdir(".")));
        assertEquals("ENOENT", errno(() -> b.mkdir("x/y")));
        assertEquals("EBUSY", errno(() -> b.rmdir("a")));
        assertEquals("ENOENT", errno(() -> b.rmdir("zz")));
        assertEquals("OK", errno(() -> b.rmdir("a/b")));
        assertEquals("OK", errno(() -> b.rmdir("a")));
        // the scenario root itself can go, as on the kernel; later ops find no cgroup
        assertEquals("OK", errno(() -> b.rmdir("")));
        assertEquals("ENOENT", errno(() -> b.mkdir("a")));
        assertEquals("ENOENT", errno(() -> b.query("", DEV, false, -1)));
    }

    @Test
    void pathsThatWouldLeaveTheRootAreRefused() {
        for (String bad : List.of("..", "a/..", "../x", "/sys", "a//b", "a/./b", "a\0b")) {
            assertThrows(IllegalArgumentException.class, () -> b.mkdir(bad), bad);
            assertThrows(IllegalArgumentException.class, () -> b.query(bad, DEV, false, -1), bad);
        }
    }

    @Test
    void attachQueryDetachNameProgramsAsLoaded() throws Exception {
        b.mkdir("a");
        LoadedProg p = Progs.device(b, "p-0", 1);
        LoadedProg q = Progs.device(b, "q with spaces", 1);
        b.attach("", p, DEV, MULTI, null);
        b.attach("a", q, DEV, MULTI, null);
        assertEquals(new QueryResult(Set.of(AttachFlag.ALLOW_MULTI), List.of("q with spaces"), 1, null),
                b.query("a", DEV, false, -1));
        assertEquals(new QueryResult(Set.of(), List.of("q with spaces", "p-0"), 2, null), b.query("a", DEV, true, -1));
        assertEquals(new QueryResult(Set.of(), List.of("q with spaces"), 2, "ENOSPC"), b.query("a", DEV, true, 1));
        assertEquals(new QueryResult(Set.of(), List.of(), 2, null), b.query("a", DEV, true, 0));
        assertEquals("EINVAL", errno(() -> b.detach("a", DEV, null)));
        b.detach("a", DEV, q);
        assertEquals("ENOENT", errno(() -> b.detach("a", DEV, q)));
        assertEquals(List.of("p-0"), b.query("a", DEV, true, -1).progs());
    }

    @Test
    void replaceTakesThePlaceOfTheNamedProgram() throws Exception {
        LoadedProg a = Progs.device(b, "a", 1);
        LoadedProg c = Progs.device(b, "c", 1);
        LoadedProg e = Progs.device(b, "e", 1);
        b.attach("", a, DEV, MULTI, null);
        b.attach("", c, DEV, MULTI, null);
        b.attach("", e, DEV, Set.of(AttachFlag.ALLOW_MULTI, AttachFlag.REPLACE), a);
        assertEquals(List.of("e", "c"), b.query("", DEV, false, -1).progs());
        assertEquals("ENOENT", errno(() -> b.attach("", a, DEV, Set.of(AttachFlag.ALLOW_MULTI, AttachFlag.REPLACE), a)));
        assertEquals("EPERM", errno(() -> b.attach("", a, DEV, NONE, null)));
    }

    @Test
    void aProgramAttachedByOthersIsNamedByItsKernelName() throws Exception {
        b.mkdir("a");
        try (Fd foreign = ProgLoad.progLoad(ProgType.CGROUP_DEVICE.value(), TestInsns.returning(1).encode(), "GPL",
                "outsider", 0, 0).fd(); Fd root = CgroupDir.open(b.cgroupRoot())) {
            ProgAttach.progAttach(root, foreign, DEV.value(), MULTI, null);
            LoadedProg mine = Progs.device(b, "mine", 1);
            b.attach("a", mine, DEV, MULTI, null);
            assertEquals(List.of("mine", "?outsider"), b.query("a", DEV, true, -1).progs());
        }
    }

    @Test
    void queryBeyondSixtyFourEffectivePrograms() throws Exception {
        b.mkdir("a");
        for (int i = 0; i < 64; i++) {
            b.attach("", Progs.device(b, "p" + i, 1), DEV, MULTI, null);
        }
        assertEquals("E2BIG", errno(() -> b.attach("", Progs.device(b, "p64", 1), DEV, MULTI, null)));
        for (int i = 64; i < 70; i++) {
            b.attach("a", Progs.device(b, "p" + i, 1), DEV, MULTI, null);
        }
        QueryResult q = b.query("a", DEV, true, -1);
        assertEquals(70, q.count());
        assertEquals("p64", q.progs().get(0));
        assertEquals("p63", q.progs().get(69));
    }

    /** A device program that counts its runs in cgroup storage and allows everything. */
    private LoadedProg counting(BpfMap storage) throws BpfException {
        return Progs.load(b, "count", ProgType.CGROUP_DEVICE, null, Map.of("st", storage),
                "r1 = map[st]", "r2 = 0", "call bpf_get_local_storage#81",
                "r1 = *(u64 *)(r0 +0)", "r1 += 1", "*(u64 *)(r0 +0) = r1", "r0 = 1", "exit");
    }

    @Test
    void storageIsWhatTheProgramAttachedThereSees() throws Exception {
        BpfMap st = b.createMap(new MapSpec("st", MapType.CGROUP_STORAGE, 16, 8, 0, 0));
        b.mkdir("a");
        b.mkdir("b");
        b.attach("a", counting(st), DEV, NONE, null);
        assertArrayEquals(new byte[8], b.storage("a", DEV, st));
        assertEquals("ENOENT", errno(() -> b.storage("b", DEV, st)));
        assertEquals("ENOENT", errno(() -> b.storage("a", AttachType.CGROUP_INET_INGRESS, st)));
        assertEquals("ENOENT", errno(() -> b.storage("nope", DEV, st)));
        // one run for the mknod, one for the access check
        assertTrue(b.device("a", new dev.cgbpf.engine.backend.Probe.DeviceAccess('c', 1, 3, "rm")));
        assertEquals(2L, ByteBuffer.wrap(b.storage("a", DEV, st)).order(ByteOrder.LITTLE_ENDIAN).getLong());
        // a block device's read open: two checks, as the kernel makes them (inode_permission, blkdev_open)
        assertTrue(b.device("a", new dev.cgbpf.engine.backend.Probe.DeviceAccess('b', 7, 201, "r")));
        assertEquals(4L, ByteBuffer.wrap(b.storage("a", DEV, st)).order(ByteOrder.LITTLE_ENDIAN).getLong());
        BpfMap hash = b.createMap(new MapSpec("h", MapType.HASH, 4, 4, 4, 0));
        assertEquals("EINVAL", errno(() -> b.storage("a", DEV, hash)));
    }

    @Test
    void closeDetachesRemovesAndFreesEverything() throws Exception {
        b.mkdir("a");
        b.mkdir("a/b");
        LoadedProg p = Progs.device(b, "p", 1);
        b.attach("a/b", p, DEV, MULTI, null);
        b.device("a/b", new dev.cgbpf.engine.backend.Probe.DeviceAccess('c', 1, 3, "r"));
        Path root = b.cgroupRoot();
        Set<Integer> ids = b.loadedProgIds();
        b.close();
        assertFalse(Files.exists(root));
        for (int id : ids) {
            assertEquals("ENOENT", errno(() -> ProgGetFdById.progGetFdById(id).close()), "prog " + id);
        }
        assertEquals(0, b.openCount());
        b.close(); // idempotent
    }

    @Test
    void aBackendAtAnExistingCgroupLeavesWhatIsNotItsOwn() throws Exception {
        try (TestCgroup cg = new TestCgroup();
             Fd foreign = ProgLoad.progLoad(ProgType.CGROUP_DEVICE.value(), TestInsns.returning(1).encode(), "GPL",
                     "outsider", 0, 0).fd()) {
            ProgAttach.progAttach(cg.fd(), foreign, DEV.value(), MULTI, null);
            KernelBackend at = KernelBackend.atCgroupRoot(cg.path, Lifetime.SCOPED);
            try {
                at.mkdir("x");
                LoadedProg mine = Progs.device(at, "mine", 1);
                at.attach("", mine, DEV, MULTI, null);
                at.attach("x", mine, DEV, MULTI, null);
                assertEquals(List.of("?outsider", "mine"), at.query("", DEV, false, -1).progs());
            } finally {
                at.close();
            }
            assertTrue(Files.isDirectory(cg.path));
            assertFalse(Files.exists(cg.path.resolve("x")));
            ProgQuery.Result left = ProgQuery.progQuery(cg.fd(), DEV.value(), 0, 8, false);
            assertArrayEquals(new int[] {ObjGetInfoByFd.progInfo(foreign).id()}, left.progIds());
        }
        assertThrows(IllegalArgumentException.class, () -> KernelBackend.atCgroupRoot(Path.of("/tmp"), Lifetime.SCOPED));
    }
}
