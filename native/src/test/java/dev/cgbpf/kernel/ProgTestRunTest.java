package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.isa.Program;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ProgTestRunTest {
    private final KernelBackend kernel = new KernelBackend();

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @AfterEach
    void close() {
        kernel.close();
    }

    private LoadedProg load(Program p) throws BpfException {
        return kernel.load(new LoadRequest("t", ProgType.SOCKET_FILTER, null, p, "GPL", 0));
    }

    /** An Ethernet frame of {@code size} bytes with a pattern and the given ethertype. */
    static byte[] packet(int size, int ethertype) {
        byte[] p = new byte[size];
        for (int i = 0; i < size; i++) {
            p[i] = (byte) (i * 7 + 1);
        }
        if (size >= 14) {
            p[12] = (byte) (ethertype >> 8);
            p[13] = (byte) ethertype;
        }
        return p;
    }

    static byte[] packet(int size) {
        return packet(size, 0x1234);
    }

    @Test
    void retvalAndPacketComeBackWithTheEthernetHeaderZeroed() throws BpfException {
        byte[] data = packet(64, 0x0800);
        TestRun.Result r = kernel.testRun(load(TestInsns.returning(7)), new TestRun.Request(data, 1));
        assertEquals(7, r.retval());
        // for program types that do not see L2 the kernel pushes the 14 header bytes back as zeros
        byte[] expected = data.clone();
        java.util.Arrays.fill(expected, 0, 14, (byte) 0);
        assertArrayEquals(expected, r.dataOut());
    }

    @Test
    void retvalIsTheLowWordUnsigned() throws BpfException {
        TestRun.Result r = kernel.testRun(load(TestInsns.returning(-2)), new TestRun.Request(packet(14), 1));
        assertEquals(0xfffffffeL, r.retval());
    }

    @Test
    void skbLenExcludesTheEthernetHeader() throws BpfException {
        // r0 = skb->len (offset 0 of __sk_buff): test_run pulls the 14-byte Ethernet header first
        Program p = Program.of(TestInsns.ldxW(0, 1, 0), TestInsns.exit());
        assertEquals(50, kernel.testRun(load(p), new TestRun.Request(packet(64), 1)).retval());
    }

    @Test
    void shortestPacketIsTheEthernetHeaderPlusTheL3HeaderItAnnounces() throws BpfException {
        LoadedProg p = load(TestInsns.returning(0));
        int[][] cases = {{0x1234, 14}, {0x0806, 14}, {0x0800, 34}, {0x86dd, 54}};
        for (int[] c : cases) {
            int ethertype = c[0];
            int min = c[1];
            BpfException e = assertThrows(BpfException.class,
                    () -> kernel.testRun(p, new TestRun.Request(packet(min - 1, ethertype), 1)));
            assertEquals("EINVAL", e.errno(), "ethertype " + Integer.toHexString(ethertype));
            assertEquals(0, kernel.testRun(p, new TestRun.Request(packet(min, ethertype), 1)).retval());
        }
    }

    @Test
    void tooSmallOutputBufferIsEnospcAfterTheRun() throws BpfException {
        try (LoadedProg p = load(TestInsns.returning(9))) {
            KernelProg kp = (KernelProg) p;
            BpfException e = assertThrows(BpfException.class, () -> ProgTestRun.progTestRun(kp.fd(),
                    new ProgTestRun.Request(packet(64), 10, 1, null, 0, 0, 0)));
            assertEquals("ENOSPC", e.errno());
            // no buffer at all is fine: nothing is copied back
            ProgTestRun.Result r = ProgTestRun.progTestRun(kp.fd(), new ProgTestRun.Request(packet(64), 0, 1, null, 0, 0, 0));
            assertEquals(9, r.retval());
            assertEquals(0, r.dataOut().length);
        }
    }

    @Test
    void durationIsTheKernelsMeanPerRun() throws BpfException {
        LoadedProg p = load(ProgLoadTest.countingProgram(2000));
        TestRun.Result r = kernel.testRun(p, new TestRun.Request(packet(64), 2000));
        assertEquals(1999, r.retval());
        // 2000 JITed instructions cannot take less than 100 ns or more than 1 ms per run
        assertTrue(r.durationNs() >= 100 && r.durationNs() < 1_000_000, "duration " + r.durationNs());
    }

    @Test
    void aProgramOfAnotherBackendIsRefused() {
        LoadedProg foreign = new LoadedProg() {
            public String name() {
                return "x";
            }

            public ProgType type() {
                return ProgType.SOCKET_FILTER;
            }

            public String verifierLog() {
                return "";
            }

            public void close() {
            }
        };
        assertThrows(IllegalArgumentException.class, () -> kernel.testRun(foreign, new TestRun.Request(packet(14), 1)));
    }

    @Test
    void manyLoadsLeakNoFd() throws BpfException {
        int before = FdCount.now();
        for (int i = 0; i < 300; i++) {
            try (LoadedProg p = load(TestInsns.returning(i))) {
                assertEquals(i, kernel.testRun(p, new TestRun.Request(packet(14), 1)).retval());
            }
            // failed loads (and their level-1 retry for the log) must not leak either
            assertThrows(BpfException.class, () -> load(Program.of(TestInsns.exit())));
        }
        assertEquals(before, FdCount.now());
        assertEquals(0, kernel.openCount());
        for (int i = 0; i < 50; i++) {
            load(TestInsns.returning(i));
        }
        assertEquals(before + 50, FdCount.now());
        kernel.close();
        assertEquals(before, FdCount.now());
    }
}
