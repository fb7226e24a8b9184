package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Map semantics and errnos of the engine. Every expectation here was first asked of the running
 * kernel (6.18, bpf(2) directly from a small C program): the comments give what it answered.
 */
class MapErrnoTest {
    private final EngineBackend engine = new EngineBackend();

    @AfterEach
    void close() {
        engine.close();
    }

    private static byte[] u32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    private static byte[] u64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    private String errno(ThrowingRunnable r) {
        return assertThrows(BpfException.class, r::run).errno();
    }

    interface ThrowingRunnable {
        void run() throws BpfException;
    }

    @ParameterizedTest(name = "{0} key={1} value={2} max={3} flags={4} -> {5}")
    @CsvSource({
        // type, key_size, value_size, max_entries, flags, errno or OK
        "ARRAY, 4, 8, 0, 0, EINVAL",
        "ARRAY, 8, 8, 4, 0, EINVAL",
        "ARRAY, 4, 0, 4, 0, EINVAL",
        "ARRAY, 4, 8, 4, 1, EINVAL",       // BPF_F_NO_PREALLOC is for hash maps
        "ARRAY, 4, 8, 4, 1024, OK",        // BPF_F_MMAPABLE
        "ARRAY, 4, 8, 4, 24, EINVAL",      // RDONLY|WRONLY
        "ARRAY, 4, 8, 4, 64, EINVAL",      // BPF_F_ZERO_SEED is for hash maps
        "ARRAY, 4, 8, 4, 2048, EINVAL",    // BPF_F_PRESERVE_ELEMS: perf event arrays only
        "HASH, 0, 8, 4, 0, EINVAL",
        "HASH, 4, 0, 4, 0, EINVAL",
        "HASH, 4, 8, 0, 0, EINVAL",
        "HASH, 513, 8, 4, 0, OK",          // no MAX_BPF_STACK key limit any more
        "HASH, 4, 8, 4, 1, OK",            // BPF_F_NO_PREALLOC
        "HASH, 4, 8, 4, 2, EINVAL",        // BPF_F_NO_COMMON_LRU: LRU only
        "HASH, 4, 8, 4, 64, OK",           // BPF_F_ZERO_SEED
        "HASH, 4, 8, 4, 1024, EINVAL",     // BPF_F_MMAPABLE: arrays only
        "HASH, 4, 4194251, 1, 0, OK",      // key + value up to KMALLOC_MAX_SIZE - 48 - 1
        "HASH, 4, 4194252, 1, 0, E2BIG",
    })
    void createChecks(MapType type, int key, int value, int max, int flags, String expected) throws BpfException {
        MapSpec spec = new MapSpec("m", type, key, value, max, flags);
        if (expected.equals("OK")) {
            engine.createMap(spec).close();
        } else {
            assertEquals(expected, errno(() -> engine.createMap(spec)));
        }
    }

    @Test
    void arraySemantics() throws BpfException {
        BpfMap a = engine.createMap(new MapSpec("a", MapType.ARRAY, 4, 8, 4, 0));
        assertArrayEquals(new byte[8], engine.lookup(a, u32(3)), "array elements start zeroed");
        engine.update(a, u32(0), u64(7), EngineMap.BPF_ANY);
        assertEquals("EEXIST", errno(() -> engine.update(a, u32(0), u64(7), EngineMap.BPF_NOEXIST)));
        engine.update(a, u32(0), u64(8), EngineMap.BPF_EXIST);
        assertArrayEquals(u64(8), engine.lookup(a, u32(0)));
        assertEquals("EINVAL", errno(() -> engine.update(a, u32(0), u64(7), 3)));
        assertEquals("EINVAL", errno(() -> engine.update(a, u32(0), u64(7), 4))); // BPF_F_LOCK without a lock
        assertEquals("E2BIG", errno(() -> engine.update(a, u32(4), u64(7), EngineMap.BPF_ANY)));
        assertEquals("E2BIG", errno(() -> engine.update(a, u32(4), u64(7), EngineMap.BPF_EXIST)));
        assertEquals("ENOENT", errno(() -> engine.lookup(a, u32(4))));
        assertEquals("EINVAL", errno(() -> engine.delete(a, u32(4))));
        assertEquals("EINVAL", errno(() -> engine.delete(a, u32(0))));
        assertArrayEquals(u32(0), engine.nextKey(a, null));
        assertArrayEquals(u32(3), engine.nextKey(a, u32(2)));
        assertEquals("ENOENT", errno(() -> engine.nextKey(a, u32(3))));
        assertArrayEquals(u32(0), engine.nextKey(a, u32(9)), "an out-of-range key restarts at 0");
    }

