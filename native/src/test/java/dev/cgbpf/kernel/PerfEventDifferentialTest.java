package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.PerfEvent;
import dev.cgbpf.engine.backend.PerfRecord;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * bpf_perf_event_output from cgroup_skb (the skb form) on the engine against the kernel: the same
 * random sequence of outputs (data sizes, slot indexes, BPF_F_CURRENT_CPU, packet byte counts, bad
 * flags) and reads, the test's thread pinned to CPU 0 on both, gives the same answers and the same
 * records (PERF_RECORD_SAMPLE and PERF_RECORD_LOST, stale padding included) as each backend's
 * reader sees them: over mmap(2) of the kernel's perf ring, through {@link PerfEvent#read} on the
 * engine. Many more outputs than reads, so that the ring fills, loses records and wraps.
 */
class PerfEventDifferentialTest {
    private static final String PKT = "ffffffffffff0200000000010800450000200001000040117cc87f0000017f000001d4310035000c0000deadbeef";
    private static final int[] SIZES = {0, 1, 5, 8, 13, 64, 200, 400};
    private static final long[] FLAGS = {0, 0xffffffffL, 1, 2, 3, 1L << 52, 7L << 32, (32L << 32) | 0xffffffffL, 33L << 32,
        (20L << 32) | 1};

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    /** One backend's array (slot 0: CPU 0's event, slot 1: CPU 1's, slot 2 empty), its programs and the answers' map. */
    private static final class Side implements AutoCloseable {
        final Backend b;
        final BpfMap events;
        final BpfMap out;
        final PerfEvent cpu0;
        final PerfEvent cpu1;
        final AutoCloseable pin;
        final Map<String, LoadedProg> progs = new HashMap<>();

        Side(Backend b) throws BpfException {
            this.b = b;
            pin = b.pinThread(0);
            events = b.createMap(new MapSpec("events", MapType.PERF_EVENT_ARRAY, 4, 4, 3, 0));
            out = b.createMap(new MapSpec("out", MapType.ARRAY, 4, 8, 1, 0));
            cpu0 = b.perfEventOpen(0);
            cpu1 = b.perfEventOpen(1);
            b.updatePerfEvent(events, new byte[] {0, 0, 0, 0}, cpu0);
            b.updatePerfEvent(events, new byte[] {1, 0, 0, 0}, cpu1);
        }

        /** out[0] = bpf_perf_event_output(skb, &events, flags, fp-400, size), the data 0x01, 0x02, ... */
        long output(int size, long flags) throws BpfException {
            LoadedProg p = progs.get(size + "/" + flags);
            if (p == null) {
                List<String> insns = new ArrayList<>(List.of("r6 = r1"));
                for (int off = 0; off < 400; off += 8) {
                    long v = 0;
                    for (int i = 7; i >= 0; i--) {
                        v = v << 8 | ((off + i + 1) & 0xff);
                    }
                    insns.add("r1 = 0x" + Long.toHexString(v) + " ll");
                    insns.add("*(u64 *)(r10 " + (off - 400) + ") = r1");
                }
                insns.addAll(List.of("r1 = r6", "r2 = map[events]", "r3 = 0x" + Long.toHexString(flags) + " ll", "r4 = r10",
                        "r4 += -400", "r5 = " + size, "call bpf_perf_event_output#25", "r7 = r0", "r1 = 0",
                        "*(u32 *)(r10 -404) = r1", "r2 = r10", "r2 += -404", "r1 = map[out]", "call bpf_map_lookup_elem#1",
                        "if r0 == 0x0 goto pc+1", "*(u64 *)(r0 +0) = r7", "r0 = 1", "exit"));
                p = Progs.load(b, "perfout", ProgType.CGROUP_SKB, null, Map.of("events", events, "out", out),
                        insns.toArray(String[]::new));
                progs.put(size + "/" + flags, p);
            }
            b.testRun(p, new TestRun.Request(HexFormat.of().parseHex(PKT), 1));
            byte[] v = b.lookup(out, new byte[4]);
            return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }

        List<String> read(PerfEvent e) throws BpfException {
            List<String> got = new ArrayList<>();
            for (PerfRecord r : e.read()) {
                byte[] body = r.body();
                if (r.type() == 2) {
                    body = Arrays.copyOfRange(body, 8, body.length); // the event's id differs between backends
                }
                got.add(r.type() + "/" + r.misc() + "/" + HexFormat.of().formatHex(body));
            }
            return got;
        }

        @Override
        public void close() {
            cpu0.close();
            cpu1.close();
            try {
                pin.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot give the test's thread its CPUs back", e);
            } finally {
                b.close();
            }
        }
    }

    @Test
    void randomOutputsAndReadsGiveTheKernelsAnswersAndRecords() throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs CPU 1 for an event of another CPU");
        Random rnd = new Random(17);
        int lost = 0;
        int samples = 0;
        try (Side kernel = new Side(new KernelBackend()); Side engine = new Side(new EngineBackend())) {
            for (int step = 0; step < 800; step++) {
                if (rnd.nextInt(100) == 0) {
                    List<String> k = kernel.read(kernel.cpu0);
                    assertEquals(k, engine.read(engine.cpu0), "read at step " + step);
                    lost += (int) k.stream().filter(s -> s.startsWith("2/")).count();
                    samples += (int) k.stream().filter(s -> s.startsWith("9/")).count();
                    continue;
                }
                int size = SIZES[rnd.nextInt(SIZES.length)];
                long flags = FLAGS[rnd.nextInt(FLAGS.length)];
                assertEquals(kernel.output(size, flags), engine.output(size, flags),
                        "output of " + size + " bytes, flags 0x" + Long.toHexString(flags) + " at step " + step);
            }
            assertEquals(kernel.read(kernel.cpu0), engine.read(engine.cpu0), "the last read");
            assertEquals(kernel.read(kernel.cpu1), engine.read(engine.cpu1), "CPU 1's event, never written");
        }
        assertTrue(lost > 0 && samples > 0, "the sequence should fill the ring: " + lost + " lost notices, " + samples + " samples");
    }
}
