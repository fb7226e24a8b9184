package dev.cgbpf.engine.maps;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import org.junit.jupiter.api.Test;

/**
 * The engine's sockmap and sockhash with sockets in them, which the kernel comparisons cannot
 * reach from user space (the engine has no socket fds; its scenarios' sockets close with their op):
 * a lookup shows the socket's cookie as the socket gives it to bpf_get_socket_cookie, in host
 * (little-endian) order; closing a socket empties every element holding it, in every map, and
 * leaves the others.
 */
class SockMapTest {
    private final AddressSpace space = new AddressSpace();

    private static byte[] u32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    private static Psock sock(long cookie) {
        return new Psock(() -> cookie, m -> 0L);
    }

    @Test
    void aLookupShowsTheCookieAndAClosedSocketLeavesEveryMap() throws Exception {
        SockMapBase map = (SockMapBase) EngineMap.create(new MapSpec("m", MapType.SOCKMAP, 4, 8, 4, 0), space);
        SockMapBase hash = (SockMapBase) EngineMap.create(new MapSpec("h", MapType.SOCKHASH, 4, 8, 4, 0), space);
        Psock a = sock(0x0102030405060708L);
        Psock b = sock(42);
        assertEquals(0, map.updateSock(u32(0), a, EngineMap.BPF_ANY));
        assertEquals(0, map.updateSock(u32(2), a, EngineMap.BPF_NOEXIST));
        assertEquals(0, map.updateSock(u32(3), b, EngineMap.BPF_ANY));
        assertEquals(0, hash.updateSock(u32(9), a, EngineMap.BPF_ANY));
        assertEquals(0, hash.updateSock(u32(8), b, EngineMap.BPF_ANY));
        assertArrayEquals(new byte[] {8, 7, 6, 5, 4, 3, 2, 1}, map.sysLookup(u32(2)));
        assertArrayEquals(new byte[] {42, 0, 0, 0, 0, 0, 0, 0}, hash.sysLookup(u32(8)));

        a.close();
        for (int key : new int[] {0, 2}) {
            BpfException e = assertThrows(BpfException.class, () -> map.sysLookup(u32(key)));
            assertEquals("ENOENT", e.errno());
        }
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> hash.sysLookup(u32(9))).errno());
        assertArrayEquals(new byte[] {42, 0, 0, 0, 0, 0, 0, 0}, map.sysLookup(u32(3)));
        assertArrayEquals(u32(8), hash.nextKey(null));
        assertNull(hash.nextKey(u32(8)));
        // the emptied slots take a socket again under BPF_NOEXIST; a slot replaced by another socket stays when the old one closes
        assertEquals(0, map.updateSock(u32(0), b, EngineMap.BPF_NOEXIST));
        assertEquals(0, map.updateSock(u32(3), a, EngineMap.BPF_EXIST));
        b.close();
        assertArrayEquals(new byte[] {8, 7, 6, 5, 4, 3, 2, 1}, map.sysLookup(u32(3)));
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> map.sysLookup(u32(0))).errno());
        map.release();
        hash.release();
    }

    @Test
    void updatesAnswerWithTheKernelsErrnos() throws Exception {
        SockMapBase map = (SockMapBase) EngineMap.create(new MapSpec("m", MapType.SOCKMAP, 4, 4, 2, 0), space);
        SockMapBase hash = (SockMapBase) EngineMap.create(new MapSpec("h", MapType.SOCKHASH, 4, 4, 1, 0), space);
        Psock a = sock(1);
        assertEquals(EngineMap.EINVAL, map.updateSock(u32(0), a, 3));
        assertEquals(EngineMap.E2BIG, map.updateSock(u32(2), a, EngineMap.BPF_ANY));
        assertEquals(EngineMap.ENOENT, map.updateSock(u32(0), a, EngineMap.BPF_EXIST));
        assertEquals(0, map.updateSock(u32(0), a, EngineMap.BPF_ANY));
        assertEquals(EngineMap.EEXIST, map.updateSock(u32(0), a, EngineMap.BPF_NOEXIST));
        assertEquals(0, hash.updateSock(u32(5), a, EngineMap.BPF_ANY));
        assertEquals(EngineMap.E2BIG, hash.updateSock(u32(6), a, EngineMap.BPF_ANY));
        assertEquals(0, hash.updateSock(u32(5), a, EngineMap.BPF_EXIST));
        assertEquals("ENOSPC", assertThrows(BpfException.class, () -> map.sysLookup(u32(0))).errno());
        assertEquals(0, hash.deleteElem(u32(5)));
        assertEquals(EngineMap.ENOENT, hash.deleteElem(u32(5)));
        assertEquals(0, map.deleteElem(u32(0)));
        assertEquals(EngineMap.EINVAL, map.deleteElem(u32(0)));
        map.release();
        hash.release();
    }
}
