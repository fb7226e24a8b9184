package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.KernelClocks;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine's helpers against the running kernel's: the same program, the same input, the same
 * answer. Pure helpers (bpf_strtol, bpf_strtoul, bpf_trace_printk) run on the engine's
 * interpreter directly, so that the comparison does not wait for the engine's verifier to model
 * them; the rest run through both {@link Backend}s: BPF_PROG_TEST_RUN of cgroup_skb programs,
 * and the cgroup_skb hooks of a TCP connect probe.
 */
class HelperDifferentialTest {
    /** A loopback IPv4/TCP frame: all-zero MACs (as lo's), ECT(0), 20 + 20 bytes. */
    static final byte[] FRAME = frame();
    static final int SLOTS = 40;

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    static byte[] frame() {
        byte[] f = new byte[54];
        f[12] = 0x08;
        f[14] = 0x45;
        f[15] = 0x02;
        f[17] = 40;
        f[22] = 64;
        f[23] = 6;
        f[26] = 127;
        f[29] = 1;
        f[30] = 127;
        f[33] = 2;
        for (int i = 34; i < 54; i++) {
            f[i] = (byte) (i * 3);
        }
        return f;
    }

    // ---------------------------------------------------------------- programs

    /**
     * One program that runs each body (r6 is the context; the body leaves its answer in r0 and
     * may use the stack above -64) and stores the answer in map slot i.
     */
    static String[] recording(List<String[]> bodies, int firstSlot) {
        List<String> l = new ArrayList<>();
        l.add("r6 = r1");
        for (int i = 0; i < bodies.size(); i++) {
            l.addAll(Arrays.asList(bodies.get(i)));
            l.addAll(List.of("*(u64 *)(r10 -72) = r0", "*(u32 *)(r10 -76) = " + (firstSlot + i),
                    "r1 = map[out]", "r2 = r10", "r2 += -76", "r3 = r10", "r3 += -72", "r4 = 0",
                    "call bpf_map_update_elem#2"));
        }
        l.add("r0 = 1");
        l.add("exit");
        return l.toArray(String[]::new);
    }

    /** bpf_skb_load_bytes_relative(r6, off, fp-16, len, header), stack pre-filled to show the zeroing; answer: ret or data. */
    static String[] relative(long off, int len, int header, boolean data) {
        return new String[] {
            "r1 = 0x1111111111111111 ll", "*(u64 *)(r10 -16) = r1", "*(u64 *)(r10 -8) = r1",
            "r1 = r6", "r2 = " + off + " ll", "r3 = r10", "r3 += -16", "r4 = " + len, "r5 = " + header,
            "call bpf_skb_load_bytes_relative#68",
            data ? "r0 = *(u64 *)(r10 -16)" : "r0 += 0"};
    }

    static String[] call(String helper, String... args) {
        List<String> l = new ArrayList<>(Arrays.asList(args));
        l.add("call " + helper);
        return l.toArray(String[]::new);
    }

    static final List<String[]> TEST_RUN_BODIES = List.of(
            relative(0, 8, 1, false),
            relative(0, 8, 1, true),
            relative(0, 16, 0, false),
            relative(8, 8, 0, true),
            relative(32, 8, 1, true),
            relative(36, 8, 1, false),
            relative(36, 8, 1, true),
            relative(0x10000, 4, 1, false),
            relative(0, 4, 2, false),
            relative(0x7fffffff00000000L, 4, 1, true),
            call("bpf_skb_ecn_set_ce#97", "r1 = r6"),
            call("bpf_skb_ecn_set_ce#97", "r1 = r6"),
            relative(0, 8, 1, true),
            relative(8, 4, 1, true),
            call("bpf_get_socket_uid#47", "r1 = r6"),
            call("bpf_get_cgroup_classid#17"),
            new String[] {"r1 = r6", "call bpf_skb_cgroup_id#79", "r7 = r0", "call bpf_get_current_cgroup_id#80",
                "r0 -= r7"},
            call("bpf_get_current_ancestor_cgroup_id#123", "r1 = -1"),
            call("bpf_get_current_ancestor_cgroup_id#123", "r1 = 1048576"),
            call("bpf_get_current_ancestor_cgroup_id#123", "r1 = 0"),
            new String[] {"r1 = r6", "call bpf_get_netns_cookie#122", "r7 = r0", "r1 = 0",
                "call bpf_get_netns_cookie#122", "r0 -= r7"},
            new String[] {"r1 = 0", "call bpf_get_netns_cookie#122", "r1 = r0", "r0 = 0", "if r1 == 0x0 goto pc+1",
                "r0 = 1"},
            new String[] {"r1 = r6", "call bpf_get_socket_cookie#46", "r7 = r0", "r1 = r6",
                "call bpf_get_socket_cookie#46", "r1 = r0", "r0 = 0", "if r7 == 0x0 goto pc+2",
                "if r1 != r7 goto pc+1", "r0 = 1"},
            call("bpf_get_numa_node_id#42"),
            new String[] {"r1 = r6", "r2 = 2", "r3 = r10", "r3 += -8", "r4 = 4", "call bpf_skb_load_bytes#26",
                "r0 = *(u32 *)(r10 -8)"});

