package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.conformance.ConformanceTable;
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Programs through {@link EngineBackend}: maps from programs, test_run's packet rules, faults as errnos. */
class EngineProgramTest {
    private final EngineBackend engine = new EngineBackend(10_000);

    @AfterEach
    void close() {
        engine.close();
    }

    private LoadedProg load(Map<String, Integer> maps, String... lines) throws BpfException {
        return engine.load(new LoadRequest("t", ProgType.SOCKET_FILTER, null,
                new Assembler(maps::get).assemble(List.of(lines)), "GPL", 0));
    }

    private long run(LoadedProg p) throws BpfException {
        return engine.testRun(p, new TestRun.Request(ConformanceTable.DEFAULT_PACKET, 1)).retval();
    }

    private static byte[] u32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    @Test
    void programCountsInAnArrayThroughLookup() throws BpfException {
        BpfMap counts = engine.createMap(new MapSpec("counts", MapType.ARRAY, 4, 8, 4, 0));
        LoadedProg p = load(Map.of("counts", counts.fd()),
                "*(u32 *)(r10 -4) = 2",
                "r2 = r10",
                "r2 += -4",
                "r1 = map[counts]",
                "call bpf_map_lookup_elem#1",
                "if r0 == 0x0 goto pc+3",
                "r1 = 1",
                "lock *(u64 *)(r0 +0) += r1",
                "r0 = *(u64 *)(r0 +0)",
                "exit");
        assertEquals(1, run(p));
        assertEquals(2, run(p));
        assertArrayEquals(new byte[] {2, 0, 0, 0, 0, 0, 0, 0}, engine.lookup(counts, u32(2)));
    }

    @Test
    void programUpdatesAndDeletesAHash() throws BpfException {
        BpfMap h = engine.createMap(new MapSpec("h", MapType.HASH, 4, 4, 1, 0));
        // update key 7 -> 9 with BPF_NOEXIST twice: 0 then -EEXIST; return the sum of both results
        LoadedProg p = load(Map.of("h", h.fd()),
                "*(u32 *)(r10 -4) = 7",
                "*(u32 *)(r10 -8) = 9",
                "r1 = map[h]", "r2 = r10", "r2 += -4", "r3 = r10", "r3 += -8", "r4 = 1",
                "call bpf_map_update_elem#2",
                "r6 = r0",
                "r1 = map[h]", "r2 = r10", "r2 += -4", "r3 = r10", "r3 += -8", "r4 = 1",
                "call bpf_map_update_elem#2",
                "r0 += r6",
                "exit");
        assertEquals(-17L & 0xffffffffL, run(p));
        assertArrayEquals(u32(9), engine.lookup(h, u32(7)));
        LoadedProg del = load(Map.of("h", h.fd()),
                "*(u32 *)(r10 -4) = 7", "r1 = map[h]", "r2 = r10", "r2 += -4",
                "call bpf_map_delete_elem#3", "exit");
        assertEquals(0, run(del));
        assertEquals(-2L & 0xffffffffL, run(del), "second delete: -ENOENT");
    }

    /** The kernel's answer (checked on 6.18); the interpreter's own fault is in InterpreterFaultTest. */
    @Test
    void valueAccessBeyondValueSizeIsRefusedAtLoad() throws BpfException {
        BpfMap a = engine.createMap(new MapSpec("a", MapType.ARRAY, 4, 4, 2, 0));
        BpfException e = assertThrows(BpfException.class, () -> load(Map.of("a", a.fd()),
                "*(u32 *)(r10 -4) = 0", "r2 = r10", "r2 += -4", "r1 = map[a]",
                "call bpf_map_lookup_elem#1",
                "if r0 == 0x0 goto pc+1",
                "r0 = *(u64 *)(r0 +0)",
                "exit"));
        assertEquals("EACCES", e.errno());
        assertEquals("R0 min value is outside of the allowed memory range", e.logReason());
    }