    @Test
    void hashSemantics() throws BpfException {
        BpfMap h = engine.createMap(new MapSpec("h", MapType.HASH, 4, 8, 2, 0));
        assertEquals("ENOENT", errno(() -> engine.nextKey(h, null)));
        assertEquals("ENOENT", errno(() -> engine.lookup(h, u32(1))));
        assertEquals("ENOENT", errno(() -> engine.delete(h, u32(1))));
        assertEquals("ENOENT", errno(() -> engine.update(h, u32(1), u64(1), EngineMap.BPF_EXIST)));
        engine.update(h, u32(1), u64(1), EngineMap.BPF_NOEXIST);
        assertEquals("EEXIST", errno(() -> engine.update(h, u32(1), u64(1), EngineMap.BPF_NOEXIST)));
        engine.update(h, u32(1), u64(2), EngineMap.BPF_ANY);
        engine.update(h, u32(1), u64(3), EngineMap.BPF_EXIST);
        assertArrayEquals(u64(3), engine.lookup(h, u32(1)));
        assertEquals("EINVAL", errno(() -> engine.update(h, u32(1), u64(1), 3)));
        engine.update(h, u32(2), u64(4), EngineMap.BPF_ANY);
        // full: a new key is E2BIG (NOEXIST too), EXIST of an absent key ENOENT, replacing works
        assertEquals("E2BIG", errno(() -> engine.update(h, u32(3), u64(5), EngineMap.BPF_ANY)));
        assertEquals("E2BIG", errno(() -> engine.update(h, u32(3), u64(5), EngineMap.BPF_NOEXIST)));
        assertEquals("ENOENT", errno(() -> engine.update(h, u32(3), u64(5), EngineMap.BPF_EXIST)));
        engine.update(h, u32(2), u64(6), EngineMap.BPF_ANY);
        engine.delete(h, u32(1));
        engine.update(h, u32(3), u64(7), EngineMap.BPF_NOEXIST);
        assertArrayEquals(u64(6), engine.lookup(h, u32(2)));
        assertArrayEquals(u64(7), engine.lookup(h, u32(3)));
    }

    @Test
    void hashIterationVisitsEveryKeyOnceAndRestartsOnUnknownKeys() throws BpfException {
        BpfMap h = engine.createMap(new MapSpec("h", MapType.HASH, 4, 4, 16, 0));
        for (int k = 10; k < 20; k++) {
            engine.update(h, u32(k), u32(k * 2), EngineMap.BPF_ANY);
        }
        engine.delete(h, u32(15));
        List<String> seen = new ArrayList<>();
        byte[] key = null;
        while (true) {
            try {
                key = engine.nextKey(h, key);
            } catch (BpfException e) {
                assertEquals("ENOENT", e.errno());
                break;
            }
            seen.add(HexFormat.of().formatHex(key));
        }
        assertEquals(9, seen.size());
        assertEquals(9, seen.stream().distinct().count());
        // the kernel answers an absent key with the first key, not ENOENT
        assertEquals(seen.get(0), HexFormat.of().formatHex(engine.nextKey(h, u32(77))));
    }

    @Test
    void wrongSizesAndClosedMaps() throws BpfException {
        BpfMap a = engine.createMap(new MapSpec("a", MapType.ARRAY, 4, 8, 4, 0));
        assertEquals("EINVAL", errno(() -> engine.lookup(a, new byte[3])));
        assertEquals("EINVAL", errno(() -> engine.update(a, u32(0), new byte[7], 0)));
        assertEquals("EFAULT", errno(() -> engine.lookup(a, null)));
        a.close();
        assertEquals("EBADF", errno(() -> engine.lookup(a, u32(0))));
    }

    @Test
    void accessFlagsForUserSpace() throws BpfException {
        BpfMap ro = engine.createMap(new MapSpec("ro", MapType.ARRAY, 4, 8, 4, 0x8));
        assertEquals("EPERM", errno(() -> engine.update(ro, u32(0), u64(1), 0)));
        engine.lookup(ro, u32(0));
        BpfMap wo = engine.createMap(new MapSpec("wo", MapType.HASH, 4, 8, 4, 0x10));
        engine.update(wo, u32(0), u64(1), 0);
        assertEquals("EPERM", errno(() -> engine.lookup(wo, u32(0))));
        assertEquals("EPERM", errno(() -> engine.nextKey(wo, null)));
    }

    @Test
    void fdsAreLowestFreeNumbersFromThree() throws BpfException {
        BpfMap a = engine.createMap(new MapSpec("a", MapType.ARRAY, 4, 8, 1, 0));
        BpfMap b = engine.createMap(new MapSpec("b", MapType.ARRAY, 4, 8, 1, 0));
        BpfMap c = engine.createMap(new MapSpec("c", MapType.ARRAY, 4, 8, 1, 0));
        assertEquals(List.of(3, 4, 5), List.of(a.fd(), b.fd(), c.fd()));
        b.close();
        b.close(); // idempotent
        BpfMap d = engine.createMap(new MapSpec("d", MapType.ARRAY, 4, 8, 1, 0));
        assertEquals(4, d.fd());
    }

    @Test
    void engineMemoryLimitIsEnomem() {
        assertEquals("ENOMEM", errno(() -> engine.createMap(new MapSpec("big", MapType.ARRAY, 4, 8, 1 << 30, 0))));
    }
}
