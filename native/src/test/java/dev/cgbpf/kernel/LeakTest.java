package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The leak test of issue 3: 200 scenario sessions, each making a cgroup tree, maps, programs,
 * attachments (several kinds), probes in the cgroups (a probe worker process per session), a
 * listener, and some failing ops; then nothing of it may be left on the host: no program, map,
 * pin, cgroup, worker process, temp directory or fd.
 *
 * <p>Other tests may run on the host at the same time, so the counts are of this test's own
 * objects: its programs and maps carry a name prefix unique to this run (and every id it was
 * given is checked), its scenario roots carry this JVM's pid. Host-wide totals are printed.
 */
class LeakTest {
    static final int SESSIONS = 200;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void twoHundredSessionsLeaveNothingBehind() throws Exception {
        String tag = "lk" + HexFormat.of().formatHex(new SecureRandom().generateSeed(3));
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        int hostProgsBefore = ObjGetNextId.progIds().size();
        int hostMapsBefore = ObjGetNextId.mapIds().size();
        int fdsBefore = FdCount.now();
        Set<Long> childrenBefore = children();
        Path mount = CgroupV2Mount.discover().orElseThrow().mountPoint();
        Set<Integer> progIds = new HashSet<>();
        List<Path> roots = new ArrayList<>();
        int failures = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < SESSIONS; i++) {
            try (KernelBackend b = KernelBackend.openScenario()) {
                roots.add(b.cgroupRoot());
                b.mkdir("a");
                b.mkdir("a/b");
                BpfMap st = b.createMap(new MapSpec(tag + "st", MapType.CGROUP_STORAGE, 16, 8, 0, 0));
                b.createMap(new MapSpec(tag + "h", MapType.HASH, 4, 4, 8, 0));
                LoadedProg count = Progs.load(b, tag + "cnt", ProgType.CGROUP_DEVICE, null, Map.of("st", st),
                        "r1 = map[st]", "r2 = 0", "call bpf_get_local_storage#81",
                        "r1 = *(u64 *)(r0 +0)", "r1 += 1", "*(u64 *)(r0 +0) = r1", "r0 = 1", "exit");
                LoadedProg deny = Progs.device(b, tag + "deny", 0);
                LoadedProg bind = Progs.load(b, tag + "bind", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND,
                        "r0 = 1", "exit");
                b.attach("a", count, AttachType.CGROUP_DEVICE, Set.of(AttachFlag.ALLOW_MULTI), null);
                b.attach("a/b", deny, AttachType.CGROUP_DEVICE, Set.of(AttachFlag.ALLOW_MULTI), null);
                b.attach("", bind, AttachType.CGROUP_INET4_BIND, Set.of(), null);
                // a program the scenario closes itself while it stays attached
                LoadedProg closed = Progs.device(b, tag + "cl", 1);
                b.attach("", closed, AttachType.CGROUP_DEVICE, Set.of(AttachFlag.ALLOW_MULTI), null);
                closed.close();
                progIds.addAll(b.loadedProgIds());
                failures += expectFailure("EINVAL", () -> b.attach("a", deny, AttachType.CGROUP_DEVICE,
                        Set.of(AttachFlag.ALLOW_MULTI, AttachFlag.ALLOW_OVERRIDE), null));
                failures += expectFailure("EBUSY", () -> b.rmdir("a"));
                failures += expectFailure("EEXIST", () -> b.mkdir("a/b"));
                failures += expectFailure("EACCES", () -> Progs.load(b, tag + "bad", ProgType.CGROUP_DEVICE, null,
                        "exit"));
                assertTrue(b.device("a", new Probe.DeviceAccess('c', 1, 3, "rm")));
                assertTrue(!b.device("a/b", new Probe.DeviceAccess('c', 1, 3, "r")));
                b.listen(lo, 0, Probe.Proto.UDP);
                assertEquals(new Probe.Bound(lo, 0), b.bind("a/b", Probe.Family.INET, Probe.Proto.UDP, lo, 0));
                assertEquals(List.of(tag + "deny", tag + "cnt", tag + "cl"), b.query("a/b", AttachType.CGROUP_DEVICE, true, -1).progs());
                if (i % 2 == 0) {
                    b.detach("a/b", AttachType.CGROUP_DEVICE, deny);
                    b.rmdir("a/b");
                }
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(4 * SESSIONS, failures);
        assertEquals(4 * SESSIONS, progIds.size(), "every session loaded its own programs");

        // map ids disappear when the programs that use them are freed, after an RCU grace period
        List<String> progsLeft = List.of();
        List<String> mapsLeft = List.of();
        for (int attempt = 0; attempt < 100; attempt++) {
            progsLeft = named(ObjGetNextId.progIds(), true, tag);
            mapsLeft = named(ObjGetNextId.mapIds(), false, tag);
            if (progsLeft.isEmpty() && mapsLeft.isEmpty()) {
                break;
            }
            Thread.sleep(50);
        }
        assertEquals(List.of(), progsLeft, "programs left");
        assertEquals(List.of(), mapsLeft, "maps left");
        for (int id : progIds) {
            TeardownTest.assertProgGone(id);
        }
        for (Path root : roots) {
            assertTrue(!Files.exists(root), root + " left");
        }
        try (Stream<Path> s = Files.list(mount)) {
            String mine = CgroupSession.SCENARIO_PREFIX + ProcessHandle.current().pid() + "-";
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith(mine)).toList());
        }
        for (Path bpffs : BpfFs.mounts()) {
            try (Stream<Path> s = Files.walk(bpffs)) {
                assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith(tag)).toList(), "pins");
            }
        }
        // a worker of an earlier test in this JVM may end meanwhile: only new ones would be leaks
        Set<Long> left = children();
        left.removeAll(childrenBefore);
        assertEquals(Set.of(), left, "probe workers left running");
        assertEquals(fdsBefore, FdCount.now(), "fds of this JVM");
        System.out.printf("leak test: %d sessions in %d ms (%.1f ms each); %d programs and %d map names checked;"
                        + " host programs %d -> %d, maps %d -> %d%n", SESSIONS, ms, (double) ms / SESSIONS,
                progIds.size(), 2 * SESSIONS, hostProgsBefore, ObjGetNextId.progIds().size(), hostMapsBefore,
                ObjGetNextId.mapIds().size());
    }

    private static int expectFailure(String errno, KernelBackendCgroupTest.ThrowingOp op) {
        assertEquals(errno, KernelBackendCgroupTest.errno(op));
        return 1;
    }

    /** The programs or maps among {@code ids} whose name starts with {@code tag} (gone ones are skipped). */
    private static List<String> named(List<Integer> ids, boolean progs, String tag) {
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            try {
                String name = progs ? ObjGetNextId.progName(id) : ObjGetNextId.mapName(id);
                if (name.startsWith(tag)) {
                    out.add(id + ":" + name);
                }
            } catch (BpfException e) {
                // freed meanwhile
            }
        }
        return out;
    }

    private static Set<Long> children() {
        Set<Long> out = new HashSet<>();
        ProcessHandle.current().children().filter(ProcessHandle::isAlive).forEach(p -> out.add(p.pid()));
        return out;
    }
}