    /**
     * The engine refuses a load through a map pointer; the kernel (6.18) accepts it as a BTF-typed
     * read of struct bpf_map, a gap listed in docs/fidelity.md. The interpreter's own fault for
     * such a read is in InterpreterFaultTest.
     */
    @Test
    void mapObjectIsNotMemory() throws BpfException {
        BpfMap a = engine.createMap(new MapSpec("a", MapType.ARRAY, 4, 4, 2, 0));
        BpfException e = assertThrows(BpfException.class,
                () -> load(Map.of("a", a.fd()), "r1 = map[a]", "r0 = *(u32 *)(r1 +0)", "exit"));
        assertEquals("EINVAL", e.errno());
        assertEquals("engine: reading struct bpf_map fields needs the kernel's BTF, which the engine verifier"
                + " does not model", e.logReason());
    }

    @Test
    void directMapValueLoad() throws BpfException {
        // direct value access needs an array of exactly one element (array_map_direct_value_addr)
        BpfMap a = engine.createMap(new MapSpec("a", MapType.ARRAY, 4, 8, 1, 0));
        engine.update(a, u32(0), new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, 0);
        // ld_imm64 src=PSEUDO_MAP_VALUE: insn imm = fd, second slot imm = offset into element 0
        LoadedProg p = engine.load(new LoadRequest("v", ProgType.SOCKET_FILTER, null,
                dev.cgbpf.engine.isa.Program.of(
                        new dev.cgbpf.engine.isa.Insn(0x18, 1, 2, 0, a.fd()),
                        new dev.cgbpf.engine.isa.Insn(0, 0, 0, 0, 4),
                        new dev.cgbpf.engine.isa.Insn(0x61, 0, 1, 0, 0),
                        new dev.cgbpf.engine.isa.Insn(0x95, 0, 0, 0, 0)), "GPL", 0));
        assertEquals(0x08070605L, run(p));
    }

    @Test
    void unknownMapFdIsEbadfAtLoad() throws BpfException {
        BpfException e = assertThrows(BpfException.class, () -> load(Map.of("x", 42), "r1 = map[x]", "r0 = 0", "exit"));
        assertEquals("EBADF", e.errno());
        assertEquals("fd 42 is not pointing to valid bpf_map", e.logReason());
        LoadedProg other = load(Map.of(), "r0 = 0", "exit");
        BpfException notAMap = assertThrows(BpfException.class, () -> load(Map.of("x", 3), "r1 = map[x]", "r0 = 0", "exit"));
        assertEquals("EINVAL", notAMap.errno(), "fd 3 is the program " + other.name() + ", not a map");
    }

    @Test
    void closingTheMapFdKeepsItAliveForItsProgram() throws BpfException {
        BpfMap a = engine.createMap(new MapSpec("a", MapType.ARRAY, 4, 8, 1, 0));
        engine.update(a, u32(0), new byte[] {5, 0, 0, 0, 0, 0, 0, 0}, 0);
        LoadedProg p = load(Map.of("a", a.fd()),
                "*(u32 *)(r10 -4) = 0", "r2 = r10", "r2 += -4", "r1 = map[a]",
                "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto pc+1", "r0 = *(u64 *)(r0 +0)", "exit");
        a.close();
        assertEquals(5, run(p));
    }

    @Test
    void testRunPacketRules() throws BpfException {
        LoadedProg p = load(Map.of(), "r0 = 1", "exit");
        for (byte[] bad : List.of(new byte[13], new byte[3713], ipv4(33), ipv6(53))) {
            BpfException e = assertThrows(BpfException.class, () -> engine.testRun(p, new TestRun.Request(bad, 1)));
            assertEquals("EINVAL", e.errno(), bad.length + " bytes");
        }
        for (byte[] good : List.of(new byte[14], new byte[3712], ipv4(34), ipv6(54))) {
            assertEquals(1, engine.testRun(p, new TestRun.Request(good, 1)).retval());
        }
    }

