package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Map commands on the host kernel, errno for errno. */
class MapOpsTest {
    private static final long ANY = MapElem.BPF_ANY;
    private static final long NOEXIST = MapElem.BPF_NOEXIST;
    private static final long EXIST = MapElem.BPF_EXIST;

    private final KernelBackend kernel = new KernelBackend();

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @AfterEach
    void close() {
        kernel.close();
    }

    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static void assertErrno(String errno, Executable call) {
        BpfException e = assertThrows(BpfException.class, call);
        assertEquals(errno, e.errno(), e.getMessage());
    }

    @Test
    void arrayMap() throws BpfException {
        BpfMap a = kernel.createMap(new MapSpec("arr", MapType.ARRAY, 4, 8, 4, 0));
        assertArrayEquals(new byte[8], kernel.lookup(a, u32(3)), "array elements exist, zeroed");
        kernel.update(a, u32(3), u64(0x1122334455667788L), ANY);
        assertArrayEquals(u64(0x1122334455667788L), kernel.lookup(a, u32(3)));
        kernel.update(a, u32(3), u64(5), EXIST);
        assertArrayEquals(u64(5), kernel.lookup(a, u32(3)));
        assertErrno("EEXIST", () -> kernel.update(a, u32(0), u64(1), NOEXIST));
        assertErrno("E2BIG", () -> kernel.update(a, u32(4), u64(1), ANY));
        assertErrno("ENOENT", () -> kernel.lookup(a, u32(4)));
        assertErrno("EINVAL", () -> kernel.delete(a, u32(0)));
        assertErrno("EINVAL", () -> kernel.update(a, u32(0), u64(1), 3));
        // get_next_key walks indexes; an out-of-range key restarts at 0
        assertArrayEquals(u32(0), kernel.nextKey(a, null));
        assertArrayEquals(u32(1), kernel.nextKey(a, u32(0)));
        assertErrno("ENOENT", () -> kernel.nextKey(a, u32(3)));
        assertArrayEquals(u32(0), kernel.nextKey(a, u32(99)));
    }

    @Test
    void aFrozenMapRefusesWritesFromUserSpace() throws BpfException {
        BpfMap a = kernel.createMap(new MapSpec("frz", MapType.ARRAY, 4, 8, 1, 0x80));
        kernel.update(a, u32(0), u64(7), ANY);
        kernel.freeze(a);
        assertErrno("EPERM", () -> kernel.update(a, u32(0), u64(8), ANY));
        assertErrno("EPERM", () -> kernel.freeze(a));
        assertArrayEquals(u64(7), kernel.lookup(a, u32(0)), "still readable");
        BpfMap userReadOnly = kernel.createMap(new MapSpec("urd", MapType.ARRAY, 4, 8, 1, 0x8));
        assertErrno("EPERM", () -> kernel.freeze(userReadOnly));
    }

    @Test
    void hashMap() throws BpfException {
        BpfMap h = kernel.createMap(new MapSpec("h", MapType.HASH, 4, 4, 2, 0));
        assertErrno("ENOENT", () -> kernel.lookup(h, u32(1)));
        assertErrno("ENOENT", () -> kernel.nextKey(h, null));
        assertErrno("ENOENT", () -> kernel.update(h, u32(1), u32(10), EXIST));
        kernel.update(h, u32(1), u32(10), NOEXIST);
        assertErrno("EEXIST", () -> kernel.update(h, u32(1), u32(11), NOEXIST));
        kernel.update(h, u32(1), u32(12), EXIST);
        assertArrayEquals(u32(12), kernel.lookup(h, u32(1)));
        kernel.update(h, u32(2), u32(20), ANY);
        assertErrno("E2BIG", () -> kernel.update(h, u32(3), u32(30), ANY));
        // replacing an existing key in a full map is fine
        kernel.update(h, u32(2), u32(21), ANY);
        assertErrno("EINVAL", () -> kernel.update(h, u32(2), u32(21), 7));

        Set<Integer> keys = new HashSet<>();
        byte[] k = kernel.nextKey(h, null);
        while (true) {
            keys.add(ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN).getInt());
            byte[] cur = k;
            try {
                k = kernel.nextKey(h, cur);
            } catch (BpfException e) {
                assertEquals("ENOENT", e.errno());
                break;
            }
        }
        assertEquals(Set.of(1, 2), keys);
        // a key that is not in the map: get_next_key answers the first key
        assertArrayEquals(kernel.nextKey(h, null), kernel.nextKey(h, u32(77)));

        kernel.delete(h, u32(1));
        assertErrno("ENOENT", () -> kernel.delete(h, u32(1)));
        assertErrno("ENOENT", () -> kernel.lookup(h, u32(1)));
    }

    @Test
    void createRejections() {
        assertErrno("EINVAL", () -> kernel.createMap(new MapSpec("k0", MapType.HASH, 0, 4, 1, 0)));
        assertErrno("EINVAL", () -> kernel.createMap(new MapSpec("v0", MapType.HASH, 4, 0, 1, 0)));
        assertErrno("EINVAL", () -> kernel.createMap(new MapSpec("n0", MapType.HASH, 4, 4, 0, 0)));
        assertErrno("EINVAL", () -> kernel.createMap(new MapSpec("ak8", MapType.ARRAY, 8, 4, 1, 0)));
        assertErrno("EINVAL", () -> kernel.createMap(new MapSpec("flags", MapType.ARRAY, 4, 4, 1, 1 << 30)));
        assertEquals(0, kernel.openCount());
    }

    @Test
    void wrongKeyLengthIsRefusedBeforeTheKernelReadsPastIt() throws BpfException {
        BpfMap h = kernel.createMap(new MapSpec("h", MapType.HASH, 8, 4, 2, 0));
        BpfException e = assertThrows(BpfException.class, () -> kernel.lookup(h, u32(1)));
        assertEquals("EINVAL: key of 4 bytes for map 'h', which takes 8 bytes", e.getMessage());
        assertThrows(BpfException.class, () -> kernel.update(h, u64(1), u64(1), ANY), "value too long");
    }

    @Test
    void mapFdsCloseWithTheMapAndTheBackend() throws BpfException {
        int before = FdCount.now();
        BpfMap a = kernel.createMap(new MapSpec("a", MapType.ARRAY, 4, 4, 1, 0));
        kernel.createMap(new MapSpec("b", MapType.ARRAY, 4, 4, 1, 0));
        assertEquals(before + 2, FdCount.now());
        a.close();
        a.close();
        assertEquals(before + 1, FdCount.now());
        assertEquals(1, kernel.openCount());
        kernel.close();
        assertEquals(before, FdCount.now());
        assertEquals(0, kernel.openCount());
        assertThrows(IllegalStateException.class, () -> kernel.lookup(a, u32(0)));
    }
}
