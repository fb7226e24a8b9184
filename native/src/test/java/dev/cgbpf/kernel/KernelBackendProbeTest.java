package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.Probe.DeviceAccess;
import dev.cgbpf.engine.backend.Probe.Family;
import dev.cgbpf.engine.backend.Probe.Proto;
import dev.cgbpf.engine.backend.ProgType;
import java.net.InetAddress;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The probes of {@link KernelBackend}: what a task in a scenario cgroup experiences. */
class KernelBackendProbeTest {
    static final Set<AttachFlag> NONE = Set.of();
    static InetAddress lo;
    static InetAddress lo6;

    KernelBackend b;
    /** Ports outside the ephemeral range, different for each test run. */
    int port;

    @BeforeAll
    static void kernel() throws Exception {
        KernelRequired.check();
        lo = InetAddress.getByName("127.0.0.1");
        lo6 = InetAddress.getByName("::1");
    }

    @BeforeEach
    void open() throws BpfException {
        b = KernelBackend.openScenario();
        b.mkdir("c");
        port = 20000 + 10 * ThreadLocalRandom.current().nextInt(1000);
    }

    @AfterEach
    void close() {
        b.close();
    }

    static String errno(KernelBackendCgroupTest.ThrowingOp op) {
        return KernelBackendCgroupTest.errno(op);
    }

    /** A cgroup_sock_addr program that rewrites user_port to {@code newPort}. */
    LoadedProg portRewrite(AttachType type, int newPort) throws BpfException {
        int be = ((newPort & 0xff) << 8) | (newPort >> 8);
        return Progs.load(b, "rw", ProgType.CGROUP_SOCK_ADDR, type,
                "r2 = " + be, "*(u32 *)(r1 +24) = r2", "r0 = 1", "exit");
    }

    LoadedProg refusing(ProgType t, AttachType type) throws BpfException {
        return Progs.load(b, "no", t, type, "r0 = 0", "exit");
    }

    // ---- device ----

    @Test
    void deviceChecksRunInTheCgroup() throws Exception {
        DeviceAccess nullR = new DeviceAccess('c', 1, 3, "r");
        assertTrue(b.device("c", nullR));
        b.attach("c", Progs.device(b, "deny", 0), AttachType.CGROUP_DEVICE, NONE, null);
        assertFalse(b.device("c", nullR));
        assertFalse(b.device("c", new DeviceAccess('c', 1, 3, "m")));
        assertFalse(b.device("c", new DeviceAccess('b', 8, 0, "rw")));
        assertTrue(b.device("", nullR), "the parent is not restricted");
    }

    @Test
    void mknodAndOpenAreSeparateChecks() throws Exception {
        // deny only BPF_DEVCG_ACC_MKNOD (1 in the upper half of access_type)
        LoadedProg noMknod = Progs.load(b, "nomknod", ProgType.CGROUP_DEVICE, null,
                "r2 = *(u32 *)(r1 +0)", "r2 >>= 16", "if r2 == 0x1 goto pc+2", "r0 = 1", "exit", "r0 = 0", "exit");
        b.attach("c", noMknod, AttachType.CGROUP_DEVICE, NONE, null);
        assertTrue(b.device("c", new DeviceAccess('c', 1, 5, "rw")));
        assertFalse(b.device("c", new DeviceAccess('c', 1, 5, "m")));
        assertFalse(b.device("c", new DeviceAccess('c', 1, 5, "rwm")));
    }

    @Test
    void aDeviceWithoutDriverIsJudgedByThePolicyAlone() throws Exception {
        DeviceAccess absent = new DeviceAccess('c', 240, 7, "rw");
        assertTrue(b.device("c", absent));
        b.attach("c", Progs.device(b, "deny", 0), AttachType.CGROUP_DEVICE, NONE, null);
        assertFalse(b.device("c", absent));
    }

    /**
     * Device 0:0: the kernel skips the cgroup check for a char 0:0 mknod (the overlayfs whiteout)
     * and inode_permission skips it for a node whose rdev is 0, so a deny-all program cannot
     * refuse those; but a block device's open is checked again by blkdev_open, whatever its rdev.
     */
    @Test
    void deviceZeroZeroEscapesTheCheckExceptForABlockMknod() throws Exception {
        b.attach("c", Progs.device(b, "deny", 0), AttachType.CGROUP_DEVICE, NONE, null);
        assertTrue(b.device("c", new DeviceAccess('c', 0, 0, "m")));
        assertFalse(b.device("c", new DeviceAccess('b', 0, 0, "m")));
        assertTrue(b.device("c", new DeviceAccess('c', 0, 0, "rw")));
        assertFalse(b.device("c", new DeviceAccess('b', 0, 0, "r")));
    }