    private static byte[] ipv4(int len) {
        byte[] b = new byte[len];
        b[12] = 0x08;
        return b;
    }

    private static byte[] ipv6(int len) {
        byte[] b = new byte[len];
        b[12] = (byte) 0x86;
        b[13] = (byte) 0xdd;
        return b;
    }

    @Test
    void dataOutHasTheEthernetHeaderZeroed() throws BpfException {
        LoadedProg p = load(Map.of(), "r0 = 1", "exit");
        byte[] in = ConformanceTable.DEFAULT_PACKET;
        byte[] out = engine.testRun(p, new TestRun.Request(in, 1)).dataOut();
        byte[] expected = in.clone();
        Arrays.fill(expected, 0, 14, (byte) 0);
        assertArrayEquals(expected, out);
    }

    @Test
    void retvalIsTheLow32BitsAndRepeatKeepsTheContext() throws BpfException {
        LoadedProg big = load(Map.of(), "r0 = 0x1234567890abcdef ll", "exit");
        assertEquals(0x90abcdefL, run(big));
        // cb[0] += 1 per run: repeat runs on the same skb, as the kernel does
        LoadedProg cb = load(Map.of(), "r0 = *(u32 *)(r1 +48)", "r0 += 1", "*(u32 *)(r1 +48) = r0", "exit");
        assertEquals(5, engine.testRun(cb, new TestRun.Request(ConformanceTable.DEFAULT_PACKET, 5)).retval());
    }

    @Test
    void testRunOfTypesWithoutOneIsEnotsupp() throws BpfException {
        LoadedProg p = engine.load(new LoadRequest("d", ProgType.CGROUP_DEVICE, null,
                new Assembler().assemble("r0 = 1\nexit"), "GPL", 0));
        assertEquals("ENOTSUPP", assertThrows(BpfException.class,
                () -> engine.testRun(p, new TestRun.Request(new byte[14], 1))).errno());
    }

    /**
     * A loop the verifier accepts (bounded, as the kernel accepts it) that runs longer than the
     * backend's budget stops with EFAULT. A truly endless loop never loads (the kernel: EINVAL);
     * the interpreter's budget for one is in InterpreterFaultTest.
     */
    @Test
    void loopLongerThanTheBudgetIsAFaultNotAHang() throws BpfException {
        LoadedProg p = load(Map.of(), "r0 = 0", "r0 += 1", "if r0 < 20000 goto pc-2", "exit");
        BpfException e = assertThrows(BpfException.class, () -> run(p));
        assertEquals("EFAULT", e.errno());
        assertTrue(e.getMessage().contains("instruction budget of 10000 exhausted"), e.getMessage());
        BpfException endless = assertThrows(BpfException.class, () -> load(Map.of(), "r0 = 0", "goto pc-1", "exit"));
        assertEquals("EINVAL", endless.errno());
        assertEquals("unreachable insn 2", endless.logReason());
    }

    @Test
    void closedProgramIsEbadf() throws BpfException {
        LoadedProg p = load(Map.of(), "r0 = 1", "exit");
        p.close();
        assertEquals("EBADF", assertThrows(BpfException.class, () -> run(p)).errno());
    }

    @Test
    void malformedProgramIsEinvalWithTheReason() {
        BpfException e = assertThrows(BpfException.class, () -> engine.load(new LoadRequest("j",
                ProgType.SOCKET_FILTER, null, dev.cgbpf.engine.isa.Program.of(
                        new dev.cgbpf.engine.isa.Insn(0x05, 0, 0, 9, 0),
                        new dev.cgbpf.engine.isa.Insn(0x95, 0, 0, 0, 0)), "GPL", 0)));
        assertEquals("EINVAL", e.errno());
        assertEquals("jump out of range from insn 0 to 10", e.logReason());
    }
}
