package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The probes' packets through the cgroup_skb programs and TCP's sock_ops callbacks, checked
 * against what programs on the running kernel (6.18) recorded for the same connects and sends:
 * which packets and callbacks run in which order, what a refusal does to the caller, and what
 * the context fields read.
 */
class PacketHooksTest {
    private static final Set<AttachFlag> MULTI = EnumSet.of(AttachFlag.ALLOW_MULTI);
    private static final HexFormat HEX = HexFormat.of();

    private final EngineBackend engine = new EngineBackend(100_000);
    private final Map<String, Integer> maps = new HashMap<>();
    private final Map<String, BpfMap> mapObjects = new HashMap<>();

    @AfterEach
    void close() {
        engine.close();
    }

    private LoadedProg load(ProgType type, AttachType expected, List<String> lines) throws BpfException {
        return engine.load(new LoadRequest("p", type, expected, new Assembler(maps::get).assemble(lines), "GPL", 0));
    }

    private void array(String name, int valueSize, int entries) throws BpfException {
        BpfMap m = engine.createMap(new MapSpec(name, MapType.ARRAY, 4, valueSize, entries, 0));
        maps.put(name, m.fd());
        mapObjects.put(name, m);
    }

    private long u64(String map, int key) throws BpfException {
        byte[] v = engine.lookup(mapObjects.get(map), new byte[] {(byte) key, 0, 0, 0});
        long x = 0;
        for (int i = v.length - 1; i >= 0; i--) {
            x = (x << 8) | (v[i] & 0xff);
        }
        return x;
    }

