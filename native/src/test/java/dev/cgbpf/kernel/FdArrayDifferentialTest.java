package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The element commands of the fd arrays, BPF_MAP_TYPE_PROG_ARRAY and BPF_MAP_TYPE_CGROUP_ARRAY,
 * on the kernel against the engine: random sequences of updates (a program or a cgroup, a map's
 * fd, an fd that is not open, stdout; flags BPF_ANY, BPF_NOEXIST, BPF_EXIST; indexes in and past
 * the range), deletes, lookups and next keys, each compared by its outcome: the errno, or what a
 * lookup shows (a program array shows the program's id, compared as the program it names), and
 * the array's whole content after every step. The scenarios cannot say these (an fd's number
 * differs between the backends).
 */
class FdArrayDifferentialTest {
    private static final int MAX_ENTRIES = 3;
    /** An fd no test process has open. */
    private static final int CLOSED_FD = 999_999;
    private static final int STDOUT = 1;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void progArrayAnswersAsTheKernel() throws Exception {
        Map<String, Integer> seen = new TreeMap<>();
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend()) {
            Side k = new Side(kernel);
            Side e = new Side(engine);
            Random rnd = new Random(0x7A11);
            for (int round = 0; round < 8; round++) {
                k.openProgArray();
                e.openProgArray();
                for (int step = 0; step < 40; step++) {
                    int op = rnd.nextInt(8);
                    int index = rnd.nextInt(MAX_ENTRIES + 2);
                    int which = rnd.nextInt(k.progs.size());
                    long flags = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(2) : 0;
                    String ko = k.progArrayOp(op, index, which, flags);
                    String eo = e.progArrayOp(op, index, which, flags);
                    assertEquals(ko, eo, "round " + round + " step " + step + ": op " + op + " index " + index);
                    assertEquals(k.contents(), e.contents(), "round " + round + " step " + step + " contents");
                    seen.merge(op + ":" + ko.replaceAll("[0-9a-f]{8}$", ""), 1, Integer::sum);
                }
                k.array.close();
                e.array.close();
            }
        }
        System.out.println("prog array outcomes (op:outcome=count): " + seen);
        for (String want : List.of("ok", "E2BIG", "EINVAL", "EBADF", "ENOENT", "t100", "t101")) {
            assertTrue(seen.keySet().stream().anyMatch(s -> s.contains(want)), "no outcome " + want + " in " + seen);
        }
    }

    @Test
    void cgroupArrayAnswersAsTheKernel() throws Exception {
        Map<String, Integer> seen = new TreeMap<>();
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend()) {
            Side k = new Side(kernel);
            Side e = new Side(engine);
            Random rnd = new Random(0xC6A7);
            for (int round = 0; round < 6; round++) {
                k.openCgroupArray();
                e.openCgroupArray();
                for (int step = 0; step < 40; step++) {
                    int op = rnd.nextInt(7);
                    int index = rnd.nextInt(MAX_ENTRIES + 2);
                    String cgroup = List.of("a", "a/b", "").get(rnd.nextInt(3));
                    String ko = k.cgroupArrayOp(op, index, cgroup);
                    String eo = e.cgroupArrayOp(op, index, cgroup);
                    assertEquals(ko, eo, "round " + round + " step " + step + ": op " + op + " index " + index);
                    seen.merge(op + ":" + ko, 1, Integer::sum);
                }
                k.array.close();
                e.array.close();
            }
        }
        System.out.println("cgroup array outcomes (op:outcome=count): " + seen);
        for (String want : List.of("ok", "E2BIG", "EINVAL", "EBADF", "ENOENT", "ENOTSUPP")) {
            assertTrue(seen.keySet().stream().anyMatch(s -> s.contains(want)), "no outcome " + want + " in " + seen);
        }
    }

    /**
     * The slots of a program array live while the array has a user reference (an fd or a pin),
     * not as long as the array: a device program attached to a cgroup tail-calls through an array
     * that only a pin holds besides it; once the pin goes, the array's programs are dropped (the
     * kernel's map_release_uref; on the kernel from a work queue, so that is waited for) and the
     * tail call falls through, though the caller still holds the array. The counts of the target's
     * runs after two probes, and whether a later probe's tail call fell through, must match.
     */
    @Test
    void aProgArraysProgramsGoWithItsLastUserReference() throws Exception {
        List<Long> k;
        List<Long> e;
        try (KernelBackend kernel = new KernelBackend()) {
            k = tailCallsUntilUnpinned(kernel);
        }
        try (EngineBackend engine = new EngineBackend()) {
            e = tailCallsUntilUnpinned(engine);
        }
        System.out.println("target runs after two probes, then 0 once a probe's tail call fell through: kernel " + k
                + ", engine " + e);
        assertEquals(List.of(1L, 2L, 0L), k, "the kernel's tail calls");
        assertEquals(k, e);
    }

    private static List<Long> tailCallsUntilUnpinned(Backend b) throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of("/sys/fs/bpf", "cgbpf-fdarray-" + ProcessHandle.current().pid()
                + "-" + System.nanoTime());
        b.mkdir("t");
        BpfMap count = b.createMap(new MapSpec("count", MapType.ARRAY, 4, 8, 1, 0));
        BpfMap jmp = b.createMap(new MapSpec("jmp", MapType.PROG_ARRAY, 4, 4, 1, 0));
        Map<String, BpfMap> maps = Map.of("count", count, "jmp", jmp);
        LoadedProg target = Progs.load(b, "target", ProgType.CGROUP_DEVICE, null, maps, "r1 = 0",
                "*(u32 *)(r10 -4) = r1", "r2 = r10", "r2 += -4", "r1 = map[count]", "call bpf_map_lookup_elem#1",
                "if r0 == 0x0 goto pc+2", "r1 = 1", "lock *(u64 *)(r0 +0) += r1", "r0 = 1", "exit");
        LoadedProg caller = Progs.load(b, "caller", ProgType.CGROUP_DEVICE, null, maps, "r2 = map[jmp]", "r3 = 0",
                "call bpf_tail_call#12", "r0 = 1", "exit");
        b.updateProg(jmp, u32(0), target);
        b.attach("t", caller, dev.cgbpf.engine.backend.AttachType.CGROUP_DEVICE, java.util.Set.of(), null);
        target.close();
        caller.close();
        b.pinMkdir(dir);
        List<Long> runs = new ArrayList<>();
        try {
            b.objPin(jmp, dir.resolve("jmp"));
            jmp.close(); // the pin is the array's only user reference now
            dev.cgbpf.engine.backend.Probe.DeviceAccess nullRead = new dev.cgbpf.engine.backend.Probe.DeviceAccess('c', 1, 3, "r");
            b.device("t", nullRead);
            runs.add(runsOf(b, count));
            b.device("t", nullRead);
            runs.add(runsOf(b, count));
            b.unpin(dir.resolve("jmp"));
            // the kernel drops the pin's reference after an RCU grace period, and the programs from a work queue
            long deadline = System.nanoTime() + 10_000_000_000L;
            boolean fellThrough = false;
            while (!fellThrough && System.nanoTime() < deadline) {
                long before = runsOf(b, count);
                b.device("t", nullRead);
                fellThrough = runsOf(b, count) == before;
                if (!fellThrough) {
                    Thread.sleep(50);
                }
            }
            runs.add(fellThrough ? 0L : 1L);
        } finally {
            b.pinRmdir(dir);
        }
        count.close();
        return runs;
    }

    private static long runsOf(Backend b, BpfMap count) throws BpfException {
        return ByteBuffer.wrap(b.lookup(count, u32(0))).order(ByteOrder.nativeOrder()).getLong();
    }

    /** One backend's objects: two socket_filter programs, a cgroup_skb one, a plain array, the fd array. */
    private static final class Side {
        final Backend b;
        final List<LoadedProg> progs = new ArrayList<>();
        final List<String> names = List.of("t100", "t101", "skb");
        final Map<Integer, String> nameOfId = new TreeMap<>();
        final BpfMap other;
        BpfMap array;

        Side(Backend b) throws BpfException {
            this.b = b;
            progs.add(Progs.load(b, "t100", ProgType.SOCKET_FILTER, null, "r0 = 100", "exit"));
            progs.add(Progs.load(b, "t101", ProgType.SOCKET_FILTER, null, "r0 = 101", "exit"));
            progs.add(Progs.load(b, "skb", ProgType.CGROUP_SKB, null, "r0 = 1", "exit"));
            for (int i = 0; i < progs.size(); i++) {
                nameOfId.put(b.progInfo(progs.get(i)).id(), names.get(i));
            }
            other = b.createMap(new MapSpec("other", MapType.ARRAY, 4, 4, 1, 0));
            b.mkdir("a");
            b.mkdir("a/b");
        }

        void openProgArray() throws BpfException {
            array = b.createMap(new MapSpec("jmp", MapType.PROG_ARRAY, 4, 4, MAX_ENTRIES, 0));
        }

        void openCgroupArray() throws BpfException {
            array = b.createMap(new MapSpec("cg", MapType.CGROUP_ARRAY, 4, 4, MAX_ENTRIES, 0));
        }

        String progArrayOp(int op, int index, int which, long flags) {
            byte[] key = u32(index);
            return outcome(() -> switch (op) {
                case 0, 1, 2 -> {
                    b.updateProg(array, key, progs.get(which));
                    yield "ok";
                }
                case 3 -> {
                    b.update(array, key, u32(new int[] {other.fd(), CLOSED_FD, STDOUT}[which]), flags);
                    yield "ok";
                }
                case 4 -> {
                    b.delete(array, key);
                    yield "ok";
                }
                case 5 -> nameOfId.getOrDefault(ByteBuffer.wrap(b.lookup(array, key)).order(ByteOrder.nativeOrder())
                        .getInt(), "unknown id");
                case 6 -> next(key);
                default -> next(null);
            });
        }

        String cgroupArrayOp(int op, int index, String cgroup) {
            byte[] key = u32(index);
            return outcome(() -> switch (op) {
                case 0, 1 -> {
                    b.updateCgroup(array, key, cgroup);
                    yield "ok";
                }
                case 2 -> {
                    int fd = new int[] {other.fd(), CLOSED_FD, STDOUT}[index % 3];
                    b.update(array, key, u32(fd), index == 0 ? 1 : 0);
                    yield "ok";
                }
                case 3 -> {
                    b.delete(array, key);
                    yield "ok";
                }
                case 4 -> HexFormat.of().formatHex(b.lookup(array, key));
                case 5 -> next(key);
                default -> next(null);
            });
        }

        private String next(byte[] key) throws BpfException {
            return "next " + HexFormat.of().formatHex(b.nextKey(array, key));
        }

        /** Which slots are filled, as the deletes of a copy would find them: each index, ok or ENOENT. */
        String contents() {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < MAX_ENTRIES; i++) {
                int at = i;
                sb.append(outcome(() -> nameOfId.get(ByteBuffer.wrap(b.lookup(array, u32(at)))
                        .order(ByteOrder.nativeOrder()).getInt()))).append(' ');
            }
            return sb.toString();
        }
    }

    private interface Op {
        String run() throws BpfException;
    }

    private static String outcome(Op op) {
        try {
            return op.run();
        } catch (BpfException e) {
            return e.errno();
        }
    }

    private static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
    }
}
