package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Backend#updateBatch}: BPF_MAP_UPDATE_BATCH on the kernel against the engine's loop of
 * updates. Random batches (repeated keys, batches that overflow the map) into hash maps of the
 * device programs' shape (12-byte key, 8-byte value) and array maps: the same errno or success,
 * and the same contents afterwards, so also the same elements written before a failure.
 */
class MapBatchDifferentialTest {
    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void batchesAnswerAsTheKernel() throws Exception {
        Random rnd = new Random(0xBA7C);
        int failures = 0;
        int elements = 0;
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend()) {
            for (int round = 0; round < 60; round++) {
                boolean hash = round % 3 != 0;
                MapSpec spec = hash ? new MapSpec("batch", MapType.HASH, 12, 8, 1 + rnd.nextInt(64), 0)
                        : new MapSpec("batch", MapType.ARRAY, 4, 8, 1 + rnd.nextInt(64), 0);
                try (BpfMap km = kernel.createMap(spec); BpfMap em = engine.createMap(spec)) {
                    for (int batch = 0; batch < 3; batch++) {
                        int count = rnd.nextInt(spec.maxEntries() + 8);
                        byte[] keys = new byte[count * spec.keySize()];
                        byte[] values = new byte[count * spec.valueSize()];
                        ByteBuffer k = ByteBuffer.wrap(keys).order(ByteOrder.nativeOrder());
                        for (int i = 0; i < count; i++) {
                            if (hash) {
                                k.putInt(rnd.nextInt(3)).putInt(rnd.nextInt(4096)).putInt(rnd.nextInt(spec.maxEntries() + 4));
                            } else {
                                k.putInt(rnd.nextInt(spec.maxEntries() + 2)); // past the end: E2BIG
                            }
                        }
                        rnd.nextBytes(values);
                        String ke = outcome(kernel, km, keys, values, count);
                        String ee = outcome(engine, em, keys, values, count);
                        assertEquals(ke, ee, spec + " batch of " + count);
                        assertEquals(contents(kernel, km), contents(engine, em), spec + " after a batch of " + count);
                        failures += ke.equals("ok") ? 0 : 1;
                        elements += count;
                    }
                }
            }
        }
        System.out.printf("update batches: %d elements, %d batches refused%n", elements, failures);
        assertTrue(failures > 10 && failures < 150, "both outcomes: " + failures + " of 180 refused");
    }

    private static String outcome(Backend b, BpfMap m, byte[] keys, byte[] values, int count) {
        try {
            b.updateBatch(m, keys, values, count);
            return "ok";
        } catch (BpfException e) {
            return e.errno();
        }
    }

    private static TreeMap<String, String> contents(Backend b, BpfMap m) throws BpfException {
        TreeMap<String, String> out = new TreeMap<>();
        List<byte[]> keys = new ArrayList<>();
        byte[] key = null;
        while (true) {
            try {
                key = b.nextKey(m, key);
            } catch (BpfException e) {
                assertEquals("ENOENT", e.errno());
                break;
            }
            keys.add(key);
        }
        for (byte[] k : keys) {
            out.put(HexFormat.of().formatHex(k), HexFormat.of().formatHex(b.lookup(m, k)));
        }
        return out;
    }
}
