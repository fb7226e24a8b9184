package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The syscall side of BPF_MAP_TYPE_SOCKMAP and BPF_MAP_TYPE_SOCKHASH that the scenario format
 * cannot say (it has no delete, next-key or lookup-and-delete op, nor update flags), on the kernel
 * against the engine, for both value sizes: on an empty map, every key's delete, lookup, next key
 * and lookup-and-delete, the first key, and updates whose value is no socket (stdout, an fd that
 * is not open, one past S32_MAX) under each update flag. Sockets themselves reach the engine's
 * maps only from sock_ops (the scenario sockmap-sock-ops): user space has no socket fds there.
 */
class SockMapDifferentialTest {
    private static final int MAX_ENTRIES = 3;
    /** An fd no test process has open. */
    private static final long CLOSED_FD = 999_999;
    private static final long STDOUT = 1;
    private static final long PAST_S32_MAX = 1L << 31;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void emptyMapsAnswerAsTheKernel() throws Exception {
        Map<String, Integer> seen = new TreeMap<>();
        List<String> k;
        List<String> e;
        try (KernelBackend kernel = new KernelBackend()) {
            k = answers(kernel);
        }
        try (EngineBackend engine = new EngineBackend()) {
            e = answers(engine);
        }
        assertEquals(k.size(), e.size());
        for (int i = 0; i < k.size(); i++) {
            assertEquals(k.get(i).split("=")[0], e.get(i).split("=")[0]);
            assertEquals(k.get(i), e.get(i), "call " + i);
            seen.merge(k.get(i).replaceAll("^.*=", ""), 1, Integer::sum);
        }
        System.out.println("sockmap and sockhash answers (outcome=count over " + k.size() + " calls): " + seen);
        for (String want : List.of("EINVAL", "ENOENT", "ENOSPC", "ENOTSUPP", "ENOTSOCK", "EBADF", "00000000")) {
            assertTrue(seen.keySet().stream().anyMatch(s -> s.contains(want)), "no outcome " + want + " in " + seen);
        }
    }

    /** Every call's answer, labelled with what it was. */
    private static List<String> answers(Backend b) throws BpfException {
        List<String> out = new ArrayList<>();
        for (MapType type : List.of(MapType.SOCKMAP, MapType.SOCKHASH)) {
            for (int valueSize : new int[] {4, 8}) {
                BpfMap m = b.createMap(new MapSpec("s", type, 4, valueSize, MAX_ENTRIES, 0));
                String at = type.scenarioName() + "/" + valueSize;
                out.add(at + " next(null)=" + BpfAnswer.of(() -> b.nextKey(m, null)));
                for (int i = 0; i <= MAX_ENTRIES; i++) {
                    final byte[] key = u32(i);
                    out.add(at + " lookup(" + i + ")=" + BpfAnswer.of(() -> b.lookup(m, key)));
                    out.add(at + " next(" + i + ")=" + BpfAnswer.of(() -> b.nextKey(m, key)));
                    out.add(at + " delete(" + i + ")=" + BpfAnswer.of(() -> {
                        b.delete(m, key);
                        return null;
                    }));
                    out.add(at + " lookupAndDelete(" + i + ")=" + BpfAnswer.of(() -> b.lookupAndDelete(m, key, 0)));
                }
                for (long fd : new long[] {STDOUT, CLOSED_FD, PAST_S32_MAX}) {
                    for (long flags : new long[] {0, 1, 2, 3, 4}) {
                        byte[] value = fdValue(fd, valueSize);
                        out.add(at + " update(fd " + fd + ", flags " + flags + ")="
                                + BpfAnswer.of(() -> {
                                    b.update(m, u32(MAX_ENTRIES + 1), value, flags);
                                    return null;
                                }));
                    }
                }
                m.close();
            }
        }
        return out;
    }

    private static byte[] u32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    /** The fd as the map's value: u32 or u64 in host (little-endian) order; past S32_MAX as u32 wraps to 2^31. */
    private static byte[] fdValue(long fd, int size) {
        byte[] v = new byte[size];
        for (int i = 0; i < size; i++) {
            v[i] = (byte) (fd >>> (8 * i));
        }
        return v;
    }
}
