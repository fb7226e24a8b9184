package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The kernel backend checks r/w access to character devices with access(2) instead of open(2),
 * to stay clear of drivers' open side effects. This test shows the kernel treats both alike for
 * character devices: for each device and mode, a program that records every access_type it is
 * asked about and refuses writes sees the same single check, and the task gets the same EPERM or
 * success from either call. Block devices differ: their open(2) asks twice (which is why the
 * backend opens them for real).
 */
class DeviceCheckEquivalenceTest {
    private static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_RDWR = 2;
    private static final int O_NONBLOCK = 04000;
    private static final int O_NOCTTY = 0400;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void accessAndOpenAskTheProgramTheSameQuestion() throws Exception {
        Path dir = Files.createTempDirectory("cgbpf-devtest");
        // array map: slot 0 = number of runs, slot 1 = last access_type
        try (TestCgroup cg = new TestCgroup();
             Fd map = MapCreate.mapCreate(MapType.ARRAY.value(), 4, 8, 2, 0, "seen")) {
            String ldMap = "r1 = map[fd:" + map.get() + "]";
            List<String> lines = List.of(
                    "r6 = r1",
                    "*(u32 *)(r10 -4) = 0", "r2 = r10", "r2 += -4", ldMap, "call bpf_map_lookup_elem#1",
                    "if r0 == 0x0 goto out",
                    "r1 = *(u64 *)(r0 +0)", "r1 += 1", "*(u64 *)(r0 +0) = r1",
                    "*(u32 *)(r10 -4) = 1", "r2 = r10", "r2 += -4", ldMap, "call bpf_map_lookup_elem#1",
                    "if r0 == 0x0 goto out",
                    "r1 = *(u32 *)(r6 +0)", "*(u64 *)(r0 +0) = r1",
                    "out:",
                    "r1 = *(u32 *)(r6 +0)",
                    "r1 &= 262144", // BPF_DEVCG_ACC_WRITE << 16
                    "r0 = 1", "if r1 == 0x0 goto done", "r0 = 0",
                    "done:", "exit");
            byte[] insns = new Assembler().assemble(lines).encode();
            try (Fd prog = load(insns);
                 ProbeWorker w = ProbeWorker.start(dir.resolve("err"))) {
                ProgAttach.progAttach(cg.fd(), prog, AttachType.CGROUP_DEVICE.value(), Set.of(), null);
                List<String> viaOpen = new ArrayList<>();
                List<String> viaAccess = new ArrayList<>();
                int[][] devices = {{'c', 1, 3}, {'c', 1, 5}, {'c', 240, 9}, {'b', 7, 200}};
                for (int[] d : devices) {
                    Path node = dir.resolve("n" + d[1] + "_" + d[2] + (char) d[0]);
                    int type = d[0] == 'b' ? ProbeWorkerMain.S_IFBLK : ProbeWorkerMain.S_IFCHR;
                    assertEquals(0, LibC.INSTANCE.mknod(node.toString(), type | 0600, ProbeWorkerMain.makedev(d[1], d[2])));
                    String hex = ProbeWorkerMain.hexPath(node.toString());
                    int[][] modes = {{O_RDONLY, 4}, {O_WRONLY, 2}, {O_RDWR, 6}};
                    for (int[] m : modes) {
                        viaOpen.add(node.getFileName() + "/" + m[0] + ": " + run(w, cg, map,
                                "open " + hex + " " + (m[0] | O_NONBLOCK | O_NOCTTY)));
                        viaAccess.add(node.getFileName() + "/" + m[0] + ": " + run(w, cg, map,
                                "access " + hex + " " + m[1]));
                    }
                }
                List<String> blockOpen = viaOpen.subList(9, 12);
                assertEquals(viaOpen.subList(0, 9), viaAccess.subList(0, 9));
                // the refusals really happened: every write-mode check was refused
                assertEquals(6, viaAccess.subList(0, 9).stream().filter(s -> s.contains("EPERM")).count(),
                        viaAccess.toString());
                // a block device's read open is checked twice (inode_permission, then blkdev_open);
                // a refused first check ends the open
                assertEquals(List.of("n7_200b/0: runs=2 type=0x20001 passed", "n7_200b/1: runs=1 type=0x40001 EPERM",
                        "n7_200b/2: runs=1 type=0x60001 EPERM"), blockOpen);
                assertEquals("n7_200b/0: runs=1 type=0x20001 passed", viaAccess.get(9));
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    private static Fd load(byte[] insns) throws BpfException {
        try {
            return ProgLoad.progLoad(ProgType.CGROUP_DEVICE.value(), insns, "GPL", "rec", 0, 0).fd();
        } catch (BpfException e) {
            throw new AssertionError(e.getMessage() + "\n" + e.verifierLog(), e);
        }
    }

    /** One request in the cgroup: "runs=N type=T" plus the errno (ENXIO/ENODEV from a driver count as passed). */
    private static String run(ProbeWorker w, TestCgroup cg, Fd map, String request) throws Exception {
        long before = slot(map, 0);
        CgroupFs.moveProcess(cg.path, w.pid());
        String outcome;
        try {
            w.call(request);
            outcome = "passed";
        } catch (ErrnoException e) {
            outcome = e.errno() == 1 ? "EPERM" : "passed";
        } finally {
            CgroupFs.moveProcess(TestCgroup.root(), w.pid());
        }
        return "runs=" + (slot(map, 0) - before) + " type=0x" + Long.toHexString(slot(map, 1)) + " " + outcome;
    }

    private static long slot(Fd map, int i) throws BpfException {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(i).array();
        return ByteBuffer.wrap(MapElem.lookupElem(map, key, 8, 0)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
