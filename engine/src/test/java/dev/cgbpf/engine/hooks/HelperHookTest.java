package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.EngineBackend;
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
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupTree;
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cgroup helpers on the engine's hooks: ECN marking, socket cookies, cgroup ancestors. */
class HelperHookTest {
    private final EngineBackend engine = new EngineBackend();
    private final BpfMap out;

    HelperHookTest() throws BpfException {
        out = engine.createMap(new MapSpec("out", MapType.ARRAY, 4, 8, 4, 0));
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private LoadedProg load(ProgType type, AttachType attach, String... lines) throws BpfException {
        return engine.load(new LoadRequest("p", type, attach,
                new Assembler(n -> out.fd()).assemble(List.of(lines)), "GPL", 0));
    }

    /** Stores r0 in slot {@code slot}, then returns 1. */
    private static String[] record(int slot) {
        return new String[] {"*(u64 *)(r10 -8) = r0", "*(u32 *)(r10 -12) = " + slot, "r1 = map[out]", "r2 = r10",
            "r2 += -12", "r3 = r10", "r3 += -8", "r4 = 0", "call bpf_map_update_elem#2", "r0 = 1", "exit"};
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private long slot(int i) throws BpfException {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(i).array();
        return ByteBuffer.wrap(engine.lookup(out, key)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** ecn_set_ce's answer in slot 0 and the packet's first 12 bytes after it in slots 1 and 2. */
    private void ecn(byte[] frame) throws BpfException {
        LoadedProg p = load(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS, concat(new String[] {
            "r6 = r1", "r1 = r6", "call bpf_skb_ecn_set_ce#97", "*(u64 *)(r10 -24) = r0",
            "r1 = r6", "r2 = 0", "r3 = r10", "r3 += -40", "r4 = 16", "r5 = 1", "call bpf_skb_load_bytes_relative#68",
            "r0 = *(u64 *)(r10 -40)", "*(u64 *)(r10 -8) = r0", "*(u32 *)(r10 -12) = 1", "r1 = map[out]", "r2 = r10",
            "r2 += -12", "r3 = r10", "r3 += -8", "r4 = 0", "call bpf_map_update_elem#2",
            "r0 = *(u64 *)(r10 -32)", "*(u64 *)(r10 -8) = r0", "*(u32 *)(r10 -12) = 2", "r1 = map[out]", "r2 = r10",
            "r2 += -12", "r3 = r10", "r3 += -8", "r4 = 0", "call bpf_map_update_elem#2",
            "r0 = *(u64 *)(r10 -24)"}, record(0)));
        assertEquals(1, engine.testRun(p, new TestRun.Request(frame, 1)).retval());
    }

    private static byte[] ipv4(int tos, int check) {
        byte[] f = new byte[34];
        f[12] = 0x08;
        f[14] = 0x45;
        f[15] = (byte) tos;
        f[24] = (byte) (check >>> 8);
        f[25] = (byte) check;
        return f;
    }

    @Test
    void ecnSetCeMarksEcnCapableIpv4AndFixesTheChecksum() throws BpfException {
        ecn(ipv4(0x01, 0x1234)); // ECT(1): check + 0xfffd in one's complement
        assertEquals(1, slot(0));
        assertEquals(0x03, (slot(1) >>> 8) & 0xff);
        assertEquals(0x1232, Short.reverseBytes((short) (slot(2) >>> 16)) & 0xffff);
        ecn(ipv4(0x00, 0x1234)); // Not-ECT: unchanged
        assertEquals(0, slot(0));
        assertEquals(0x00, (slot(1) >>> 8) & 0xff);
        ecn(ipv4(0xb3, 0x1234)); // already CE: 1, unchanged
        assertEquals(1, slot(0));
        assertEquals(0xb3, (slot(1) >>> 8) & 0xff);
        assertEquals(0x1234, Short.reverseBytes((short) (slot(2) >>> 16)) & 0xffff);
    }

    @Test
    void ecnSetCeMarksIpv6InTheTrafficClass() throws BpfException {
        byte[] f = new byte[54];
        f[12] = (byte) 0x86;
        f[13] = (byte) 0xdd;
        f[14] = 0x60;
        f[15] = 0x20; // traffic class 0x02: ECT(0)
        ecn(f);
        assertEquals(1, slot(0));
        assertEquals(0x30, (slot(1) >>> 8) & 0xff);
        f[15] = 0x00;
        ecn(f);
        assertEquals(0, slot(0));
        byte[] arp = new byte[60];
        arp[12] = 0x08;
        arp[13] = 0x06;
        ecn(arp);
        assertEquals(0, slot(0), "not IP");
    }

    @Test
    void aSocketKeepsItsCookieAcrossHooksAndTheNextSocketGetsAnother() throws Exception {
        engine.mkdir("c");
        engine.attach("c", load(ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE,
                concat(new String[] {"call bpf_get_socket_cookie#46"}, record(0))), AttachType.CGROUP_INET_SOCK_CREATE,
                Set.of(), null);
        engine.attach("c", load(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT,
                concat(new String[] {"call bpf_get_socket_cookie#46"}, record(1))), AttachType.CGROUP_INET4_CONNECT,
                Set.of(), null);
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        engine.listen(lo, 9000, Probe.Proto.UDP);
        engine.connect("c", Probe.Family.INET, Probe.Proto.UDP, lo, 9000);
        long first = slot(0);
        assertTrue(first != 0);
        assertEquals(first, slot(1), "the socket the connect programs see is the one sock_create saw");
        engine.connect("c", Probe.Family.INET, Probe.Proto.UDP, lo, 9000);
        assertNotEquals(first, slot(0));
    }

    @Test
    void cgroupAncestorsCountFromTheRootAtLevelZero() throws BpfException {
        CgroupTree tree = new CgroupTree();
        Cgroup a = tree.mkdir("a");
        Cgroup b = tree.mkdir("a/b");
        assertEquals(1, CgroupHelpers.ancestorId(b, 0));
        assertEquals(a.id(), CgroupHelpers.ancestorId(b, 1));
        assertEquals(b.id(), CgroupHelpers.ancestorId(b, 2));
        assertEquals(0, CgroupHelpers.ancestorId(b, 3));
        assertEquals(0, CgroupHelpers.ancestorId(b, -1));
    }
}
