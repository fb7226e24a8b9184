package dev.cgbpf.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.isa.Assembler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * BPF_MAP_FREEZE on the engine and bpf_strncmp, whose string argument must lie in a frozen
 * BPF_F_RDONLY_PROG map (the kernel's answers: examples/scenarios/helper-strncmp).
 */
class FrozenMapStrncmpTest {
    private static final int BPF_F_RDONLY = 0x8;
    private static final int BPF_F_RDONLY_PROG = 0x80;
    private static final byte[] KEY0 = new byte[4];

    private final EngineBackend engine = new EngineBackend();

    @AfterEach
    void close() {
        engine.close();
    }

    private BpfMap array(String name, int maxEntries, int flags, String contents) throws BpfException {
        BpfMap m = engine.createMap(new MapSpec(name, MapType.ARRAY, 4, 8, maxEntries, flags));
        byte[] v = new byte[8];
        byte[] s = contents.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(s, 0, v, 0, s.length);
        engine.update(m, KEY0, v, 0);
        return m;
    }

    /** A socket_filter program answering strncmp(s1, size, value of map m) + 1: 0, 1 or 2. */
    private LoadedProg compare(BpfMap m, String s1, int size) throws BpfException {
        List<String> insns = new ArrayList<>(List.of("r1 = 0", "*(u32 *)(r10 -4) = r1", "r2 = r10", "r2 += -4",
                "r1 = map[s2]", "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r3 = r0"));
        byte[] b = s1.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < b.length; i++) {
            insns.add("*(u8 *)(r10 " + (-24 + i) + ") = " + (b[i] & 0xff));
        }
        insns.addAll(List.of("r1 = r10", "r1 += -24", "r2 = " + size, "call bpf_strncmp#182", "r0 += 1", "out:",
                "exit"));
        return engine.load(new LoadRequest("cmp", ProgType.SOCKET_FILTER, null,
                new Assembler(Map.of("s2", m.fd())::get).assemble(insns), "GPL", 1));
    }

    private long run(LoadedProg p) throws BpfException {
        return engine.testRun(p, new TestRun.Request(new byte[64], 1)).retval();
    }

    @Test
    void aFrozenMapRefusesUserSpaceWritesButStillReads() throws BpfException {
        BpfMap m = array("m", 1, 0, "abc");
        engine.freeze(m);
        assertEquals("EPERM", assertThrows(BpfException.class, () -> engine.update(m, KEY0, new byte[8], 0)).errno());
        assertEquals("EPERM", assertThrows(BpfException.class, () -> engine.delete(m, KEY0)).errno());
        assertEquals("EPERM", assertThrows(BpfException.class, () -> engine.freeze(m)).errno(), "frozen twice");
        assertArrayEquals("abc\0\0\0\0\0".getBytes(StandardCharsets.ISO_8859_1), engine.lookup(m, KEY0));
        BpfMap userReadOnly = engine.createMap(new MapSpec("ro", MapType.ARRAY, 4, 8, 1, BPF_F_RDONLY));
        assertEquals("EPERM", assertThrows(BpfException.class, () -> engine.freeze(userReadOnly)).errno());
    }

    @Test
    void strncmpAnswersAsTheKernelsStrncmp() throws BpfException {
        BpfMap s2 = array("s2", 1, BPF_F_RDONLY_PROG, "abc");
        engine.freeze(s2);
        assertEquals(1, run(compare(s2, "abc\0", 4)), "equal");
        assertEquals(1, run(compare(s2, "abx", 2)), "equal over s1_sz bytes");
        assertEquals(0, run(compare(s2, "abb\0", 4)), "s1 smaller");
        assertEquals(2, run(compare(s2, "abd\0", 4)), "s1 greater");
        assertEquals(0, run(compare(s2, "ab\0", 3)), "s1 ends first");
        assertEquals(2, run(compare(s2, "abcd", 4)), "s2 ends first");
        assertEquals(2, run(compare(s2, "\u00ff", 1)), "bytes compare unsigned");
        assertEquals(1, run(compare(s2, "abc\0zz", 6)), "nothing after the NUL counts");
    }

    @Test
    void theStringMustSitInAFrozenReadOnlyArrayOfOneAndEndInIt() throws BpfException {
        BpfMap notFrozen = array("a", 1, BPF_F_RDONLY_PROG, "abc");
        BpfException e = assertThrows(BpfException.class, () -> compare(notFrozen, "abc\0", 4));
        assertEquals("EACCES", e.errno());
        assertEquals("R3 does not point to a readonly map'", e.logReason());

        BpfMap frozenWritable = array("w", 1, 0, "abc");
        engine.freeze(frozenWritable);
        e = assertThrows(BpfException.class, () -> compare(frozenWritable, "abc\0", 4));
        assertEquals("R3 does not point to a readonly map'", e.logReason(), "programs may still write it");

        BpfMap noNul = array("n", 1, BPF_F_RDONLY_PROG, "abcdefgh");
        engine.freeze(noNul);
        e = assertThrows(BpfException.class, () -> compare(noNul, "abc\0", 4));
        assertEquals("EINVAL", e.errno());
        assertEquals("string is not zero-terminated", e.logReason());

        BpfMap two = array("t", 2, BPF_F_RDONLY_PROG, "abc");
        engine.freeze(two);
        e = assertThrows(BpfException.class, () -> compare(two, "abc\0", 4));
        assertEquals("ENOTSUPP", e.errno());
        assertEquals("direct value access on string failed", e.logReason());
    }
}