    // ---- socket ----

    @Test
    void socketShowsWhatSockCreateProgramsSet() throws Exception {
        assertEquals(new Probe.SocketInfo(0, 0, 0), b.socket("c", Family.INET, Probe.SockType.STREAM, 0));
        LoadedProg set = Progs.load(b, "set", ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE,
                "r2 = 1", "*(u32 *)(r1 +0) = r2", "r2 = 42", "*(u32 *)(r1 +16) = r2", "r2 = 6",
                "*(u32 *)(r1 +20) = r2", "r0 = 1", "exit");
        b.attach("c", set, AttachType.CGROUP_INET_SOCK_CREATE, NONE, null);
        assertEquals(new Probe.SocketInfo(1, 42, 6), b.socket("c", Family.INET6, Probe.SockType.DGRAM, 0));
        assertEquals(new Probe.SocketInfo(0, 0, 0), b.socket("", Family.INET, Probe.SockType.STREAM, 0));
        b.detach("c", AttachType.CGROUP_INET_SOCK_CREATE, null);
        b.attach("c", refusing(ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE),
                AttachType.CGROUP_INET_SOCK_CREATE, NONE, null);
        assertEquals("EPERM", errno(() -> b.socket("c", Family.INET, Probe.SockType.STREAM, 0)));
        assertEquals("EPROTONOSUPPORT", errno(() -> b.socket("", Family.INET, Probe.SockType.RAW, 0)));
    }

    // ---- bind ----

    @Test
    void bindReportsWhereTheSocketEndedUp() throws Exception {
        assertEquals(new Probe.Bound(lo, 0), b.bind("c", Family.INET, Proto.TCP, lo, 0));
        assertEquals(new Probe.Bound(lo, port), b.bind("c", Family.INET, Proto.UDP, lo, port));
        Probe.Bound six = b.bind("c", Family.INET6, Proto.TCP, lo6, 0);
        assertEquals(lo6, six.addr());
        assertEquals(0, six.port());
        b.attach("c", portRewrite(AttachType.CGROUP_INET4_BIND, port + 1), AttachType.CGROUP_INET4_BIND, NONE, null);
        assertEquals(new Probe.Bound(lo, port + 1), b.bind("c", Family.INET, Proto.TCP, lo, 0));
        b.listen(lo, port + 1, Proto.TCP);
        assertEquals("EADDRINUSE", errno(() -> b.bind("c", Family.INET, Proto.TCP, lo, 0)));
        assertEquals("EADDRINUSE", errno(() -> b.bind("", Family.INET, Proto.TCP, lo, port + 1)));
    }

    @Test
    void bindRefusedOrRewrittenToAForeignAddress() throws Exception {
        b.mkdir("d");
        b.attach("c", refusing(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND),
                AttachType.CGROUP_INET4_BIND, NONE, null);
        assertEquals("EPERM", errno(() -> b.bind("c", Family.INET, Proto.UDP, lo, 0)));
        // 10.1.2.3 in network order, as user_ip4 holds it
        LoadedProg away = Progs.load(b, "away", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND,
                "r2 = 0x302010a", "*(u32 *)(r1 +4) = r2", "r0 = 1", "exit");
        b.attach("d", away, AttachType.CGROUP_INET4_BIND, NONE, null);
        assertEquals("EADDRNOTAVAIL", errno(() -> b.bind("d", Family.INET, Proto.UDP, lo, 0)));
    }

    // ---- connect ----