    private void attach(LoadedProg p, AttachType t) throws BpfException {
        engine.attach("c", p, t, MULTI, null);
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    private static String errno(Executable e) {
        return assertThrows(BpfException.class, e::run).errno();
    }

    interface Executable {
        void run() throws Exception;
    }

    /** A program that returns {@code r0}. */
    private LoadedProg ret(ProgType type, AttachType expected, int r0) throws BpfException {
        return load(type, expected, List.of("r0 = " + r0, "exit"));
    }

    /**
     * A trace step: entry n of the shared log "log" (n from counter "n") gets {@code tag << 8 | value}
     * where value is read by {@code read} into r1. All tracers share one counter, so the log keeps
     * the order of packets and callbacks.
     */
    private List<String> tracer(int tag, List<String> read) {
        List<String> l = new ArrayList<>(List.of("r6 = r1", "r1 = 0", "*(u32 *)(r10 -4) = r1", "r2 = r10", "r2 += -4",
                "r1 = map[n]", "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out",
                "r7 = *(u32 *)(r0 +0)", "r1 = r7", "r1 += 1", "*(u32 *)(r0 +0) = r1", "if r7 > 0xf goto out",
                "*(u32 *)(r10 -8) = r7", "r2 = r10", "r2 += -8", "r1 = map[log]", "call bpf_map_lookup_elem#1",
                "if r0 == 0x0 goto out", "r9 = r0"));
        l.addAll(read);
        l.addAll(List.of("r1 |= " + (tag << 8), "*(u64 *)(r9 +0) = r1", "out:", "r0 = 1", "exit"));
        return l;
    }

    /** TCP flags of an IPv4 packet through data/data_end (byte 33), 0xff when the packet is shorter. */
    private static final List<String> TCP_FLAGS = List.of("r2 = *(u32 *)(r6 +76)", "r3 = *(u32 *)(r6 +80)",
            "r4 = r2", "r4 += 34", "r1 = 255", "if r4 > r3 goto pc+1", "r1 = *(u8 *)(r2 +33)");
    private static final int EGRESS = 0xe;
    private static final int INGRESS = 0x1;
    private static final int SOCK_OPS = 0x5;

    private List<Long> traced() throws BpfException {
        List<Long> out = new ArrayList<>();
        long n = u64("n", 0) & 0xffffffffL;
        for (int i = 0; i < n; i++) {
            out.add(u64("log", i));
        }
        return out;
    }

    private void traceAll() throws Exception {
        engine.mkdir("c");
        array("n", 4, 1);
        array("log", 8, 16);
        attach(load(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, tracer(EGRESS, TCP_FLAGS)), AttachType.CGROUP_INET_EGRESS);
        attach(load(ProgType.CGROUP_SKB, null, tracer(INGRESS, TCP_FLAGS)), AttachType.CGROUP_INET_INGRESS);
        attach(load(ProgType.SOCK_OPS, null, tracer(SOCK_OPS, List.of("r1 = *(u32 *)(r6 +0)"))), AttachType.CGROUP_SOCK_OPS);
    }

    private static long e(int flags) {
        return EGRESS << 8 | flags;
    }

    private static long i(int flags) {
        return INGRESS << 8 | flags;
    }

    private static long op(int op) {
        return SOCK_OPS << 8 | op;
    }

    @Test
    void tcpConnectRunsTheCallbacksAndPacketsInTheKernelsOrder() throws Exception {
        traceAll();
        engine.listen(ip("127.0.0.1"), 61700, Probe.Proto.TCP);
        engine.connect("c", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 61700);
        // callbacks, SYN out, SYN-ACK in, established, ACK out; then the close: FIN|ACK out, its ACK in
        assertEquals(List.of(op(3), op(2), op(1), op(6), e(0x02), i(0x12), op(4), e(0x10), e(0x11), i(0x10)), traced());
    }

    @Test
    void refusedConnectSeesTheRst() throws Exception {
        traceAll();
        assertEquals("ECONNREFUSED", errno(() -> engine.connect("c", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 61709)));
        assertEquals(List.of(op(3), op(2), op(1), op(6), e(0x02), i(0x14)), traced());
    }

    @Test
    void droppedSynIsRetriedOnceWithinTheProbesTwoSeconds() throws Exception {
        traceAll();
        engine.listen(ip("127.0.0.1"), 61700, Probe.Proto.TCP);
        attach(ret(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, 0), AttachType.CGROUP_INET_EGRESS);
        assertEquals("ETIMEDOUT", errno(() -> engine.connect("c", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 61700)));
        assertEquals(List.of(op(3), op(2), op(1), op(6), e(0x02), e(0x02), op(1)), traced());
    }

    @Test
    void droppedSynAckMeetsTheRetriedSynAndTheListenersTimer() throws Exception {
        traceAll();
        engine.listen(ip("127.0.0.1"), 61700, Probe.Proto.TCP);
        attach(ret(ProgType.CGROUP_SKB, null, 0), AttachType.CGROUP_INET_INGRESS);
        assertEquals("ETIMEDOUT", errno(() -> engine.connect("c", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 61700)));
        assertEquals(List.of(op(3), op(2), op(1), op(6), e(0x02), i(0x12), e(0x02), op(1), i(0x12), i(0x12)), traced());
    }

    @Test
    void droppedRstTimesOutInsteadOfRefusing() throws Exception {
        traceAll();
        attach(ret(ProgType.CGROUP_SKB, null, 0), AttachType.CGROUP_INET_INGRESS);
        assertEquals("ETIMEDOUT", errno(() -> engine.connect("c", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 61709)));
        assertEquals(List.of(op(3), op(2), op(1), op(6), e(0x02), i(0x14), e(0x02), op(1), i(0x14)), traced());
    }

    @Test
    void egressVerdictsOfADatagram() throws Exception {
        engine.mkdir("c");
        engine.mkdir("c/cn");
        engine.listen(ip("127.0.0.1"), 61750, Probe.Proto.UDP);
        engine.listen(ip("::1"), 61752, Probe.Proto.UDP);
        // 3: passes with congestion notification
        engine.attach("c", ret(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, 3), AttachType.CGROUP_INET_EGRESS, MULTI, null);
        assertEquals(61750, engine.sendmsg("c", Probe.Family.INET, ip("127.0.0.1"), 61750, null).peerPort());
        // 2 below it: dropped with CN, which sendmsg swallows (-ENOBUFS): nothing arrives
        engine.attach("c/cn", ret(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, 2), AttachType.CGROUP_INET_EGRESS, MULTI, null);
        assertEquals("ETIMEDOUT", errno(() -> engine.sendmsg("c/cn", Probe.Family.INET, ip("127.0.0.1"), 61750, null)));
        assertEquals("ETIMEDOUT", errno(() -> engine.sendmsg("c/cn", Probe.Family.INET6, ip("::1"), 61752, null)));
        // a 0 after the 3: the congestion bits of the whole array are OR-ed, so it is a drop with CN (kernel: the same)
        LoadedProg drop = ret(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, 0);
        engine.attach("c", drop, AttachType.CGROUP_INET_EGRESS, MULTI, null);
        assertEquals("ETIMEDOUT", errno(() -> engine.sendmsg("c", Probe.Family.INET, ip("127.0.0.1"), 61750, null)));
        // a 0 alone: EPERM to the caller; a UDP connect(2) sends nothing and still works
        engine.mkdir("d");
        engine.attach("d", drop, AttachType.CGROUP_INET_EGRESS, MULTI, null);
        assertEquals("EPERM", errno(() -> engine.sendmsg("d", Probe.Family.INET, ip("127.0.0.1"), 61750, null)));
        assertEquals(61750, engine.connect("d", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.1"), 61750).peerPort());
        assertEquals(61750, engine.sendmsg("", Probe.Family.INET, ip("127.0.0.1"), 61750, null).peerPort());
    }

    @Test
    void datagramBytesAndFieldsAsTheKernelShowsThem() throws Exception {
        engine.mkdir("c");
        engine.listen(ip("127.0.0.1"), 61701, Probe.Proto.UDP);
        array("pk", 64, 1);
        // copy the first 52 bytes with bpf_skb_load_bytes, then remote_port and local_ip4
        LoadedProg dump = load(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, List.of("r6 = r1", "r1 = 0",
                "*(u32 *)(r10 -4) = r1", "r2 = r10", "r2 += -4", "r1 = map[pk]", "call bpf_map_lookup_elem#1",
                "if r0 == 0x0 goto out", "r9 = r0", "r1 = r6", "r2 = 0", "r3 = r9", "r4 = 52", "call bpf_skb_load_bytes#26",
                "r1 = *(u32 *)(r6 +132)", "*(u32 *)(r9 +52) = r1", "r1 = *(u32 *)(r6 +96)", "*(u32 *)(r9 +56) = r1",
                "r1 = r6", "r2 = 50", "r3 = r9", "r3 += 60", "r4 = 4", "call bpf_skb_load_bytes#26", "*(u32 *)(r9 +60) = r0",
                "out:", "r0 = 1", "exit"));
        attach(dump, AttachType.CGROUP_INET_EGRESS);
        engine.sendmsg("c", Probe.Family.INET, ip("127.0.0.1"), 61701, null);
        byte[] v = engine.lookup(mapObjects.get("pk"), new byte[4]);
        // IPv4: 52 bytes, DF, ttl 64, UDP; the UDP checksum holds the pseudo-header sum 0xfe33
        assertEquals("4500003", HEX.formatHex(v, 0, 4).substring(0, 7));
        assertEquals("40004011", HEX.formatHex(v, 6, 10));
        assertEquals("7f0000017f000001", HEX.formatHex(v, 12, 20));
        assertEquals("f1050020fe33", HEX.formatHex(v, 22, 28));
        assertEquals("cgbpf-", new String(v, 28, 6, java.nio.charset.StandardCharsets.US_ASCII));
        // an unconnected socket: no remote port, no local address; a load past the end is -EFAULT
        assertEquals("0000000000000000", HEX.formatHex(v, 52, 60));
        assertEquals("f2ffffff", HEX.formatHex(v, 60, 64));
        // the IPv4 header checksum is valid
        long sum = 0;
        for (int k = 0; k < 20; k += 2) {
            sum += ((v[k] & 0xff) << 8) | (v[k + 1] & 0xff);
        }
        while (sum >> 16 != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assertEquals(0xffff, sum);
    }

    @Test
    void remotePortIsInTheUpperHalfAndIpv6ConnectionsShowLoopback4Ipv6() throws Exception {
        engine.mkdir("c");
        engine.listen(ip("::1"), 61771, Probe.Proto.TCP);
        array("f", 16, 1);
        LoadedProg ops = load(ProgType.SOCK_OPS, null, List.of("r6 = r1", "r1 = 0", "*(u32 *)(r10 -4) = r1", "r2 = r10",
                "r2 += -4", "r1 = map[f]", "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out",
                "r1 = *(u32 *)(r6 +28)", "*(u32 *)(r0 +0) = r1", "r1 = *(u32 *)(r6 +64)", "*(u32 *)(r0 +4) = r1",
                "r1 = *(u32 *)(r6 +24)", "*(u32 *)(r0 +8) = r1", "r1 = *(u32 *)(r6 +20)", "*(u32 *)(r0 +12) = r1",
                "out:", "r0 = 1", "exit"));
        attach(ops, AttachType.CGROUP_SOCK_OPS);
        engine.connect("c", Probe.Family.INET6, Probe.Proto.TCP, ip("::1"), 61771);
        // local_ip4 127.0.0.6, remote_port 61771 = 0xf14b in network order in bytes 2..3, remote_ip4 0, AF_INET6
        assertEquals("7f0000060000f14b000000000a000000", HEX.formatHex(engine.lookup(mapObjects.get("f"), new byte[4])));
    }

    @Test
    void testRunOfCgroupSkbStartsAtTheNetworkHeader() throws Exception {
        LoadedProg parity = load(ProgType.CGROUP_SKB, null, List.of("r0 = *(u32 *)(r1 +0)", "r0 &= 1", "exit"));
        byte[] frame = HEX.parseHex("ffffffffffff0200000000010800450000210001000040117cc77f0000017f000001d4310035000d0000deadbeef00");
        TestRun.Result r = engine.testRun(parity, new TestRun.Request(frame, 3));
        assertEquals(1, r.retval(), "len 33 = 47 - 14");
        byte[] out = frame.clone();
        java.util.Arrays.fill(out, 0, 14, (byte) 0);
        assertArrayEquals(out, r.dataOut());
        // an egress program's 2 comes back as it is; sock_ops has no test run
        assertEquals(2, engine.testRun(ret(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, 2),
                new TestRun.Request(frame, 0)).retval());
        assertEquals("ENOTSUPP", errno(() -> engine.testRun(ret(ProgType.SOCK_OPS, null, 1), new TestRun.Request(frame, 0))));
        assertEquals("EINVAL", errno(() -> engine.testRun(parity, new TestRun.Request(new byte[13], 0))));
    }
}
