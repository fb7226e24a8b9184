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
import dev.cgbpf.engine.jit.JitMode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The engine's LRU hashes (BPF_MAP_TYPE_LRU_HASH, LRU_PERCPU_HASH) against the kernel's: map
 * creation (flags, sizes, the max_entries BPF_F_NO_COMMON_LRU rounds to), and random sequences of
 * updates (every flag), lookups and deletes from user space and from socket_filter programs, run
 * with the test's thread pinned to CPU 0 (the engine's CPU) as the kernel's own LRU selftest pins
 * itself: each call answers alike, and after each step the map holds the same keys with the same
 * values, so every eviction picked the same key.
 */
class LruHashDifferentialTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final int NO_COMMON_LRU = 0x2;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void mapCreationAnswersAsTheKernel() throws BpfException {
        // key_size, value_size, max_entries, flags
        int[][] shapes = {
            {4, 8, 4, 0}, {0, 8, 4, 0}, {4, 0, 4, 0}, {4, 8, 0, 0}, {4, 8, 4, 0x1}, {4, 8, 4, 0x2}, {4, 8, 4, 0x3},
            {4, 8, 4, 0x4}, {4, 8, 4, 0x6}, {4, 8, 4, 0x5}, {4, 8, 4, 0x8}, {4, 8, 4, 0x10}, {4, 8, 4, 0x18},
            {4, 8, 4, 0x40}, {4, 8, 4, 0x80}, {4, 8, 4, 0x100}, {4, 8, 4, 0x180}, {4, 8, 4, 0x400}, {4, 8, 4, 0x1000},
            {4, 8, 4, 0x800}, {4, 32768, 1, 0}, {4, 32769, 1, 0}, {4, (4 << 20) - 52, 1, 0}, {4, (4 << 20) - 50, 1, 0},
            {4, 8, 1, 0x2}, {4, 8, 3, 0x2}, {4, 8, 5, 0x2}, {4, 8, -1, 0}, {4, 8, -1, 0x2}, {4, 8, 0x80000001, 0x2},
            {4, 8, 0x80000001, 0}, {-1, 8, 4, 0},
        };
        int refused = 0;
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend()) {
            for (MapType t : List.of(MapType.LRU_HASH, MapType.LRU_PERCPU_HASH)) {
                for (int[] s : shapes) {
                    MapSpec spec = new MapSpec("lru", t, s[0], s[1], s[2], s[3]);
                    String k = created(kernel, spec);
                    assertEquals(k, created(engine, spec), spec.toString());
                    System.out.println("create " + spec + ": " + k);
                    refused += k.startsWith("max_entries") ? 0 : 1;
                }
            }
        }
        assertTrue(refused >= 30 && refused <= 2 * shapes.length - 10, refused + " refused");
    }

    /** "max_entries N" as bpf_map_info tells it, or the errno. */
    private static String created(Backend b, MapSpec spec) {
        return BpfAnswer.of(() -> {
            try (BpfMap m = b.createMap(spec)) {
                return "max_entries " + Integer.toUnsignedString(b.mapInfo(m).spec().maxEntries());
            }
        });
    }

    /** One backend's map and its programs. */
    private static final class Side {
        final Backend b;
        final BpfMap map;
        final Map<String, LoadedProg> progs = new TreeMap<>();

        Side(Backend b, MapSpec spec) throws BpfException {
            this.b = b;
            map = b.createMap(spec);
            // fp-4 = the u32 at frame offset 14, the packet's first after the Ethernet header (LD_ABS: in network order); return bpf_map_lookup_elem(&m, fp-4) ? *(u32 *)value : 0
            progs.put("lookup", load("lookup", "r6 = r1", "r0 = *(u32 *)skb[0]", "*(u32 *)(r10 -4) = r0",
                    "r1 = map[m]", "r2 = r10", "r2 += -4", "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto pc+1",
                    "r0 = *(u32 *)(r0 +0)", "exit"));
            // fp-4 = the key as above; return bpf_map_delete_elem(&m, fp-4)
            progs.put("delete", load("delete", "r6 = r1", "r0 = *(u32 *)skb[0]", "*(u32 *)(r10 -4) = r0",
                    "r1 = map[m]", "r2 = r10", "r2 += -4", "call bpf_map_delete_elem#3", "exit"));
            for (long flags : new long[] {0, 1, 2}) {
                // fp-4 = key, fp-16..fp-9 = the u32s at frame offsets 18 and 22; return bpf_map_update_elem(&m, fp-4, fp-16, flags)
                progs.put("update" + flags, load("update" + flags, "r6 = r1", "r0 = *(u32 *)skb[0]",
                        "*(u32 *)(r10 -4) = r0", "r0 = *(u32 *)skb[4]", "*(u32 *)(r10 -16) = r0", "r0 = *(u32 *)skb[8]",
                        "*(u32 *)(r10 -12) = r0", "r1 = map[m]", "r2 = r10", "r2 += -4", "r3 = r10", "r3 += -16",
                        "r4 = " + flags, "call bpf_map_update_elem#2", "exit"));
            }
        }

        private LoadedProg load(String name, String... insns) throws BpfException {
            return Progs.load(b, name, ProgType.SOCKET_FILTER, null, Map.of("m", map), insns);
        }

        String run(String prog, byte[] frame) {
            return BpfAnswer.of(() -> b.testRun(progs.get(prog), new TestRun.Request(frame, 1)).retval());
        }

        /** Every key of {@code 0..range} with its value, by the syscall's lookup (which marks nothing). */
        String contents(int range) {
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < range; k++) {
                byte[] key = key(k);
                String a = BpfAnswer.of(() -> b.lookup(map, key));
                if (!a.equals("ENOENT")) {
                    sb.append(k).append('=').append(a).append(' ');
                }
            }
            return sb.toString();
        }

        /** The keys get_next_key walks, sorted (the kernel walks in hash order). */
        TreeSet<String> walked() {
            TreeSet<String> keys = new TreeSet<>();
            byte[] k = null;
            while (true) {
                byte[] prev = k;
                String a = BpfAnswer.of(() -> b.nextKey(map, prev));
                if (a.startsWith("E")) {
                    return keys;
                }
                k = HEX.parseHex(a);
                keys.add(a);
            }
        }

        void close() {
            map.close();
            progs.values().forEach(LoadedProg::close);
        }
    }

    private static byte[] key(int k) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array();
    }

    /**
     * Random updates, lookups and deletes of keys in twice the map's size, from both sides, on
     * maps of 1 to 12 elements and some of 300 and 1000 (target_free up to LOCAL_FREE_TARGET, the scans' limits at play),
     * each of the four kinds (LRU or per-CPU LRU hash, common or per-CPU LRU lists); the engine
     * interpreted and compiled.
     */
    @ParameterizedTest
    @EnumSource(value = JitMode.class, names = {"OFF", "ON"})
    void randomSequencesEvictAsTheKernel(JitMode jit) throws Exception {
        Random rnd = new Random(0x1A0 + jit.ordinal());
        TreeMap<String, Integer> seen = new TreeMap<>();
        int evictions = 0;
        int bigEvictions = 0;
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend();
                AutoCloseable pinned = kernel.pinThread(0)) {
            engine.host().setJitMode(jit);
            for (int round = 0; round < 48; round++) {
                MapType type = round % 2 == 0 ? MapType.LRU_HASH : MapType.LRU_PERCPU_HASH;
                int flags = round / 2 % 2 == 0 ? 0 : NO_COMMON_LRU;
                // rounds 8-11, 20-23, ... : each kind once with 300 elements (target_free 75) or 1000 (128, LOCAL_FREE_TARGET)
                boolean big = round / 4 % 3 == 2;
                int max = big ? (round / 12 % 2 == 0 ? 300 : 1000) : 1 + rnd.nextInt(12);
                MapSpec spec = new MapSpec("lrudiff", type, 4, 8, max, flags);
                Side k = new Side(kernel, spec);
                Side e = new Side(engine, spec);
                int range = 2 * max + 2;
                int steps = big ? 1000 : 150;
                List<String> trace = new ArrayList<>();
                if (big) {
                    // full from the start, so that the random steps evict
                    for (int kv = 0; kv < max; kv++) {
                        byte[] v = new byte[spec.type().percpu() ? 8 * PossibleCpus.count() : 8];
                        v[0] = (byte) kv;
                        String ka = step(k, 0, key(kv), v, 0, null);
                        assertEquals(ka, step(e, 0, key(kv), v, 0, null), spec + " filling, key " + kv);
                    }
                }
                String before = big ? k.contents(range) : "";
                assertEquals(before, e.contents(range), spec + " filled");
                for (int step = 0; step < steps; step++) {
                    int kv = rnd.nextInt(range);
                    byte[] value = new byte[spec.type().percpu() ? 8 * PossibleCpus.count() : 8];
                    rnd.nextBytes(value);
                    byte[] frame = new byte[64];
                    rnd.nextBytes(frame);
                    ByteBuffer.wrap(frame).putInt(14, kv);
                    long uflags = new long[] {0, 0, 0, 1, 2, 3}[rnd.nextInt(6)];
                    int op = rnd.nextInt(12);
                    String what = switch (op) {
                        case 0, 1, 2 -> "update " + uflags;
                        case 3 -> "lookup";
                        case 4 -> "delete";
                        case 5 -> "lookup_and_delete";
                        case 6, 7, 8 -> "run lookup";
                        case 9 -> "run delete";
                        default -> "run update" + (uflags % 3);
                    };
                    String ka = step(k, op, key(kv), value, uflags, frame);
                    String ea = step(e, op, key(kv), value, uflags, frame);
                    trace.add(what + " " + kv + " -> " + ka);
                    if (trace.size() > 40) {
                        trace.remove(0);
                    }
                    assertEquals(ka, ea, spec + " step " + step + " after " + trace);
                    seen.merge(what + " " + kind(op >= 6, ka), 1, Integer::sum);
                    if (!big || step % 25 == 0 || step == steps - 1) {
                        String kc = k.contents(range);
                        assertEquals(kc, e.contents(range), spec + " contents at step " + step + " after " + trace);
                        if (op <= 2 || op >= 10) {
                            int lost = lostKeys(before, kc, kv);
                            evictions += lost;
                            bigEvictions += big ? lost : 0;
                        }
                        before = kc;
                    }
                }
                assertEquals(k.walked(), e.walked(), spec + ": get_next_key's keys");
                k.close();
                e.close();
            }
            if (jit == JitMode.ON) {
                assertTrue(engine.host().jitStats().compiled() > 0, "no program was compiled");
            }
        }
        System.out.println("LRU answers (" + jit + "): " + seen + "; keys evicted by updates: " + evictions
                + " (" + bigEvictions + " in maps of 300 and 1000)");
        assertTrue(evictions > 200 && bigEvictions > 100, evictions + " evictions, " + bigEvictions + " in big maps");
        for (String expected : List.of("update 0 ok", "update 1 EEXIST", "update 2 ENOENT", "update 3 EINVAL",
                "lookup value", "lookup ENOENT", "delete ok", "delete ENOENT", "lookup_and_delete value",
                "run lookup value", "run lookup 0", "run update0 0", "run update1 4294967279", "run update2 4294967294",
                "run delete 0", "run delete 4294967294")) {
            assertTrue(seen.containsKey(expected), "no '" + expected + "' among " + seen.keySet());
        }
    }

    /** An answer as the summary counts it: "ok", an errno, a program's 0 or -errno (as a u32) as it is, else "value". */
    private static String kind(boolean run, String answer) {
        if (run && answer.matches("[0-9]+")) {
            long v = Long.parseLong(answer);
            return v == 0 || v > 0xffffffffL - 4096 ? answer : "value";
        }
        return answer.equals("ok") || answer.startsWith("E") ? answer : "value";
    }

    /** How many keys of {@code before} other than {@code updated} are gone in {@code after}. */
    private static int lostKeys(String before, String after, int updated) {
        int lost = 0;
        for (String entry : before.split(" ")) {
            String k = entry.split("=")[0];
            if (!entry.isEmpty() && !k.equals(Integer.toString(updated)) && !(" " + after).contains(" " + k + "=")) {
                lost++;
            }
        }
        return lost;
    }

    private static String step(Side s, int op, byte[] key, byte[] value, long flags, byte[] frame) {
        Backend b = s.b;
        return switch (op) {
            case 0, 1, 2 -> BpfAnswer.of(() -> {
                b.update(s.map, key, value, flags);
                return "ok";
            });
            case 3 -> BpfAnswer.of(() -> b.lookup(s.map, key));
            case 4 -> BpfAnswer.of(() -> {
                b.delete(s.map, key);
                return "ok";
            });
            case 5 -> BpfAnswer.of(() -> b.lookupAndDelete(s.map, key, 0));
            case 6, 7, 8 -> s.run("lookup", frame);
            case 9 -> s.run("delete", frame);
            default -> s.run("update" + (flags % 3), frame);
        };
    }
}
