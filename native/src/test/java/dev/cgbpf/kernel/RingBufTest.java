package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RingBuf} against the kernel: socket_filter programs run by BPF_PROG_TEST_RUN copy the
 * first bytes of their packet into the ring buffer with bpf_ringbuf_output (16 bytes, or 13 to
 * exercise the 8-byte rounding), and the reader must see exactly those records, in order.
 */
class RingBufTest {
    private static final int SIZE = 4096;
    private final KernelBackend kernel = new KernelBackend();

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @AfterEach
    void close() {
        kernel.close();
    }

    /** r0 = bpf_ringbuf_output(&rb, first {@code len} bytes of the packet, len, 0): 0 or -EAGAIN (full). */
    private LoadedProg writer(BpfMap rb, int len) throws BpfException {
        return Progs.load(kernel, "rbw" + len, ProgType.SOCKET_FILTER, null, Map.of("rb", rb),
                "r2 = 0", "*(u64 *)(r10 -16) = r2", "*(u64 *)(r10 -8) = r2",
                "r2 = 0", "r3 = r10", "r3 += -16", "r4 = " + len, "call bpf_skb_load_bytes#26",
                "r1 = map[rb]", "r2 = r10", "r2 += -16", "r3 = " + len, "r4 = 0", "call bpf_ringbuf_output#130",
                "exit");
    }

    /** A frame whose bytes after the 14-byte Ethernet header are {@code seq} (8 bytes LE) and a pattern. */
    private static byte[] frame(long seq) {
        ByteBuffer b = ByteBuffer.allocate(14 + 50).order(ByteOrder.LITTLE_ENDIAN);
        b.position(12);
        b.putShort((short) 0x3412); // an ethertype of no protocol
        b.putLong(seq);
        for (int i = 0; i < 8; i++) {
            b.put((byte) (seq * 31 + i));
        }
        return b.array();
    }

    private static byte[] expected(long seq, int len) {
        return Arrays.copyOfRange(frame(seq), 14, 14 + len);
    }

    private BpfMap ring() throws BpfException {
        return kernel.createMap(new MapSpec("rbtest", MapType.RINGBUF, 0, 0, SIZE, 0));
    }

    @Test
    void recordsComeOutExactlyAndInOrderAcrossManyWrapArounds() throws BpfException {
        BpfMap rb = ring();
        LoadedProg w16 = writer(rb, 16);
        LoadedProg w13 = writer(rb, 13);
        Random rnd = new Random(16);
        List<byte[]> want = new ArrayList<>();
        List<byte[]> got = new ArrayList<>();
        long seq = 0;
        long written = 0;
        try (RingBuf r = RingBuf.map(rb.fd(), SIZE)) {
            assertFalse(r.await(0), "an empty ring buffer polls as empty");
            // 40 rounds of up to 150 records (24 bytes each with the header): ~3.5 ring sizes per 4 rounds
            for (int round = 0; round < 40; round++) {
                int n = 1 + rnd.nextInt(150);
                for (int i = 0; i < n; i++) {
                    int len = rnd.nextBoolean() ? 16 : 13;
                    TestRun.Result res = kernel.testRun(len == 16 ? w16 : w13, new TestRun.Request(frame(seq), 1));
                    assertEquals(0, res.retval(), "bpf_ringbuf_output with room left");
                    want.add(expected(seq, len));
                    written += 24;
                    seq++;
                }
                assertTrue(r.await(1000));
                assertEquals(n * 24L, r.pending());
                assertEquals(n, r.consume(got::add, Integer.MAX_VALUE));
                assertEquals(0, r.pending());
            }
        }
        assertTrue(written > 10 * SIZE, "wrapped around at least ten times: " + written + " bytes");
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            assertArrayEquals(want.get(i), got.get(i), "record " + i);
        }
    }

    @Test
    void aFullRingRefusesWithEagainAndKeepsWhatItHas() throws BpfException {
        BpfMap rb = ring();
        LoadedProg w16 = writer(rb, 16);
        int accepted = 0;
        int refused = 0;
        for (long seq = 0; seq < 300; seq++) {
            long ret = kernel.testRun(w16, new TestRun.Request(frame(seq), 1)).retval();
            if (ret == 0) {
                assertEquals(0, refused, "nothing is accepted once the ring is full");
                accepted++;
            } else {
                assertEquals(0xfffffff5L, ret, "-EAGAIN (u32)");
                refused++;
            }
        }
        // measured: every whole record that fits (4096 / 24 = 170) is accepted, the 171st refused
        assertEquals(SIZE / 24, accepted);
        List<byte[]> got = new ArrayList<>();
        try (RingBuf r = RingBuf.map(rb.fd(), SIZE)) {
            assertEquals(100, r.consume(got::add, 100), "max honoured");
            assertEquals(accepted - 100, r.consume(got::add, Integer.MAX_VALUE));
            // room again after consuming
            assertEquals(0, kernel.testRun(w16, new TestRun.Request(frame(1000), 1)).retval());
            assertEquals(1, r.consume(got::add, 10));
        }
        for (int i = 0; i < accepted; i++) {
            assertArrayEquals(expected(i, 16), got.get(i));
        }
        assertArrayEquals(expected(1000, 16), got.get(accepted));
    }

    @Test
    void aSizeThatIsNotAPowerOfTwoPagesIsRefusedInOneLine() {
        BpfException e = org.junit.jupiter.api.Assertions.assertThrows(BpfException.class, () -> RingBuf.map(0, 3000));
        assertTrue(e.getMessage().contains("ring buffer size 3000 is not a power of two"), e.getMessage());
    }
}
