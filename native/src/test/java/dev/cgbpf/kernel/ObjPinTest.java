package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** BPF_OBJ_PIN / BPF_OBJ_GET on a private bpf file system mounted for this test. */
class ObjPinTest {
    private static Path bpffs;

    @BeforeAll
    static void mountBpffs() throws Exception {
        KernelRequired.check();
        bpffs = Files.createTempDirectory("cgbpf-bpffs");
        Process p = new ProcessBuilder("mount", "-t", "bpf", "bpf", bpffs.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        boolean ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        if (!ok) {
            Files.delete(bpffs);
            bpffs = null;
            String why = "cannot mount a bpf file system: " + out.strip();
            if (KernelRequired.required()) {
                fail(why);
            }
            Assumptions.abort(why);
        }
    }

    @AfterAll
    static void unmount() throws Exception {
        if (bpffs != null) {
            new ProcessBuilder("umount", bpffs.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
            Files.deleteIfExists(bpffs);
        }
    }

    @Test
    void pinnedProgramOutlivesItsFdAndOpensAgain() throws BpfException, IOException {
        String path = bpffs.resolve("prog").toString();
        int id;
        try (Fd p = ProgLoad.progLoad(ProgType.CGROUP_DEVICE.value(), TestInsns.returning(1).encode(), "GPL",
                "pinned", AttachType.CGROUP_DEVICE.value(), 0).fd()) {
            id = ObjGetInfoByFd.progInfo(p).id();
            ObjPin.objPin(p, path);
            BpfException twice = assertThrows(BpfException.class, () -> ObjPin.objPin(p, path));
            assertEquals("EEXIST", twice.errno());
        }
        try (Fd again = ObjPin.objGet(path, 0)) {
            ObjGetInfoByFd.ProgInfo info = ObjGetInfoByFd.progInfo(again);
            assertEquals(id, info.id());
            assertEquals("pinned", info.name());
        }
        Files.delete(Path.of(path));
        BpfException gone = assertThrows(BpfException.class, () -> ObjPin.objGet(path, 0));
        assertEquals("ENOENT", gone.errno());
    }

    @Test
    void pinningOutsideABpfFileSystemIsEperm() throws BpfException {
        try (Fd p = ProgLoad.progLoad(ProgType.SOCKET_FILTER.value(), TestInsns.returning(1).encode(), "GPL",
                "x", 0, 0).fd()) {
            Path notBpffs = Path.of(System.getProperty("java.io.tmpdir"), "cgbpf-not-bpffs-" + ProcessHandle.current().pid());
            BpfException e = assertThrows(BpfException.class, () -> ObjPin.objPin(p, notBpffs.toString()));
            assertEquals("EPERM", e.errno());
        }
    }
}