    // ---------------------------------------------------------------- test runs of cgroup_skb

    /** Runs the bodies in a cgroup_skb test run on {@code b}; the map slots as answers. */
    static long[] testRunSlots(Backend b, byte[] frame) throws BpfException {
        BpfMap out = b.createMap(new MapSpec("out", MapType.ARRAY, 4, 8, SLOTS, 0));
        LoadedProg p = Progs.load(b, "h", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS,
                java.util.Map.of("out", out), recording(TEST_RUN_BODIES, 0));
        TestRun.Result r = b.testRun(p, new TestRun.Request(frame, 1));
        assertEquals(1, r.retval());
        return slots(b, out, TEST_RUN_BODIES.size());
    }

    static long[] slots(Backend b, BpfMap out, int n) throws BpfException {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
            byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(i).array();
            v[i] = ByteBuffer.wrap(b.lookup(out, key)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        return v;
    }

    @Test
    void cgroupSkbTestRunHelpersAnswerAsTheKernel() throws Exception {
        long[] kernel;
        long[] engine;
        try (KernelBackend k = new KernelBackend(); EngineBackend e = new EngineBackend()) {
            kernel = testRunSlots(k, FRAME);
            engine = testRunSlots(e, FRAME);
        }
        // facts the kernel showed, so that agreement is not agreement on nonsense
        assertEquals(0, kernel[0], "NET-relative read inside the packet");
        assertEquals(-14, kernel[5], "past the end: -EFAULT");
        assertEquals(0, kernel[6], "and the buffer zeroed");
        assertEquals(1, kernel[10], "ECT(0) becomes CE");
        assertEquals(0x03, (kernel[12] >>> 8) & 0xff, "the TOS byte now says CE");
        assertEquals(1, kernel[19], "ancestor level 0 is the root, id 1");
        assertEquals(1, kernel[22], "a socket cookie is non-zero and stable");
        assertEquals(Arrays.toString(kernel), Arrays.toString(engine));
    }

    /**
     * A frame with link-layer addresses of its own: MAC-relative reads see them, and the frame that
     * comes back carries the program's ECN change behind a zeroed Ethernet header.
     */
    @Test
    void aTestRunSeesTheFramesMacHeaderAndReturnsThePacketAsChanged() throws Exception {
        byte[] frame = FRAME.clone();
        byte[] macs = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
        System.arraycopy(macs, 0, frame, 0, macs.length);
        List<String[]> bodies = List.of(relative(0, 8, 0, true), relative(6, 8, 0, true),
                call("bpf_skb_ecn_set_ce#97", "r1 = r6"));
        List<long[]> answers = new ArrayList<>();
        List<byte[]> frames = new ArrayList<>();
        try (KernelBackend k = new KernelBackend(); EngineBackend e = new EngineBackend()) {
            for (Backend b : List.<Backend>of(k, e)) {
                BpfMap out = b.createMap(new MapSpec("out", MapType.ARRAY, 4, 8, SLOTS, 0));
                LoadedProg p = Progs.load(b, "mac", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS,
                        java.util.Map.of("out", out), recording(bodies, 0));
                frames.add(b.testRun(p, new TestRun.Request(frame, 1)).dataOut());
                answers.add(slots(b, out, bodies.size()));
            }
        }
        long[] kernel = answers.get(0);
        byte[] kernelFrame = frames.get(0);
        assertEquals(0x0002010000000002L, kernel[0], "the kernel read the frame's destination MAC");
        assertEquals(1, kernel[2], "ECT(0) becomes CE");
        assertEquals(0x03, kernelFrame[15], "the kernel's frame out carries CE");
        assertEquals(0, kernelFrame[0], "and a zeroed Ethernet header");
        assertEquals(Arrays.toString(kernel), Arrays.toString(answers.get(1)), "helper answers, kernel vs engine");
        assertEquals(HexFormat.of().formatHex(kernelFrame), HexFormat.of().formatHex(frames.get(1)),
                "frame out, kernel vs engine");
    }

    @Test
    void theSmpProcessorIdIsAPossibleCpu() throws Exception {
        int cpus = Runtime.getRuntime().availableProcessors();
        List<String[]> body = List.<String[]>of(call("bpf_get_smp_processor_id#8"));
        try (KernelBackend k = new KernelBackend(); EngineBackend e = new EngineBackend()) {
            for (Backend b : List.<Backend>of(k, e)) {
                BpfMap out = b.createMap(new MapSpec("out", MapType.ARRAY, 4, 8, 1, 0));
                LoadedProg p = Progs.load(b, "smp", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS,
                        java.util.Map.of("out", out), recording(body, 0));
                b.testRun(p, new TestRun.Request(FRAME, 1));
                long cpu = slots(b, out, 1)[0];
                assertTrue(cpu >= 0 && cpu < cpus, b.name() + ": cpu " + cpu);
            }
        }
    }

    // ---------------------------------------------------------------- clocks

    /** ktime, boot, coarse, jiffies, tai: one run's readings, with the JVM's monotonic clock around it. */
    record Clocks(long before, long ktime, long boot, long coarse, long jiffies, long tai, long after) {
    }

    static Clocks clocks(Backend b) throws BpfException {
        List<String[]> bodies = List.of(call("bpf_ktime_get_ns#5"), call("bpf_ktime_get_boot_ns#125"),
                call("bpf_ktime_get_coarse_ns#160"), call("bpf_jiffies64#118"), call("bpf_ktime_get_tai_ns#208"));
        BpfMap out = b.createMap(new MapSpec("out", MapType.ARRAY, 4, 8, bodies.size(), 0));
        LoadedProg p = Progs.load(b, "clk", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS,
                java.util.Map.of("out", out), recording(bodies, 0));
        long before = System.nanoTime();
        b.testRun(p, new TestRun.Request(FRAME, 1));
        long after = System.nanoTime();
        long[] v = slots(b, out, bodies.size());
        return new Clocks(before, v[0], v[1], v[2], v[3], v[4], after);
    }

    @Test
    void theClocksReadTheKernelsTime() throws Exception {
        KernelClocks host = KernelClocks.host();
        assertTrue(host.knowsTick() && host.knowsJiffies() && host.knowsTai(),
                "as root on this host the engine reads every clock's offsets");
        long tick = 4_000_000;
        try (KernelBackend k = new KernelBackend(); EngineBackend e = new EngineBackend()) {
            Clocks kc = clocks(k);
            Clocks ec = clocks(e);
            for (Clocks c : List.of(kc, ec)) {
                assertTrue(c.before <= c.ktime && c.ktime <= c.after, "ktime_get_ns is CLOCK_MONOTONIC: " + c);
                assertTrue(c.coarse <= c.ktime && c.ktime - c.coarse < 2 * tick, "coarse lags by less than a tick: " + c);
            }
            long ms = 1_000_000;
            assertTrue(Math.abs((kc.boot - kc.ktime) - (ec.boot - ec.ktime)) < 10 * ms, "boot offset: " + kc + " " + ec);
            // tai - monotonic is the realtime and TAI offsets together: the same on both sides within the runs' spacing
            assertTrue(Math.abs((kc.tai - kc.ktime) - (ec.tai - ec.ktime)) < 5 * ms, "tai offset: " + kc + " " + ec);
            long hz = 1_000_000_000L / tick;
            long kernelBase = kc.jiffies - Math.floorDiv(kc.ktime, 1_000_000_000L / hz);
            long engineBase = ec.jiffies - Math.floorDiv(ec.ktime, 1_000_000_000L / hz);
            assertTrue(Math.abs(kernelBase - engineBase) <= 1, "jiffies: kernel " + kernelBase + ", engine " + engineBase);
        }
    }

    // ---------------------------------------------------------------- the hooks of a connect probe

    /** Per direction: MAC-relative read (ret, then bytes 8..15), the socket's uid, its cookie's presence. */
    static List<String[]> hookBodies() {
        return List.of(
                relative(0, 16, 0, false),
                relative(8, 8, 0, true),
                call("bpf_get_socket_uid#47", "r1 = r6"),
                new String[] {"r1 = r6", "call bpf_get_socket_cookie#46", "r1 = r0", "r0 = 0", "if r1 == 0x0 goto pc+1",
                    "r0 = 1"},
                new String[] {"r1 = r6", "call bpf_skb_cgroup_id#79", "r1 = r0", "r0 = 0", "if r1 == 0x0 goto pc+1",
                    "r0 = 1"},
                relative(0, 4, 1, true));
    }

    static long[] connectSlots(Backend b, int port) throws Exception {
        List<String[]> bodies = hookBodies();
        BpfMap out = b.createMap(new MapSpec("out", MapType.ARRAY, 4, 8, 2 * bodies.size(), 0));
        b.mkdir("c");
        LoadedProg egress = Progs.load(b, "eg", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS,
                java.util.Map.of("out", out), recording(bodies, 0));
        LoadedProg ingress = Progs.load(b, "in", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS,
                java.util.Map.of("out", out), recording(bodies, bodies.size()));
        b.attach("c", egress, AttachType.CGROUP_INET_EGRESS, Set.of(), null);
        b.attach("c", ingress, AttachType.CGROUP_INET_INGRESS, Set.of(), null);
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        b.listen(lo, port, Probe.Proto.TCP);
        b.connect("c", Probe.Family.INET, Probe.Proto.TCP, lo, port);
        return slots(b, out, 2 * bodies.size());
    }

    @Test
    void theSkbHooksOfAConnectAnswerAsTheKernel() throws Exception {
        int port = 20000 + 10 * ThreadLocalRandom.current().nextInt(1000);
        long[] kernel;
        long[] engine;
        try (KernelBackend k = KernelBackend.openScenario(); EngineBackend e = new EngineBackend()) {
            kernel = connectSlots(k, port);
            engine = connectSlots(e, port);
        }
        assertEquals(-14, kernel[0], "egress: no mac header yet");
        assertEquals(0, kernel[6], "ingress: lo's mac header");
        assertEquals(0x0045_0008_0000_0000L, kernel[7], "lo's zero addresses, then EtherType 0x0800 and the IP header");
        assertEquals(Arrays.toString(kernel), Arrays.toString(engine));
    }

    // ---------------------------------------------------------------- refused at load

    @Test
    void aHelperTheEngineCannotRunLoadsInTheKernelOnly() throws Exception {
        String[] prog = {"r1 = r10", "r1 += -8", "r2 = 8", "r3 = 0", "call bpf_probe_read_kernel#113", "r0 = 1", "exit"};
        try (KernelBackend k = new KernelBackend(); EngineBackend e = new EngineBackend()) {
            Progs.load(k, "pid", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, prog);
            Program p = new Assembler().assemble(Arrays.asList(prog));
            BpfException ex = assertThrows(BpfException.class,
                    () -> e.load(new LoadRequest("pid", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, p, "GPL", 1)));
            assertEquals("EINVAL", ex.errno());
            assertEquals("engine: helper bpf_probe_read_kernel#113 is not implemented by the engine's interpreter",
                    ex.logReason());
        }
    }

    // ---------------------------------------------------------------- pure helpers on the interpreter

    /** Stores {@code s} and its NUL at fp-64.. (at most 63 bytes). */
    static List<String> stackString(byte[] s) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i <= s.length; i++) {
            l.add("*(u8 *)(r10 -" + (64 - i) + ") = " + (i < s.length ? s[i] & 0xff : 0));
        }
        return l;
    }

    /** The u32 a socket_filter test run of {@code lines} returns, on the kernel and on the engine's interpreter. */
    static long[] both(KernelBackend k, List<String> lines) throws BpfException {
        Program p = new Assembler().assemble(lines);
        LoadedProg prog = k.load(new LoadRequest("pure", ProgType.SOCKET_FILTER, null, p, "GPL", 0));
        long kernel;
        try {
            kernel = k.testRun(prog, new TestRun.Request(FRAME, 1)).retval() & 0xffffffffL;
        } finally {
            prog.close();
        }
        Machine m = new Machine(new AddressSpace(), BaseHelpers.TABLE, new SkBuffContext(FRAME));
        long engine = Interpreter.decode(p, PseudoResolver.NONE).run(m, 100_000) & 0xffffffffL;
        return new long[] {kernel, engine};
    }

    /** The strtol/strtoul answer and the two halves of *res, as three u32 runs. */
    static List<List<String>> strtoxPrograms(String helper, byte[] s, int len, int flags) {
        List<List<String>> progs = new ArrayList<>();
        for (String tail : List.of("r0 += 0", "r0 = *(u32 *)(r10 -72)", "r0 = *(u32 *)(r10 -68)")) {
            List<String> l = new ArrayList<>(stackString(s));
            l.addAll(List.of("r1 = 7", "*(u64 *)(r10 -72) = r1",
                    "r1 = r10", "r1 += -64", "r2 = " + len, "r3 = " + flags, "r4 = r10", "r4 += -72",
                    "call " + helper, tail, "exit"));
            progs.add(l);
        }
        return progs;
    }

    static Stream<Arguments> strtox() {
        String l = "bpf_strtol#105";
        String u = "bpf_strtoul#106";
        return Stream.of(
                Arguments.of(l, "  -123x", 7, 10), Arguments.of(l, "0x1f", 4, 0), Arguments.of(l, "0x1f", 4, 16),
                Arguments.of(l, "0x1f", 4, 8), Arguments.of(l, "0xg", 3, 0), Arguments.of(l, "0xg", 3, 16),
                Arguments.of(l, "017", 3, 0), Arguments.of(l, "abc", 3, 10), Arguments.of(l, "abc", 3, 16),
                Arguments.of(l, "12", 2, 3), Arguments.of(l, "12", 2, 0x2a), Arguments.of(l, "   ", 3, 10),
                Arguments.of(l, "-", 1, 10), Arguments.of(l, "12\0" + "34", 5, 10), Arguments.of(l, "\t\n42", 4, 10),
                Arguments.of(l, "9223372036854775807", 19, 10), Arguments.of(l, "9223372036854775808", 19, 10),
                Arguments.of(l, "-9223372036854775808", 20, 10), Arguments.of(l, "-9223372036854775809", 20, 10),
                Arguments.of(l, "0".repeat(62) + "1", 63, 10), Arguments.of(l, "123", 2, 10),
                Arguments.of(u, "18446744073709551615", 20, 10), Arguments.of(u, "18446744073709551616", 20, 10),
                Arguments.of(u, "-1", 2, 10), Arguments.of(u, "ffffffffffffffff", 16, 16), Arguments.of(u, " +5", 3, 10));
    }

    @ParameterizedTest(name = "{0} \"{1}\" len {2} flags {3}")
    @MethodSource("strtox")
    void strtolAndStrtoulAnswerAsTheKernel(String helper, String s, int len, int flags) throws Exception {
        byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        try (KernelBackend k = new KernelBackend()) {
            for (List<String> prog : strtoxPrograms(helper, bytes, len, flags)) {
                long[] r = both(k, prog);
                assertEquals(r[0], r[1], "kernel vs engine, " + prog.get(prog.size() - 2));
            }
        }
    }

    static Stream<Arguments> printk() {
        return Stream.of(
                Arguments.of("x=%d\n", 5L, 0L, 0L), Arguments.of("%5d|%-5d|%05d", -42L, -42L, -42L),
                Arguments.of("%+d % d %u", 7L, 7L, -1L), Arguments.of("%x %X %lx", 0xabcdefL, 0xabcdefL, -1L),
                Arguments.of("%lld %llu %li", Long.MIN_VALUE, -1L, -5L), Arguments.of("%c%c%c", 72L, 105L, 33L),
                Arguments.of("%3c|%-3c|", 65L, 66L, 0L), Arguments.of("100%%", 0L, 0L, 0L),
                Arguments.of("%d%d%d%d", 1L, 2L, 3L), Arguments.of("%q", 0L, 0L, 0L), Arguments.of("%.2d", 1L, 0L, 0L),
                Arguments.of("%#x", 1L, 0L, 0L), Arguments.of("%", 0L, 0L, 0L), Arguments.of("%hd", 1L, 0L, 0L),
                Arguments.of("%sa", 0L, 0L, 0L), Arguments.of("%p %px %pK", 0L, 0x1234L, 0L),
                Arguments.of("tab\there", 0L, 0L, 0L), Arguments.of("bell\u0007", 0L, 0L, 0L),
                Arguments.of("caf\u00e9 \u0080%d", 1L, 0L, 0L), Arguments.of("del\u007f", 0L, 0L, 0L),
                Arguments.of("%08x|%-8x|", 0x1fL, 0x1fL, 0L), Arguments.of("%s|%10s|%-10s|", 0L, 0L, 0L),
                Arguments.of("%pI4 %pi4", 0L, 0L, 0L), Arguments.of("%pI6", 0L, 0L, 0L), Arguments.of("%pi6", 0L, 0L, 0L),
                Arguments.of("%pks.", 0L, 0L, 0L), Arguments.of("%pI5", 0L, 0L, 0L), Arguments.of("%s", 0L, 0L, 0L));
    }

    /**
     * bpf_trace_printk's answer (the line's length or -errno). A %s or %p argument of 0 is
     * replaced by a pointer to a string or address on the stack (at fp-32: "hello", or the
     * bytes 127.0.0.1 / ::1); the stack past them is left as the kernel has it, unwritten.
     */
    @ParameterizedTest(name = "\"{0}\"")
    @MethodSource("printk")
    void tracePrintkAnswersAsTheKernel(String fmt, long a1, long a2, long a3) throws Exception {
        byte[] f = fmt.getBytes(StandardCharsets.ISO_8859_1);
        List<String> l = new ArrayList<>(stackString(f));
        byte[] arg = fmt.contains("I6") || fmt.contains("i6")
                ? new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
                : fmt.contains("I4") ? new byte[] {127, 0, 0, 1, 0, 0, 0, 0} : "hello\0".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < arg.length; i++) {
            l.add("*(u8 *)(r10 -" + (32 - i) + ") = " + (arg[i] & 0xff));
        }
        boolean pointers = fmt.contains("%s") || fmt.contains("%pI") || fmt.contains("%pi") || fmt.contains("%pk");
        long[] args = {a1, a2, a3};
        String[] regs = {"r3", "r4", "r5"};
        for (int i = 0; i < 3; i++) {
            if (pointers && args[i] == 0) {
                l.add(regs[i] + " = r10");
                l.add(regs[i] + " += -32");
            } else {
                l.add(regs[i] + " = " + args[i] + " ll");
            }
        }
        l.addAll(List.of("r1 = r10", "r1 += -64", "r2 = " + (f.length + 1), "call bpf_trace_printk#6", "exit"));
        try (KernelBackend k = new KernelBackend()) {
            long[] r = both(k, l);
            assertEquals(r[0], r[1], "kernel vs engine for \"" + fmt + "\"");
        }
    }
}
