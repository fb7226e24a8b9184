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
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The probes of {@link EngineBackend}, rule by rule, with the answers the running kernel (6.18)
 * gave for the same programs and operations (recorded with real sockets, attached programs and a
 * counting cgroup storage; see SocketLayer and DeviceCgroup for the list).
 */
class EngineProbesTest {
    private final EngineBackend engine = new EngineBackend(100_000);
    private final Map<String, Integer> maps = new HashMap<>();
    private static final Set<AttachFlag> MULTI = EnumSet.of(AttachFlag.ALLOW_MULTI);

    @AfterEach
    void close() {
        engine.close();
    }

    private LoadedProg load(String name, ProgType type, AttachType expected, String... lines) throws BpfException {
        return engine.load(new LoadRequest(name, type, expected, new Assembler(maps::get).assemble(List.of(lines)), "GPL", 0));
    }

    private LoadedProg ret(ProgType type, AttachType expected, int r0) throws BpfException {
        return load("r" + r0, type, expected, "r0 = " + r0, "exit");
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    private static int le(String dotted) throws Exception {
        byte[] b = ip(dotted).getAddress();
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    private static int nport(int port) {
        return Short.reverseBytes((short) port) & 0xffff;
    }

    private static String errno(Executable e) {
        BpfException ex = assertThrows(BpfException.class, e::run);
        return ex.errno();
    }

    interface Executable {
        void run() throws Exception;
    }

    // ---------------------------------------------------------------- device

    @Test
    void deviceProgramsOfTheHierarchyAllMustAllow() throws Exception {
        engine.mkdir("a");
        engine.mkdir("a/b");
        // allow reads only: access_type >> 16 == READ
        LoadedProg readOnly = load("ro", ProgType.CGROUP_DEVICE, null,
                "r2 = *(u32 *)(r1 +0)", "r2 >>= 16", "r0 = 0", "if r2 != 0x2 goto pc+1", "r0 = 1", "exit");
        LoadedProg notMajor1 = load("nm1", ProgType.CGROUP_DEVICE, null,
                "r2 = *(u32 *)(r1 +4)", "r0 = 1", "if r2 != 0x1 goto pc+1", "r0 = 0", "exit");
        engine.attach("a", readOnly, AttachType.CGROUP_DEVICE, MULTI, null);
        assertTrue(engine.device("a/b", new Probe.DeviceAccess('c', 1, 3, "r")));
        assertFalse(engine.device("a/b", new Probe.DeviceAccess('c', 1, 3, "rw")), "rw is one check with READ|WRITE");
        assertFalse(engine.device("a/b", new Probe.DeviceAccess('c', 1, 3, "rm")), "the mknod check fails");
        assertTrue(engine.device("", new Probe.DeviceAccess('c', 1, 3, "rwm")), "the root has no programs");
        engine.attach("a/b", notMajor1, AttachType.CGROUP_DEVICE, MULTI, null);
        assertFalse(engine.device("a/b", new Probe.DeviceAccess('c', 1, 3, "r")), "b's own program refuses major 1");
        assertTrue(engine.device("a/b", new Probe.DeviceAccess('b', 8, 0, "r")));
        assertTrue(engine.device("a", new Probe.DeviceAccess('c', 1, 3, "r")), "a does not run b's program");
    }

    @Test
    void deviceContextEncodesTypeAndAccessLikeTheKernel() throws Exception {
        // allow only (MKNOD << 16) | BLOCK = 0x10001
        LoadedProg p = load("exact", ProgType.CGROUP_DEVICE, null,
                "r2 = *(u32 *)(r1 +0)", "r0 = 0", "if r2 != 0x10001 goto pc+1", "r0 = 1", "exit");
        engine.attach("", p, AttachType.CGROUP_DEVICE, Set.of(), null);
        assertTrue(engine.device("", new Probe.DeviceAccess('b', 7, 7, "m")));
        assertFalse(engine.device("", new Probe.DeviceAccess('c', 7, 7, "m")));
        assertFalse(engine.device("", new Probe.DeviceAccess('b', 7, 7, "w")));
    }

    /** Observed with a counting program: an open of b 8:0 runs it twice, of c 1:3 once, a mknod once. */
    @Test
    void blockOpenChecksTwiceAndStorageCountsRuns() throws Exception {
        BpfMap m = engine.createMap(new MapSpec("cnt", MapType.CGROUP_STORAGE, 8, 8, 0, 0));
        maps.put("cnt", m.fd());
        LoadedProg counter = load("count", ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE,
                "r1 = map[cnt]", "r2 = 0", "call bpf_get_local_storage#81",
                "r1 = *(u64 *)(r0 +0)", "r1 += 1", "*(u64 *)(r0 +0) = r1", "r0 = 1", "exit");
        engine.mkdir("x");
        assertEquals("ENOENT", errno(() -> engine.storage("x", AttachType.CGROUP_DEVICE, m)), "no storage before attach");
        engine.attach("x", counter, AttachType.CGROUP_DEVICE, MULTI, null);
        long[] expected = {0};
        String[][] cases = {{"b 8 0 r", "2"}, {"c 1 3 r", "1"}, {"b 8 0 m", "1"}, {"b 8 0 rwm", "3"}, {"c 1 3 wm", "2"}};
        for (String[] c : cases) {
            String[] f = c[0].split(" ");
            engine.device("x", new Probe.DeviceAccess(f[0].charAt(0), Integer.parseInt(f[1]), Integer.parseInt(f[2]), f[3]));
            expected[0] += Long.parseLong(c[1]);
            assertEquals(expected[0], u64(engine.storage("x", AttachType.CGROUP_DEVICE, m)), c[0]);
        }
    }

    private static long u64(byte[] b) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    @Test
    void currentCgroupIdIsTheProbingTasksCgroup() throws Exception {
        engine.mkdir("p");
        engine.mkdir("p/q");
        long id = engine.cgroupAt("p/q").id();
        LoadedProg p = load("id", ProgType.CGROUP_DEVICE, null,
                "call bpf_get_current_cgroup_id#80", "r1 = r0", "r0 = 0", "if r1 != " + id + " goto pc+1", "r0 = 1", "exit");
        engine.attach("p", p, AttachType.CGROUP_DEVICE, MULTI, null);
        assertTrue(engine.device("p/q", new Probe.DeviceAccess('c', 1, 3, "r")), "the task is in p/q, where the program is not attached");
        assertFalse(engine.device("p", new Probe.DeviceAccess('c', 1, 3, "r")));
    }

    @Test
    void setRetvalChangesTheErrnoAndOtherErrnosCountAsAllowed() throws Exception {
        // set_retval(-EACCES) then return 0: the errno stays EACCES (the kernel only puts EPERM over a non-error)
        LoadedProg p = load("eacces", ProgType.CGROUP_DEVICE, AttachType.CGROUP_DEVICE,
                "r1 = -13", "call bpf_set_retval#187", "r0 = 0", "exit");
        engine.attach("", p, AttachType.CGROUP_DEVICE, MULTI, null);
        assertTrue(engine.device("", new Probe.DeviceAccess('c', 1, 3, "r")), "EACCES is not EPERM");
        LoadedProg sock = load("sk-eacces", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE,
                "r1 = -13", "call bpf_set_retval#187", "r0 = 1", "exit");
        engine.attach("", sock, AttachType.CGROUP_INET_SOCK_CREATE, MULTI, null);
        assertEquals("EACCES", errno(() -> engine.socket("", Probe.Family.INET, Probe.SockType.STREAM, 0)),
                "a retval set by a program stands even when it returns 1");
    }

    // ---------------------------------------------------------------- socket

    @Test
    void sockCreateSetsFieldsOrRefuses() throws Exception {
        LoadedProg set = load("set", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE,
                "r2 = 1", "*(u32 *)(r1 +0) = r2", "r2 = 77", "*(u32 *)(r1 +16) = r2", "r2 = 5", "*(u32 *)(r1 +20) = r2",
                "r0 = 1", "exit");
        engine.mkdir("s");
        assertEquals(new Probe.SocketInfo(0, 0, 0), engine.socket("s", Probe.Family.INET, Probe.SockType.STREAM, 0));
        engine.attach("s", set, AttachType.CGROUP_INET_SOCK_CREATE, MULTI, null);
        assertEquals(new Probe.SocketInfo(1, 77, 5), engine.socket("s", Probe.Family.INET6, Probe.SockType.DGRAM, 0));
        // only inet6 raw sockets: family at offset 4
        LoadedProg noRaw6 = load("noraw6", ProgType.CGROUP_SOCK, null,
                "r2 = *(u32 *)(r1 +4)", "r3 = *(u32 *)(r1 +8)", "r0 = 1", "if r2 != 0xa goto pc+2", "if r3 != 0x3 goto pc+1", "r0 = 0", "exit");
        engine.attach("s", noRaw6, AttachType.CGROUP_INET_SOCK_CREATE, MULTI, null);
        assertEquals("EPERM", errno(() -> engine.socket("s", Probe.Family.INET6, Probe.SockType.RAW, 58)));
        engine.socket("s", Probe.Family.INET, Probe.SockType.RAW, 255);
        assertEquals("EPROTONOSUPPORT", errno(() -> engine.socket("s", Probe.Family.INET, Probe.SockType.RAW, 0)));
        assertEquals("EPROTONOSUPPORT", errno(() -> engine.socket("s", Probe.Family.INET, Probe.SockType.STREAM, 17)));
    }

    /** The kernel (6.18) refuses both at load; the opposite hook takes each. */
    @Test
    void sockCreateMayNotReadSrcPortAndPostBindMayNotWriteMark() throws Exception {
        String[] readPort = {"r0 = *(u32 *)(r1 +44)", "r0 = 1", "exit"};
        String[] writeMark = {"r2 = 1", "*(u32 *)(r1 +16) = r2", "r0 = 1", "exit"};
        assertRefused("invalid bpf_context access off=44 size=4",
                () -> load("rp", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, readPort));
        assertRefused("invalid bpf_context access off=16 size=4",
                () -> load("wm", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND, writeMark));
        load("rp", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND, readPort);
        load("wm", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, writeMark);
    }

    /** A load the verifier refuses with EACCES and {@code reason} as the log's last line. */
    private static void assertRefused(String reason, Executable load) {
        BpfException e = assertThrows(BpfException.class, load::run);
        assertEquals("EACCES", e.errno(), e.getMessage());
        assertEquals(reason, e.logReason());
    }

    // ---------------------------------------------------------------- bind

    @Test
    void bindReturnValuesAndRewrites() throws Exception {
        engine.mkdir("b");
        assertEquals(new Probe.Bound(ip("127.0.0.9"), 0), engine.bind("b", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.9"), 0));
        LoadedProg three = ret(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND, 3);
        engine.attach("b", three, AttachType.CGROUP_INET4_BIND, MULTI, null);
        assertEquals(new Probe.Bound(ip("127.0.0.1"), 4000), engine.bind("b", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 4000),
                "3 allows (bit 1: no CAP_NET_BIND_SERVICE check)");
        LoadedProg port = load("port", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND,
                "*(u32 *)(r1 +24) = " + (nport(4243) | 0x10000), "r0 = 1", "exit");
        engine.attach("b", port, AttachType.CGROUP_INET4_BIND, MULTI, null);
        assertEquals(new Probe.Bound(ip("127.0.0.1"), 4243), engine.bind("b", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.1"), 0),
                "a program's port counts; the upper 16 bits of the write are dropped");
        LoadedProg away = load("away", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND,
                "*(u32 *)(r1 +4) = " + le("10.1.1.1"), "r0 = 1", "exit");
        engine.attach("b", away, AttachType.CGROUP_INET4_BIND, MULTI, null);
        assertEquals("EADDRNOTAVAIL", errno(() -> engine.bind("b", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 0)));
        engine.detach("b", AttachType.CGROUP_INET4_BIND, away);
        LoadedProg mcast = load("mcast", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND,
                "*(u32 *)(r1 +4) = " + le("224.0.0.1"), "r0 = 1", "exit");
        engine.attach("b", mcast, AttachType.CGROUP_INET4_BIND, MULTI, null);
        assertEquals(new Probe.Bound(ip("224.0.0.1"), 4243), engine.bind("b", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 0));
        LoadedProg two = ret(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND, 2);
        engine.attach("b", two, AttachType.CGROUP_INET4_BIND, MULTI, null);
        assertEquals("EPERM", errno(() -> engine.bind("b", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 0)),
                "2 has bit 0 clear: refused");
    }

    @Test
    void bind6TakesV4MappedAndRefusesScopedAndForeign() throws Exception {
        String[] mapped = words6("::ffff:127.0.0.1");
        LoadedProg toMapped = load("mapped", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND,
                "*(u32 *)(r1 +8) = " + mapped[0], "*(u32 *)(r1 +12) = " + mapped[1], "*(u32 *)(r1 +16) = " + mapped[2],
                "*(u32 *)(r1 +20) = " + mapped[3], "r0 = 1", "exit");
        engine.mkdir("six");
        engine.attach("six", toMapped, AttachType.CGROUP_INET6_BIND, MULTI, null);
        assertEquals(new Probe.Bound(ip("127.0.0.1"), 0), engine.bind("six", Probe.Family.INET6, Probe.Proto.TCP, ip("::"), 0));
        engine.detach("six", AttachType.CGROUP_INET6_BIND, toMapped);
        for (String[] c : new String[][] {{"fe80::1", "EINVAL"}, {"ff02::1", "EINVAL"}, {"fd00::99", "EADDRNOTAVAIL"},
                {"::ffff:10.1.1.1", "EADDRNOTAVAIL"}}) {
            String[] w = words6(c[0]);
            LoadedProg p = load("to", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND,
                    "*(u32 *)(r1 +8) = " + w[0], "*(u32 *)(r1 +12) = " + w[1], "*(u32 *)(r1 +16) = " + w[2],
                    "*(u32 *)(r1 +20) = " + w[3], "r0 = 1", "exit");
            engine.attach("six", p, AttachType.CGROUP_INET6_BIND, MULTI, null);
            assertEquals(c[1], errno(() -> engine.bind("six", Probe.Family.INET6, Probe.Proto.UDP, ip("::1"), 0)), c[0]);
            engine.detach("six", AttachType.CGROUP_INET6_BIND, p);
        }
    }

    private static String[] words6(String addr) throws Exception {
        byte[] b = InetAddress.getByName(addr).getAddress();
        if (b.length == 4) {
            byte[] m = new byte[16];
            m[10] = (byte) 0xff;
            m[11] = (byte) 0xff;
            System.arraycopy(b, 0, m, 12, 4);
            b = m;
        }
        String[] out = new String[4];
        for (int i = 0; i < 4; i++) {
            out[i] = Integer.toString((b[4 * i] & 0xff) | (b[4 * i + 1] & 0xff) << 8 | (b[4 * i + 2] & 0xff) << 16
                    | (b[4 * i + 3] & 0xff) << 24);
        }
        return out;
    }

    @Test
    void bindConflictsWithListenersAndPostBindRefusal() throws Exception {
        engine.listen(ip("127.0.0.1"), 5201, Probe.Proto.TCP);
        assertEquals("EADDRINUSE", errno(() -> engine.bind("", Probe.Family.INET, Probe.Proto.TCP, ip("0.0.0.0"), 5201)));
        assertEquals("EADDRINUSE", errno(() -> engine.bind("", Probe.Family.INET6, Probe.Proto.TCP, ip("::"), 5201)));
        engine.bind("", Probe.Family.INET6, Probe.Proto.TCP, ip("::1"), 5201);
        engine.bind("", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.1"), 5201);
        engine.bind("", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.2"), 5201);
        assertEquals("EADDRINUSE", errno(() -> engine.listen(ip("127.0.0.1"), 5201, Probe.Proto.TCP)));
        // post_bind sees the bound port in host order and refuses 5202
        LoadedProg pb = load("pb", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND,
                "r2 = *(u32 *)(r1 +44)", "r0 = 1", "if r2 != 0x1452 goto pc+1", "r0 = 0", "exit");
        engine.attach("", pb, AttachType.CGROUP_INET4_POST_BIND, MULTI, null);
        assertEquals("EPERM", errno(() -> engine.bind("", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.1"), 5202)));
        engine.bind("", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.1"), 5203);
        engine.detach("", AttachType.CGROUP_INET4_POST_BIND, pb);
        assertEquals(new Probe.Bound(ip("127.0.0.1"), 5202), engine.bind("", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.1"), 5202));
    }

    // ---------------------------------------------------------------- connect

    @Test
    void connectRewritesAndBpfBind() throws Exception {
        engine.listen(ip("127.0.0.2"), 5201, Probe.Proto.TCP);
        assertEquals("ECONNREFUSED", errno(() -> engine.connect("", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 5201)));
        assertEquals(new Probe.Connected(ip("127.0.0.5"), 9, ip("127.0.0.1")),
                engine.connect("", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.5"), 9), "udp needs no listener");
        LoadedProg redirect = load("redirect", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT,
                "*(u32 *)(r1 +4) = " + le("127.0.0.2"),
                // bpf_bind(ctx, {AF_INET, port 0, 127.0.0.3}, 16)
                "*(u32 *)(r10 -16) = 2", "*(u32 *)(r10 -12) = " + le("127.0.0.3"), "*(u32 *)(r10 -8) = 0", "*(u32 *)(r10 -4) = 0",
                "r2 = r10", "r2 += -16", "r3 = 16", "call bpf_bind#64", "r0 = 1", "exit");
        engine.attach("", redirect, AttachType.CGROUP_INET4_CONNECT, MULTI, null);
        assertEquals(new Probe.Connected(ip("127.0.0.2"), 5201, ip("127.0.0.3")),
                engine.connect("", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 5201));
        // an inet6 socket to a v4-mapped destination runs the connect6 programs, not connect4
        engine.listen(ip("127.0.0.1"), 5300, Probe.Proto.TCP);
        assertEquals(new Probe.Connected(ip("127.0.0.1"), 5300, ip("127.0.0.1")),
                engine.connect("", Probe.Family.INET6, Probe.Proto.TCP, ip("::ffff:127.0.0.1"), 5300));
        LoadedProg deny6 = ret(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT, 0);
        engine.attach("", deny6, AttachType.CGROUP_INET6_CONNECT, MULTI, null);
        assertEquals("EPERM", errno(() -> engine.connect("", Probe.Family.INET6, Probe.Proto.TCP, ip("::ffff:127.0.0.1"), 5300)));
    }

    @Test
    void bpfBindReturnsErrnosToTheProgram() throws Exception {
        // the program returns 1 only when bpf_bind to 10.1.1.1 answered -EADDRNOTAVAIL (-99)
        LoadedProg p = load("bb", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT,
                "*(u32 *)(r10 -16) = 2", "*(u32 *)(r10 -12) = " + le("10.1.1.1"), "*(u32 *)(r10 -8) = 0", "*(u32 *)(r10 -4) = 0",
                "r2 = r10", "r2 += -16", "r3 = 16", "call bpf_bind#64", "r1 = r0", "r0 = 0",
                "if r1 != -99 goto pc+1", "r0 = 1", "exit");
        engine.attach("", p, AttachType.CGROUP_INET4_CONNECT, MULTI, null);
        assertEquals(new Probe.Connected(ip("127.0.0.1"), 53, ip("127.0.0.1")),
                engine.connect("", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.1"), 53));
    }

    @Test
    void connectPortZero() throws Exception {
        LoadedProg zero = load("zero", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT,
                "*(u32 *)(r1 +24) = 0", "r0 = 1", "exit");
        engine.attach("", zero, AttachType.CGROUP_INET4_CONNECT, MULTI, null);
        assertEquals("ECONNREFUSED", errno(() -> engine.connect("", Probe.Family.INET, Probe.Proto.TCP, ip("127.0.0.1"), 80)));
        assertEquals("ENOTCONN", errno(() -> engine.connect("", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.1"), 80)));
    }

    // ---------------------------------------------------------------- sendmsg

    @Test
    void sendmsgDeliveryAndRewrites() throws Exception {
        engine.listen(ip("127.0.0.1"), 5001, Probe.Proto.UDP);
        engine.listen(ip("127.0.0.2"), 5001, Probe.Proto.UDP);
        engine.listen(ip("::1"), 5001, Probe.Proto.UDP);
        engine.listen(ip("127.0.0.1"), 5002, Probe.Proto.UDP);
        assertEquals(new Probe.Delivered(ip("127.0.0.1"), 5001, ip("127.0.0.1")),
                engine.sendmsg("", Probe.Family.INET, ip("127.0.0.1"), 5001, null));
        assertEquals(new Probe.Delivered(ip("127.0.0.1"), 5001, ip("127.0.0.7")),
                engine.sendmsg("", Probe.Family.INET, ip("127.0.0.1"), 5001, ip("127.0.0.7")));
        assertEquals("ETIMEDOUT", errno(() -> engine.sendmsg("", Probe.Family.INET, ip("127.0.0.1"), 5009, null)));
        assertEquals(new Probe.Delivered(ip("::1"), 5001, ip("::1")), engine.sendmsg("", Probe.Family.INET6, ip("::1"), 5001, null));
        LoadedProg src = load("src", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG,
                "*(u32 *)(r1 +40) = " + le("127.0.0.8"), "*(u32 *)(r1 +4) = " + le("127.0.0.2"), "r0 = 1", "exit");
        engine.attach("", src, AttachType.CGROUP_UDP4_SENDMSG, MULTI, null);
        assertEquals(new Probe.Delivered(ip("127.0.0.2"), 5001, ip("127.0.0.8")),
                engine.sendmsg("", Probe.Family.INET, ip("127.0.0.1"), 5001, null));
        // inet6 to a v4-mapped address goes through udp_sendmsg and the sendmsg4 programs
        assertEquals(new Probe.Delivered(ip("127.0.0.2"), 5001, ip("127.0.0.8")),
                engine.sendmsg("", Probe.Family.INET6, ip("::ffff:127.0.0.1"), 5001, null));
        engine.detach("", AttachType.CGROUP_UDP4_SENDMSG, src);
        LoadedProg far = load("far", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG,
                "*(u32 *)(r1 +40) = " + le("10.1.1.1"), "r0 = 1", "exit");
        engine.attach("", far, AttachType.CGROUP_UDP4_SENDMSG, MULTI, null);
        assertEquals("ENETUNREACH", errno(() -> engine.sendmsg("", Probe.Family.INET, ip("127.0.0.1"), 5001, null)));
        engine.detach("", AttachType.CGROUP_UDP4_SENDMSG, far);
        LoadedProg mc = load("mc", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG,
                "*(u32 *)(r1 +40) = " + le("224.0.0.1"), "r0 = 1", "exit");
        engine.attach("", mc, AttachType.CGROUP_UDP4_SENDMSG, MULTI, null);
        assertEquals("EINVAL", errno(() -> engine.sendmsg("", Probe.Family.INET, ip("127.0.0.1"), 5001, null)));
        engine.detach("", AttachType.CGROUP_UDP4_SENDMSG, mc);
        LoadedProg port0 = load("p0", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG,
                "*(u32 *)(r1 +24) = 0", "r0 = 1", "exit");
        engine.attach("", port0, AttachType.CGROUP_UDP4_SENDMSG, MULTI, null);
        assertEquals("EINVAL", errno(() -> engine.sendmsg("", Probe.Family.INET, ip("127.0.0.1"), 5001, null)));
    }

    @Test
    void sendmsg6Rules() throws Exception {
        engine.listen(ip("::1"), 5001, Probe.Proto.UDP);
        engine.listen(ip("127.0.0.1"), 5001, Probe.Proto.UDP);
        assertEquals("EINVAL", errno(() -> engine.sendmsg("", Probe.Family.INET6, ip("::1"), 5001, ip("::ffff:127.0.0.1"))),
                "IPV6_PKTINFO with a v4-mapped source");
        String[] w = words6("fd00::99");
        LoadedProg foreignSrc = load("fs", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG,
                "*(u32 *)(r1 +44) = " + w[0], "*(u32 *)(r1 +48) = " + w[1], "*(u32 *)(r1 +52) = " + w[2],
                "*(u32 *)(r1 +56) = " + w[3], "r0 = 1", "exit");
        engine.attach("", foreignSrc, AttachType.CGROUP_UDP6_SENDMSG, MULTI, null);
        assertEquals(new Probe.Delivered(ip("::1"), 5001, ip("fd00::99")), engine.sendmsg("", Probe.Family.INET6, ip("::1"), 5001, null),
                "observed: the kernel sends from the IPv6 source a program wrote");
        engine.detach("", AttachType.CGROUP_UDP6_SENDMSG, foreignSrc);
        String[] m = words6("::ffff:127.0.0.1");
        LoadedProg toMapped = load("tm", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG,
                "*(u32 *)(r1 +8) = " + m[0], "*(u32 *)(r1 +12) = " + m[1], "*(u32 *)(r1 +16) = " + m[2],
                "*(u32 *)(r1 +20) = " + m[3], "r0 = 1", "exit");
        engine.attach("", toMapped, AttachType.CGROUP_UDP6_SENDMSG, MULTI, null);
        assertEquals("ENOTSUPP", errno(() -> engine.sendmsg("", Probe.Family.INET6, ip("::1"), 5001, null)));
        LoadedProg deny6 = ret(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG, 0);
        engine.attach("", deny6, AttachType.CGROUP_UDP6_SENDMSG, MULTI, null);
        assertEquals(new Probe.Delivered(ip("127.0.0.1"), 5001, ip("127.0.0.1")),
                engine.sendmsg("", Probe.Family.INET6, ip("::ffff:127.0.0.1"), 5001, null), "sendmsg6 programs do not see v4-mapped sends");
    }

    @Test
    void sockAddrContextAccessRules() throws Exception {
        List<String[]> refused = new ArrayList<>();
        refused.add(new String[] {"r0 = *(u32 *)(r1 +8)", "off=8 size=4"});        // user_ip6 in a v4 hook
        refused.add(new String[] {"*(u32 *)(r1 +0) = 2", "off=0 size=4"});         // user_family is read-only
        refused.add(new String[] {"r0 = *(u16 *)(r1 +28)", "off=28 size=2"});      // family: 4 bytes only
        refused.add(new String[] {"r0 = *(u32 *)(r1 +40)", "off=40 size=4"});      // msg_src_ip4 outside sendmsg4
        refused.add(new String[] {"*(u16 *)(r1 +24) = 1", "off=24 size=2"});       // user_port writes are words
        // the kernel (6.18) refuses each at load
        for (String[] c : refused) {
            assertRefused("invalid bpf_context access " + c[1],
                    () -> load("bad", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT, c[0], "r0 = 1", "exit"));
        }
        // allowed: narrow reads of user_ip4 and user_port; the sk pointer leads to bpf_sock (protocol 17)
        LoadedProg ok = load("ok", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT,
                "r2 = *(u8 *)(r1 +4)", "r3 = *(u16 *)(r1 +24)", "r4 = *(u64 *)(r1 +64)", "r5 = *(u32 *)(r4 +12)",
                "r0 = 0", "if r2 != 0x7f goto pc+4", "if r3 != " + nport(9) + " goto pc+3", "if r5 != 0x11 goto pc+2",
                "r0 = 1", "exit", "exit");
        engine.attach("", ok, AttachType.CGROUP_INET4_CONNECT, MULTI, null);
        engine.connect("", Probe.Family.INET, Probe.Proto.UDP, ip("127.0.0.1"), 9);
        // wide 8-byte access to user_ip6 in a v6 hook
        LoadedProg wide = load("wide", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT,
                "r2 = *(u64 *)(r1 +16)", "r0 = 0", "if r2 == 0x0 goto pc+1", "r0 = 1", "exit");
        engine.attach("", wide, AttachType.CGROUP_INET6_CONNECT, MULTI, null);
        engine.connect("", Probe.Family.INET6, Probe.Proto.UDP, ip("::1"), 9);
    }
}
