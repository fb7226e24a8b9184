package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** bpffs discovery, mounting, and pinning with mode 0600 at validated paths, on a private mount. */
class BpfFsTest {
    private static Path mnt;
    private static Path outside;

    @BeforeAll
    static void mount() throws Exception {
        KernelRequired.check();
        mnt = Files.createTempDirectory("cgbpf-bpffs-test");
        outside = Files.createTempDirectory("cgbpf-not-bpffs");
        assertFalse(BpfFs.isBpfFs(mnt));
        assertTrue(BpfFs.ensureMounted(mnt), "mounted a bpffs where there was none");
        assertFalse(BpfFs.ensureMounted(mnt), "the second call finds it");
    }

    @AfterAll
    static void unmount() throws Exception {
        if (mnt != null) {
            LibC.INSTANCE.umount2(mnt.toString(), 0);
            Files.deleteIfExists(mnt);
        }
        if (outside != null) {
            try (var s = Files.list(outside)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Files.delete(p);
                }
            }
            Files.deleteIfExists(outside);
        }
    }

    @Test
    void theMountIsFoundInProcMounts() {
        assertTrue(BpfFs.mounts().contains(mnt), BpfFs.mounts().toString());
        assertTrue(BpfFs.isBpfFs(mnt));
    }

    @Test
    void mountsParsingUndoesEscapes() {
        String text = "sysfs /sys sysfs rw 0 0\nbpf /sys/fs/bpf bpf rw,relatime,mode=700 0 0\n"
                + "none /run/my\\040bpf bpf rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n";
        assertEquals(List.of(Path.of("/sys/fs/bpf"), Path.of("/run/my bpf")), BpfFs.parseMounts(text));
    }

    @Test
    void pinsAreMode0600AndOpenAgain() throws Exception {
        Path pin = mnt.resolve("dev_allow");
        try (Fd p = ProgLoad.progLoad(ProgType.CGROUP_DEVICE.value(), TestInsns.returning(1).encode(), "GPL",
                "pinned", AttachType.CGROUP_DEVICE.value(), 0).fd()) {
            BpfFs.pin(p, pin);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(pin)));
            int id = ObjGetInfoByFd.progInfo(p).id();
            try (Fd again = ObjPin.objGet(pin.toString(), 0)) {
                assertEquals(id, ObjGetInfoByFd.progInfo(again).id());
            }
            BpfException twice = assertThrows(BpfException.class, () -> BpfFs.pin(p, pin));
            assertEquals("EEXIST", twice.errno());
            assertTrue(Files.exists(pin), "a failed second pin leaves the first alone");
        }
        BpfFs.unpin(pin);
        assertFalse(Files.exists(pin));
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> BpfFs.unpin(pin)).errno());
    }

    @Test
    void pathsAreValidatedBeforeTheKernelIsAsked() throws Exception {
        Files.createDirectory(mnt.resolve("sub"));
        Path link = outside.resolve("link");
        Files.createSymbolicLink(link, mnt.resolve("sub"));
        try (Fd p = ProgLoad.progLoad(ProgType.CGROUP_DEVICE.value(), TestInsns.returning(1).encode(), "GPL",
                "x", AttachType.CGROUP_DEVICE.value(), 0).fd()) {
            for (Path bad : List.of(Path.of("relative/pin"), mnt.resolve("sub/../x"), link.resolve("x"),
                    outside.resolve("x"), mnt.resolve("nodir/x"), mnt.resolve(".hidden"))) {
                assertThrows(IllegalArgumentException.class, () -> BpfFs.pin(p, bad), bad.toString());
            }
            BpfFs.pin(p, mnt.resolve("sub/ok"));
            BpfFs.unpin(mnt.resolve("sub/ok"));
        } finally {
            Files.deleteIfExists(link);
            Files.deleteIfExists(mnt.resolve("sub"));
        }
    }
}
