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
import dev.cgbpf.engine.backend.TestRun;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's queue and stack maps (BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK) against the
 * kernel's: map creation, and random sequences of the syscall side (update = push, lookup = peek,
 * BPF_MAP_LOOKUP_AND_DELETE_ELEM = pop, delete, get_next_key, with every flag) interleaved with
 * socket_filter programs calling bpf_map_push_elem, bpf_map_pop_elem and bpf_map_peek_elem: each
 * call answers alike (the value, or the errno; a program's return value), on maps of every access
 * flag.
 */
class QueueStackDifferentialTest {
    private static final HexFormat HEX = HexFormat.of();

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void mapCreationAnswersAsTheKernel() throws BpfException {
        // key_size, value_size, max_entries, flags
        int[][] shapes = {
            {0, 8, 4, 0}, {4, 8, 4, 0}, {0, 0, 4, 0}, {0, 8, 0, 0}, {0, 1, 1, 0}, {0, 4 << 20, 1, 0},
            {0, (4 << 20) + 1, 1, 0}, {0, -1, 1, 0}, {0, 8, 4, 0x1}, {0, 8, 4, 0x2}, {0, 8, 4, 0x4}, {0, 8, 4, 0x8},
            {0, 8, 4, 0x10}, {0, 8, 4, 0x18}, {0, 8, 4, 0x40}, {0, 8, 4, 0x80}, {0, 8, 4, 0x100}, {0, 8, 4, 0x180},
            {0, 8, 4, 0x88}, {0, 8, 4, 0x400}, {0, 8, 4, 0x800}, {0, 8, 4, 0x1000}, {8, 0, 0, 0x1},
        };
        int refused = 0;
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend()) {
            for (MapType t : List.of(MapType.QUEUE, MapType.STACK)) {
                for (int[] s : shapes) {
                    MapSpec spec = new MapSpec("qs", t, s[0], s[1], s[2], s[3]);
                    String k = BpfAnswer.of(() -> kernel.createMap(spec));
                    assertEquals(k, BpfAnswer.of(() -> engine.createMap(spec)), spec.toString());
                    refused += k.equals("ok") ? 0 : 1;
                }
            }
        }
        assertTrue(refused >= 20 && refused <= 2 * shapes.length - 10, refused + " refused");
    }

    /**
     * BPF_MAP_LOOKUP_AND_DELETE_ELEM on the other map types the engine has: a hash map gives the
     * key's value and removes it, ENOENT once it is gone; BPF_F_LOCK is EINVAL without a
     * bpf_spin_lock, other flags EINVAL; a map read-only or write-only for user space EPERM;
     * arrays, cgroup storage and ring buffers ENOTSUPP.
     */
    @Test
    void lookupAndDeleteOfOtherMapsAnswersAsTheKernel() throws BpfException {
        List<MapSpec> specs = List.of(new MapSpec("h", MapType.HASH, 4, 8, 4, 0),
                new MapSpec("hro", MapType.HASH, 4, 8, 4, 0x8), new MapSpec("hwo", MapType.HASH, 4, 8, 4, 0x10),
                new MapSpec("a", MapType.ARRAY, 4, 8, 4, 0), new MapSpec("cs", MapType.CGROUP_STORAGE, 16, 8, 0, 0),
                new MapSpec("rb", MapType.RINGBUF, 0, 0, 4096, 0), new MapSpec("ph", MapType.PERCPU_HASH, 4, 8, 4, 0),
                new MapSpec("pa", MapType.PERCPU_ARRAY, 4, 8, 4, 0));
        byte[] k1 = {1, 0, 0, 0};
        byte[] k2 = {2, 0, 0, 0};
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend()) {
            for (MapSpec spec : specs) {
                List<List<String>> answers = new ArrayList<>();
                for (Backend b : List.of(kernel, engine)) {
                    BpfMap m = b.createMap(spec);
                    byte[] key = new byte[spec.keySize()];
                    byte[] k = spec.keySize() == 4 ? k1 : key;
                    List<String> a = new ArrayList<>();
                    a.add(BpfAnswer.of(() -> {
                        b.update(m, k, value(spec), 0);
                        return "ok";
                    }));
                    for (long flags : new long[] {4, 1, 0, 0}) {
                        a.add(BpfAnswer.of(() -> b.lookupAndDelete(m, k, flags)));
                    }
                    if (spec.keySize() == 4) {
                        a.add(BpfAnswer.of(() -> b.lookupAndDelete(m, k2, 0)));
                    }
                    m.close();
                    answers.add(a);
                }
                assertEquals(answers.get(0), answers.get(1), spec.toString());
                System.out.println("lookup-and-delete " + spec.name() + ": " + answers.get(0));
                if (spec.name().equals("h") || spec.name().equals("ph")) {
                    // the update, BPF_F_LOCK, BPF_NOEXIST, the value (every CPU's), the key gone, a key never there
                    assertEquals(List.of("ok", "EINVAL", "EINVAL", HEX.formatHex(value(spec)), "ENOENT",
                            "ENOENT"), answers.get(0));
                }
            }
        }
    }

    /** One backend's map and its programs (null when the load was refused: the refusal is compared). */
    private static final class Side {
        final Backend b;
        final BpfMap map;
        final Map<String, LoadedProg> progs = new TreeMap<>();
        final Map<String, String> loads = new TreeMap<>();

        Side(Backend b, MapSpec spec) throws BpfException {
            this.b = b;
            map = b.createMap(spec);
            for (long flags : new long[] {0, 1, 2}) {
                // fp-16..fp-1 = the 16 bytes after the Ethernet header; return bpf_map_push_elem(&map, fp-16, flags)
                load("push" + flags, "r6 = r1", "r0 = *(u32 *)skb[14]", "*(u32 *)(r10 -16) = r0",
                        "r0 = *(u32 *)skb[18]", "*(u32 *)(r10 -12) = r0", "r0 = *(u32 *)skb[22]",
                        "*(u32 *)(r10 -8) = r0", "r0 = *(u32 *)skb[26]", "*(u32 *)(r10 -4) = r0",
                        "r1 = map[m]", "r2 = r10", "r2 += -16", "r3 = " + flags, "call bpf_map_push_elem#87", "exit");
            }
            for (String h : new String[] {"bpf_map_pop_elem#88", "bpf_map_peek_elem#89"}) {
                // fp-16..fp-1 = 0x5a bytes; r0 = helper(&map, fp-16); return r0 ? r0 : the xor of the four words
                load(h.substring(8, 12), "r1 = 0x5a5a5a5a", "*(u32 *)(r10 -16) = r1", "*(u32 *)(r10 -12) = r1",
                        "*(u32 *)(r10 -8) = r1", "*(u32 *)(r10 -4) = r1", "r1 = map[m]", "r2 = r10", "r2 += -16",
                        "call " + h, "if r0 != 0x0 goto pc+7", "r0 = *(u32 *)(r10 -16)", "r1 = *(u32 *)(r10 -12)",
                        "r0 ^= r1", "r1 = *(u32 *)(r10 -8)", "r0 ^= r1", "r1 = *(u32 *)(r10 -4)", "r0 ^= r1", "exit");
            }
        }

        private void load(String name, String... insns) {
            try {
                progs.put(name, Progs.load(b, name, ProgType.SOCKET_FILTER, null, Map.of("m", map), insns));
                loads.put(name, "ok");
            } catch (BpfException e) {
                loads.put(name, e.errno() + " " + lastLine(e.verifierLog()));
            }
        }

        String run(String prog, byte[] frame) {
            LoadedProg p = progs.get(prog);
            return p == null ? "not loaded" : BpfAnswer.of(() -> b.testRun(p, new TestRun.Request(frame, 1)).retval());
        }
    }

    private static String lastLine(String log) {
        if (log == null) {
            return "";
        }
        String[] lines = log.strip().split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            if (!lines[i].isBlank() && !lines[i].startsWith("processed ")) {
                return lines[i];
            }
        }
        return "";
    }

    @Test
    void pushPopAndPeekFromBothSidesAnswerAsTheKernel() throws BpfException {
        Random rnd = new Random(0x0E0E);
        int[] valueSizes = {1, 4, 8, 12, 16};
        int[] mapFlags = {0, 0, 0, 0x4, 0x8, 0x10, 0x80, 0x100};
        TreeMap<String, Integer> seen = new TreeMap<>();
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend()) {
            for (int round = 0; round < 40; round++) {
                MapSpec spec = new MapSpec("qsdiff", round % 2 == 0 ? MapType.QUEUE : MapType.STACK, 0,
                        valueSizes[rnd.nextInt(valueSizes.length)], 1 + rnd.nextInt(5), mapFlags[rnd.nextInt(mapFlags.length)]);
                Side k = new Side(kernel, spec);
                Side e = new Side(engine, spec);
                assertEquals(k.loads, e.loads, spec + ": program loads");
                List<String> trace = new ArrayList<>();
                for (int step = 0; step < 60; step++) {
                    byte[] value = new byte[spec.valueSize()];
                    rnd.nextBytes(value);
                    byte[] frame = new byte[64];
                    rnd.nextBytes(frame);
                    long flags = new long[] {0, 0, 0, 1, 2, 2, 3, 4}[rnd.nextInt(8)];
                    int op = rnd.nextInt(10);
                    String what = switch (op) {
                        case 0, 1 -> "update " + flags;
                        case 2 -> "lookup";
                        case 3 -> "lookup_and_delete " + (flags & 5);
                        case 4 -> "delete";
                        case 5 -> "next_key";
                        case 6 -> "run push" + (flags % 3);
                        case 7 -> "run pop_";
                        default -> "run peek";
                    };
                    String ka = step(k, op, value, flags, frame);
                    String ea = step(e, op, value, flags, frame);
                    trace.add(what + " -> " + ka);
                    assertEquals(ka, ea, spec + " after " + trace);
                    seen.merge(what.split(" ")[0] + (what.startsWith("run") ? " " + what.split(" ")[1] : "") + " "
                            + kind(op, ka), 1, Integer::sum);
                }
                k.map.close();
                e.map.close();
                k.progs.values().forEach(LoadedProg::close);
                e.progs.values().forEach(LoadedProg::close);
            }
        }
        System.out.println("queue/stack answers: " + seen);
        for (String expected : List.of("update ok", "update E2BIG", "update EINVAL", "update EPERM", "lookup ENOENT",
                "lookup EPERM", "lookup_and_delete ENOENT", "lookup_and_delete EINVAL", "delete EINVAL",
                "next_key EINVAL", "run push0 0", "run push0 4294967289", "run push1 4294967274", "run pop_ 4294967294")) {
            assertTrue(seen.containsKey(expected), "no '" + expected + "' among " + seen.keySet());
        }
    }

    /** An answer as the summary counts it: values as "value", anything else (errnos, "ok", a program's 0 or -errno) as it is. */
    private static String kind(int op, String answer) {
        if (op >= 6) {
            boolean value = answer.matches("[0-9]+") && !answer.equals("0") && Long.parseLong(answer) < 0xffffffffL - 4095;
            return value ? "value" : answer;
        }
        return answer.equals("ok") || answer.startsWith("E") ? answer : "value";
    }

    private static String step(Side s, int op, byte[] value, long flags, byte[] frame) {
        Backend b = s.b;
        return switch (op) {
            case 0, 1 -> BpfAnswer.of(() -> {
                b.update(s.map, new byte[0], value, flags);
                return "ok";
            });
            case 2 -> BpfAnswer.of(() -> b.lookup(s.map, new byte[0]));
            case 3 -> BpfAnswer.of(() -> b.lookupAndDelete(s.map, new byte[0], flags & 5));
            case 4 -> BpfAnswer.of(() -> {
                b.delete(s.map, new byte[0]);
                return "ok";
            });
            case 5 -> BpfAnswer.of(() -> b.nextKey(s.map, null));
            case 6 -> s.run("push" + (flags % 3), frame);
            case 7 -> s.run("pop_", frame);
            default -> s.run("peek", frame);
        };
    }

    /** 7, 0 ... 0, 9 as a u64 value; of a per-CPU map one per possible CPU, the first byte 7 + the CPU. */
    private static byte[] value(MapSpec spec) {
        int cpus = spec.type().percpu() ? PossibleCpus.count() : 1;
        byte[] v = new byte[8 * cpus];
        for (int cpu = 0; cpu < cpus; cpu++) {
            v[8 * cpu] = (byte) (7 + cpu);
            v[8 * cpu + 7] = 9;
        }
        return v;
    }
}
