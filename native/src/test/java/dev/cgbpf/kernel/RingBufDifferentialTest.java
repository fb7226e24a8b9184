package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import dev.cgbpf.engine.maps.RingBufMap;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's ring buffer map ({@link RingBufMap}) against the kernel's: map creation and the
 * element commands answer alike, and the same sequence of records written by the same programs
 * (bpf_ringbuf_output of 16 or 13 bytes; reserve, write, discard) and read by each backend's reader
 * ({@link RingBuf} over mmap(2) on the kernel, {@link RingBufMap#consume} on the engine) gives the
 * same records, the same pending bytes and the same bpf_ringbuf_query answers, across wrap-arounds
 * and a full ring.
 */
class RingBufDifferentialTest {
    private static final int SIZE = 4096;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void mapCreationAndTheElementCommandsAnswerAsTheKernel() throws BpfException {
        List<MapSpec> specs = new ArrayList<>();
        int[][] shapes = {
            {0, 0, 4096, 0}, {4, 0, 4096, 0}, {0, 4, 4096, 0}, {0, 0, 0, 0}, {0, 0, 2048, 0}, {0, 0, 4097, 0},
            {0, 0, 12288, 0}, {0, 0, 1 << 16, 0}, {0, 0, 4096, 0x4}, {0, 0, 4096, 0x1}, {0, 0, 4096, 0x8},
            {0, 0, 4096, 0x10}, {0, 0, 4096, 0x18}, {0, 0, 4096, 0x80}, {0, 0, 4096, 0x400}, {0, 0, 4096, 1 << 19},
            {0, 0, 4096, 1 << 12},
        };
        for (int[] s : shapes) {
            specs.add(new MapSpec("rb", MapType.RINGBUF, s[0], s[1], s[2], s[3]));
        }
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend()) {
            for (MapSpec s : specs) {
                assertEquals(BpfAnswer.of(() -> kernel.createMap(s)), BpfAnswer.of(() -> engine.createMap(s)), s.toString());
            }
            for (Backend b : List.of(kernel, engine)) {
                BpfMap rb = b.createMap(new MapSpec("rb", MapType.RINGBUF, 0, 0, SIZE, 0));
                List<String> got = List.of(BpfAnswer.of(() -> b.lookup(rb, new byte[0])),
                        BpfAnswer.of(() -> {
                            b.update(rb, new byte[0], new byte[0], 0);
                            return null;
                        }),
                        BpfAnswer.of(() -> {
                            b.delete(rb, new byte[0]);
                            return null;
                        }),
                        BpfAnswer.of(() -> b.nextKey(rb, null)),
                        BpfAnswer.of(() -> b.nextKey(rb, new byte[0])));
                assertEquals(List.of("ENOTSUPP", "ENOTSUPP", "ENOTSUPP", "ENOTSUPP", "ENOTSUPP"), got, b.name());
                assertEquals(MapType.RINGBUF, b.mapInfo(rb).spec().type());
                assertEquals(SIZE, b.mapInfo(rb).spec().maxEntries());
            }
        }
    }

    /** One backend's ring, its programs and its reader. */
    private static final class Side implements AutoCloseable {
        final Backend b;
        final BpfMap rb;
        final LoadedProg w16;
        final LoadedProg w13;
        final LoadedProg discard;
        final LoadedProg[] query = new LoadedProg[4];
        final RingBuf kernelReader;
        final RingBufMap engineReader;

        Side(Backend b) throws BpfException {
            this.b = b;
            rb = b.createMap(new MapSpec("rbdiff", MapType.RINGBUF, 0, 0, SIZE, 0));
            w16 = writer(16);
            w13 = writer(13);
            // r0 = bpf_ringbuf_reserve(&rb, 24, 0); if (!r0) return 2; *(u64 *)r0 = 9; bpf_ringbuf_discard(r0, 0); return 1;
            discard = Progs.load(b, "rbdisc", ProgType.SOCKET_FILTER, null, Map.of("rb", rb),
                    "r1 = map[rb]", "r2 = 24", "r3 = 0", "call bpf_ringbuf_reserve#131", "if r0 == 0x0 goto pc+7",
                    "r1 = 9", "*(u64 *)(r0 +0) = r1", "r1 = r0", "r2 = 0", "call bpf_ringbuf_discard#133", "r0 = 1", "exit",
                    "r0 = 2", "exit");
            for (int f = 0; f < 4; f++) {
                // return bpf_ringbuf_query(&rb, f);
                query[f] = Progs.load(b, "rbq" + f, ProgType.SOCKET_FILTER, null, Map.of("rb", rb),
                        "r1 = map[rb]", "r2 = " + f, "call bpf_ringbuf_query#134", "exit");
            }
            kernelReader = b instanceof KernelBackend ? RingBuf.map(rb.fd(), SIZE) : null;
            engineReader = b instanceof EngineBackend e ? e.ringBuf(rb) : null;
        }

        /**
         * r0 = bpf_ringbuf_output(&rb, buf, len, 0) where buf holds the four 32-bit words after the
         * Ethernet header, each in network order as LD_ABS loads it (socket_filter programs have no
         * direct packet access, and the engine's socket_filter has no bpf_skb_load_bytes).
         */
        private LoadedProg writer(int len) throws BpfException {
            return Progs.load(b, "rbw" + len, ProgType.SOCKET_FILTER, null, Map.of("rb", rb),
                    "r6 = r1",
                    "r0 = *(u32 *)skb[14]", "*(u32 *)(r10 -16) = r0", "r0 = *(u32 *)skb[18]", "*(u32 *)(r10 -12) = r0",
                    "r0 = *(u32 *)skb[22]", "*(u32 *)(r10 -8) = r0", "r0 = *(u32 *)skb[26]", "*(u32 *)(r10 -4) = r0",
                    "r1 = map[rb]", "r2 = r10", "r2 += -16", "r3 = " + len, "r4 = 0", "call bpf_ringbuf_output#130",
                    "exit");
        }

        long run(LoadedProg p, byte[] frame) throws BpfException {
            return b.testRun(p, new TestRun.Request(frame, 1)).retval();
        }

        List<Long> queries() throws BpfException {
            List<Long> out = new ArrayList<>();
            for (LoadedProg q : query) {
                out.add(run(q, frame(0)));
            }
            return out;
        }

        long pending() {
            return kernelReader != null ? kernelReader.pending() : engineReader.pending();
        }

        List<byte[]> consume(int max) {
            List<byte[]> got = new ArrayList<>();
            int n = kernelReader != null ? kernelReader.consume(got::add, max) : engineReader.consume(got::add, max);
            assertEquals(got.size(), n);
            return got;
        }

        @Override
        public void close() {
            if (kernelReader != null) {
                kernelReader.close();
            }
            b.close();
        }
    }

    /** A frame whose bytes after the 14-byte Ethernet header are {@code seq} (8 bytes LE) and a pattern. */
    static byte[] frame(long seq) {
        ByteBuffer b = ByteBuffer.allocate(14 + 50).order(ByteOrder.LITTLE_ENDIAN);
        b.position(12);
        b.putShort((short) 0x3412);
        b.putLong(seq);
        for (int i = 0; i < 8; i++) {
            b.put((byte) (seq * 31 + i));
        }
        return b.array();
    }

    @Test
    void theSameWritesGiveTheSameRecordsPositionsAndAnswers() throws BpfException {
        Random rnd = new Random(27);
        long written = 0;
        int records = 0;
        int refused = 0;
        try (Side k = new Side(new KernelBackend()); Side e = new Side(new EngineBackend())) {
            long seq = 0;
            for (int round = 0; round < 60; round++) {
                int n = 1 + rnd.nextInt(200);
                for (int i = 0; i < n; i++, seq++) {
                    int what = rnd.nextInt(10);
                    LoadedProg pk = what == 0 ? k.discard : what < 5 ? k.w16 : k.w13;
                    LoadedProg pe = what == 0 ? e.discard : what < 5 ? e.w16 : e.w13;
                    byte[] f = frame(seq);
                    long rk = k.run(pk, f);
                    assertEquals(rk, e.run(pe, f), "write " + seq);
                    if (rk == 0 || (what == 0 && rk == 1)) {
                        written += what == 0 ? 32 : 24;
                    } else {
                        refused++;
                    }
                }
                assertEquals(k.queries(), e.queries(), "avail, size, consumer, producer after round " + round);
                assertEquals(k.pending(), e.pending());
                // read some or all of it: a partly drained ring keeps the next round's writes apart
                int max = rnd.nextBoolean() ? Integer.MAX_VALUE : rnd.nextInt(100);
                List<byte[]> gotK = k.consume(max);
                List<byte[]> gotE = e.consume(max);
                assertEquals(gotK.size(), gotE.size(), "records read in round " + round);
                for (int i = 0; i < gotK.size(); i++) {
                    assertArrayEquals(gotK.get(i), gotE.get(i), "record " + i + " of round " + round);
                }
                records += gotK.size();
                assertEquals(k.queries(), e.queries(), "after reading, round " + round);
            }
        }
        assertTrue(written > 10 * SIZE, "wrapped around at least ten times: " + written + " bytes");
        assertTrue(refused > 0, "the ring was full at times");
        assertTrue(records > 1000, records + " records compared");
    }
}