    @Test
    void connectGoesWhereProgramsSendIt() throws Exception {
        b.listen(lo, port, Proto.TCP);
        assertEquals(new Probe.Connected(lo, port, lo), b.connect("c", Family.INET, Proto.TCP, lo, port));
        assertEquals("ECONNREFUSED", errno(() -> b.connect("c", Family.INET, Proto.TCP, lo, port + 2)));
        b.attach("c", portRewrite(AttachType.CGROUP_INET4_CONNECT, port), AttachType.CGROUP_INET4_CONNECT, NONE, null);
        assertEquals(new Probe.Connected(lo, port, lo), b.connect("c", Family.INET, Proto.TCP, lo, port + 2));
        // UDP: a connected datagram socket, no listener needed
        assertEquals(new Probe.Connected(lo, port, lo), b.connect("c", Family.INET, Proto.UDP, lo, port + 3));
        b.detach("c", AttachType.CGROUP_INET4_CONNECT, null);
        b.attach("c", refusing(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT),
                AttachType.CGROUP_INET4_CONNECT, NONE, null);
        assertEquals("EPERM", errno(() -> b.connect("c", Family.INET, Proto.TCP, lo, port)));
        b.listen(lo6, port, Proto.TCP);
        assertEquals(new Probe.Connected(lo6, port, lo6), b.connect("c", Family.INET6, Proto.TCP, lo6, port));
    }

    @Test
    /**
     * An egress program that drops the SYN does not fail connect(2): the kernel retransmits for
     * minutes. The probe gives up after 2 s with ETIMEDOUT, the errno the kernel ends with.
     */
    void connectWhoseHandshakeIsDroppedTimesOut() throws Exception {
        b.listen(lo, port, Proto.TCP);
        b.attach("c", refusing(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS), AttachType.CGROUP_INET_EGRESS,
                NONE, null);
        long t = System.nanoTime();
        String e = errno(() -> b.connect("c", Family.INET, Proto.TCP, lo, port));
        long ms = (System.nanoTime() - t) / 1_000_000;
        assertEquals("ETIMEDOUT", e);
        assertTrue(ms >= KernelBackend.DELIVERY_TIMEOUT_MS && ms < 3 * KernelBackend.DELIVERY_TIMEOUT_MS, ms + " ms");
    }

    // ---- sendmsg ----

    @Test
    void sendmsgArrivesWithTheSourceTheReceiverSees() throws Exception {
        b.listen(lo, port, Proto.UDP);
        b.listen(lo, port + 1, Proto.UDP);
        assertEquals(new Probe.Delivered(lo, port, lo), b.sendmsg("c", Family.INET, lo, port, null));
        InetAddress src = InetAddress.getByName("127.0.0.5");
        assertEquals(new Probe.Delivered(lo, port + 1, src), b.sendmsg("c", Family.INET, lo, port + 1, src));
        b.attach("c", portRewrite(AttachType.CGROUP_UDP4_SENDMSG, port + 1), AttachType.CGROUP_UDP4_SENDMSG,
                NONE, null);
        assertEquals(new Probe.Delivered(lo, port + 1, lo), b.sendmsg("c", Family.INET, lo, port, null));
        assertEquals(new Probe.Delivered(lo, port, lo), b.sendmsg("", Family.INET, lo, port, null));
    }

    @Test
    void sendmsgRefusedOrLost() throws Exception {
        b.listen(lo, port, Proto.UDP);
        assertEquals("ETIMEDOUT", errno(() -> b.sendmsg("c", Family.INET, lo, port + 5, null)));
        b.attach("c", refusing(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG),
                AttachType.CGROUP_UDP4_SENDMSG, NONE, null);
        assertEquals("EPERM", errno(() -> b.sendmsg("c", Family.INET, lo, port, null)));
        b.listen(lo6, port, Proto.UDP);
        assertEquals(new Probe.Delivered(lo6, port, lo6), b.sendmsg("c", Family.INET6, lo6, port, null));
    }

    @Test
    void listenTwiceOnOneAddressIsEaddrinuse() throws Exception {
        b.listen(lo, port, Proto.TCP);
        assertEquals("EADDRINUSE", errno(() -> b.listen(lo, port, Proto.TCP)));
        b.listen(lo, port, Proto.UDP);
        assertEquals("EADDRINUSE", errno(() -> b.listen(lo, port, Proto.UDP)));
    }

    @Test
    void aProbeInAMissingCgroupIsEnoent() {
        assertEquals("ENOENT", errno(() -> b.socket("nope", Family.INET, Probe.SockType.STREAM, 0)));
        assertEquals("ENOENT", errno(() -> b.device("nope", new DeviceAccess('c', 1, 3, "r"))));
    }
}
