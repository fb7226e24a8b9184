package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** cgroup v2 discovery from fake mountinfo and /proc/PID/cgroup texts of both layouts; path confinement. */
class CgroupDiscoveryTest {
    /** A systemd host in unified mode (Fedora, Debian 11+, Ubuntu 21.10+). */
    static final String PURE_V2 = """
            22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
            23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
            26 23 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
            27 23 0:25 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:5 - bpf bpf rw,mode=700
            """;

    /** This VM: v1 controllers plus the unified hierarchy at /sys/fs/cgroup/unified. */
    static final String HYBRID = """
            22 1 253:0 / / rw,relatime - ext4 /dev/vda1 rw
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
            36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """;

    static final String LEGACY = """
            22 1 253:0 / / rw,relatime - ext4 /dev/vda1 rw
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
            """;

    @Test
    void pureV2() {
        assertEquals(Optional.of(new CgroupV2Mount(Path.of("/sys/fs/cgroup"), "/", CgroupMode.PURE_V2)),
                CgroupV2Mount.find(PURE_V2));
    }

    @Test
    void hybrid() {
        assertEquals(Optional.of(new CgroupV2Mount(Path.of("/sys/fs/cgroup/unified"), "/", CgroupMode.HYBRID)),
                CgroupV2Mount.find(HYBRID));
    }

    @Test
    void legacyHasNone() {
        assertEquals(Optional.empty(), CgroupV2Mount.find(LEGACY));
        assertEquals(CgroupMode.LEGACY_V1, CgroupV2Mount.modeOf(LEGACY));
    }

    @Test
    void preferredMountPointWinsAndHiddenMountsAreSkipped() {
        String text = """
                50 22 0:40 / /mnt/other rw - cgroup2 cgroup2 rw
                51 22 0:41 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
                52 22 0:42 / /sys/fs/cgroup rw - tmpfs tmpfs rw
                53 52 0:41 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
                """;
        // /sys/fs/cgroup's cgroup2 is covered by the tmpfs mounted over it
        assertEquals(Path.of("/sys/fs/cgroup/unified"), CgroupV2Mount.find(text).orElseThrow().mountPoint());
        String escaped = "60 22 0:40 / /run/my\\040cgroups rw - cgroup2 cgroup2 rw\n";
        assertEquals(Path.of("/run/my cgroups"), CgroupV2Mount.find(escaped).orElseThrow().mountPoint());
    }

    @Test
    void thisHostIsFoundTheSameWay() {
        Optional<CgroupV2Mount> m = CgroupV2Mount.discover();
        assertTrue(m.isPresent());
        assertTrue(Files.exists(m.get().mountPoint().resolve("cgroup.procs")));
    }

    @Test
    void processCgroupFromProcPidCgroup() throws Exception {
        assertEquals("/", ProcCgroup.parse("0::/\n"));
        assertEquals("/system.slice/containerd.service",
                ProcCgroup.parse("12:devices:/system.slice\n1:name=systemd:/x\n0::/system.slice/containerd.service\n"));
        assertEquals("EACCES", assertThrows(BpfException.class, () -> ProcCgroup.parse("0::/../../other\n")).errno());
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> ProcCgroup.parse("0::/gone (deleted)\n")).errno());
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> ProcCgroup.parse("4:memory:/a\n")).errno());
        assertTrue(ProcCgroup.of(ProcessHandle.current().pid()).startsWith("/"));
    }

    @Test
    void cgroupPathToDirectoryInBothLayouts() throws Exception {
        CgroupV2Mount v2 = CgroupV2Mount.find(PURE_V2).orElseThrow();
        assertEquals(Path.of("/sys/fs/cgroup/system.slice/x.scope"), v2.dirOf("/system.slice/x.scope"));
        assertEquals(Path.of("/sys/fs/cgroup"), v2.dirOf("/"));
        CgroupV2Mount hy = CgroupV2Mount.find(HYBRID).orElseThrow();
        assertEquals(Path.of("/sys/fs/cgroup/unified/a/b"), hy.dirOf("/a/b"));
        // a mount of a subtree only (a container's view): paths outside it cannot be reached
        CgroupV2Mount sub = new CgroupV2Mount(Path.of("/sys/fs/cgroup"), "/kubepods/pod1", CgroupMode.PURE_V2);
        assertEquals(Path.of("/sys/fs/cgroup/c1"), sub.dirOf("/kubepods/pod1/c1"));
        assertEquals("EACCES", assertThrows(BpfException.class, () -> sub.dirOf("/kubepods/pod2")).errno());
        assertThrows(IllegalArgumentException.class, () -> v2.dirOf("/a/../../etc"));
    }

    @Test
    void relativePathsStayUnderTheRoot() throws Exception {
        Path root = Files.createTempDirectory("cgbpf-root");
        Path elsewhere = Files.createTempDirectory("cgbpf-elsewhere");
        try {
            Files.createDirectory(root.resolve("a"));
            Files.createSymbolicLink(root.resolve("a/out"), elsewhere);
            assertEquals(root, CgroupPath.resolve(root, ""));
            assertEquals(root, CgroupPath.resolve(root, "."));
            assertEquals(root.resolve("a/b"), CgroupPath.resolve(root, "a/b"));
            assertEquals(root.resolve("a/b"), CgroupPath.resolve(root, "a/b/"));
            for (String bad : List.of("..", "a/../..", "/etc", "a//b", "./a", "a/./b", "a/out", "a/out/x")) {
                assertThrows(IllegalArgumentException.class, () -> CgroupPath.resolve(root, bad), bad);
            }
        } finally {
            Files.deleteIfExists(root.resolve("a/out"));
            Files.deleteIfExists(root.resolve("a"));
            Files.deleteIfExists(root);
            Files.deleteIfExists(elsewhere);
        }
    }
}
