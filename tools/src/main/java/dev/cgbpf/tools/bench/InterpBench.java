package dev.cgbpf.tools.bench;

import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Measures ns per program run of one backend through BPF_PROG_TEST_RUN (the engine's or the
 * kernel's) with a large {@code repeat}, so that per-call costs (syscall, packet setup, JNA)
 * are spread over many runs.
 *
 * <p>Method: keep calling for {@link Settings#warmupNanos} (for the engine this is the JIT
 * warm-up: the interpreter loop gets compiled by C2 before any sample), adjusting
 * {@code repeat} after each call so that one call takes about {@link Settings#batchNanos}; then
 * take {@link Settings#samples} calls with that repeat and report the median. Two figures per call: wall
 * time / repeat, measured here, and the duration the backend reports (for the kernel, its own
 * ktime-based mean, in whole ns).
 */
public final class InterpBench {

    /** An Ethernet + IPv4 + UDP packet on loopback: what the programs run on. */
    static final byte[] PACKET = HexFormat.of().parseHex(
            "ffffffffffff0200000000010800450000200001000040117cc87f0000017f000001d4310035000c0000deadbeef");

    public record Settings(long batchNanos, long warmupNanos, int samples) {
        public static final Settings FULL = new Settings(100_000_000L, 3_000_000_000L, 9);
        public static final Settings QUICK = new Settings(5_000_000L, 50_000_000L, 3);
    }

    /**
     * @param wallNs median wall-clock ns per run
     * @param reportedNs median of the backend's own ns-per-run figure
     * @param retval the program's return value (the same on every backend, or the figures compare different work)
     * @param cpuNs median CPU time of the calling thread per run (user and system): for the engine, its
     *              run without the time the thread waited for a CPU, as the kernel's own figure leaves
     *              out the time its test loop gives the CPU away (bpf_test_timer_continue)
     */
    public record Measurement(double wallNs, double reportedNs, long repeat, long retval, double cpuNs) {
    }

    private final Settings settings;

    public InterpBench(Settings settings) {
        this.settings = settings;
    }

    public Measurement measure(Backend backend, BenchProgram bp) throws BpfException {
        BpfMap map = bp.usesMap() ? benchMap(backend) : null;
        try (LoadedProg prog = backend.load(new LoadRequest(bp.name(), ProgType.SOCKET_FILTER, null,
                bp.build().apply(map == null ? -1 : map.fd()), "GPL", 0))) {
            // Warm-up, calibrating as it goes: the first calls are slow (class loading, JNA, the
            // interpreter still interpreted), so repeat is re-derived from every call's rate
            // and ends at what one batch of the warm code needs.
            long repeat = 16;
            long warmUntil = System.nanoTime() + settings.warmupNanos();
            int calls = 0;
            while (System.nanoTime() < warmUntil || calls < 3) {
                long t = System.nanoTime();
                backend.testRun(prog, new TestRun.Request(PACKET, (int) repeat));
                long took = Math.max(1, System.nanoTime() - t);
                double scale = Math.max(1 / 16.0, Math.min(16.0, (double) settings.batchNanos() / took));
                repeat = Math.max(1, Math.min(1L << 30, Math.round(repeat * scale)));
                calls++;
            }
            TestRun.Request request = new TestRun.Request(PACKET, (int) repeat);
            double[] wall = new double[settings.samples()];
            double[] reported = new double[settings.samples()];
            double[] cpu = new double[settings.samples()];
            java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long retval = 0;
            for (int i = 0; i < settings.samples(); i++) {
                long c = threads.getCurrentThreadCpuTime();
                long t = System.nanoTime();
                TestRun.Result r = backend.testRun(prog, request);
                wall[i] = (double) (System.nanoTime() - t) / repeat;
                cpu[i] = (double) (threads.getCurrentThreadCpuTime() - c) / repeat;
                reported[i] = r.durationNs();
                retval = r.retval();
            }
            return new Measurement(median(wall), median(reported), repeat, retval, median(cpu));
        } finally {
            if (map != null) {
                map.close();
            }
        }
    }

    /** The array map of {@link BenchPrograms#mapLoop}: value i*3 under key i. */
    private static BpfMap benchMap(Backend backend) throws BpfException {
        BpfMap map = backend.createMap(new MapSpec("bench", MapType.ARRAY, 4, 8, BenchPrograms.MAP_ENTRIES, 0));
        try {
            for (int i = 0; i < BenchPrograms.MAP_ENTRIES; i++) {
                byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(i).array();
                byte[] value = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(3L * i).array();
                backend.update(map, key, value, 0);
            }
            return map;
        } catch (BpfException | RuntimeException e) {
            map.close();
            throw e;
        }
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
