package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hooks the scenario format has no probe for: cgroup_skb, sock_ops and lirc_mode2. */
class LibraryHooksTest {
    private final EngineBackend engine = new EngineBackend(100_000);
    private static final Set<AttachFlag> MULTI = EnumSet.of(AttachFlag.ALLOW_MULTI);

    @AfterEach
    void close() {
        engine.close();
    }

    private LoadedProg load(ProgType type, AttachType expected, String... lines) throws BpfException {
        return engine.load(new LoadRequest("p", type, expected, new Assembler(n -> null).assemble(List.of(lines)), "GPL", 0));
    }

    /** An IPv4/UDP packet 127.0.0.1:1000 -> 127.0.0.2:53 with 4 payload bytes. */
    private static byte[] udp4() {
        byte[] p = new byte[32];
        p[0] = 0x45;
        p[3] = 32;
        p[9] = 17;
        p[12] = 127;
        p[15] = 1;
        p[16] = 127;
        p[19] = 2;
        p[20] = 0x03;
        p[21] = (byte) 0xe8;
        p[23] = 53;
        p[28] = (byte) 0xab;
        return p;
    }

    @Test
    void skbDirectPacketAccessAndVerdicts() throws Exception {
        // pass only when the packet's protocol byte (offset 9) is UDP, read through data/data_end
        LoadedProg udpOnly = load(ProgType.CGROUP_SKB, null,
                "r2 = *(u32 *)(r1 +76)", "r3 = *(u32 *)(r1 +80)", "r4 = r2", "r4 += 10", "r0 = 0",
                "if r4 > r3 goto pc+3", "r5 = *(u8 *)(r2 +9)", "if r5 != 0x11 goto pc+1", "r0 = 1", "exit");
        engine.attach("", udpOnly, AttachType.CGROUP_INET_INGRESS, MULTI, null);
        SkbHooks skb = engine.skbHooks();
        assertTrue(skb.ingress(engine.cgroupAt(""), udp4()).pass());
        byte[] tcp = udp4();
        tcp[9] = 6;
        assertFalse(skb.ingress(engine.cgroupAt(""), tcp).pass());
        assertEquals(-1, skb.ingress(engine.cgroupAt(""), tcp).retval());
        // egress: 3 = pass with congestion notification, 2 = drop with CN
        LoadedProg cn = load(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, "r0 = 3", "exit");
        engine.attach("", cn, AttachType.CGROUP_INET_EGRESS, MULTI, null);
        assertEquals(new SkbHooks.Verdict(true, true, 0), skb.egress(engine.cgroupAt(""), udp4()));
        LoadedProg drop = load(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, "r0 = 2", "exit");
        engine.attach("", drop, AttachType.CGROUP_INET_EGRESS, MULTI, null);
        assertEquals(new SkbHooks.Verdict(false, true, -1), skb.egress(engine.cgroupAt(""), udp4()));
    }

    @Test
    void skbSocketAndForbiddenFields() throws Exception {
        // ingress: the receiving socket's local port (host order) through __sk_buff.local_port, and sk->family
        LoadedProg port = load(ProgType.CGROUP_SKB, null,
                "r2 = *(u32 *)(r1 +136)", "r3 = *(u64 *)(r1 +168)", "r0 = 0", "if r3 == 0x0 goto pc+3",
                "r4 = *(u32 *)(r3 +4)", "if r2 != 0x35 goto pc+1", "r0 = 1", "exit");
        engine.attach("", port, AttachType.CGROUP_INET_INGRESS, MULTI, null);
        assertTrue(engine.skbHooks().ingress(engine.cgroupAt(""), udp4()).pass());
        engine.detach("", AttachType.CGROUP_INET_INGRESS, port);
        LoadedProg classid = load(ProgType.CGROUP_SKB, null, "r0 = *(u32 *)(r1 +72)", "r0 = 1", "exit");
        engine.attach("", classid, AttachType.CGROUP_INET_INGRESS, MULTI, null);
        HookFault f = assertThrows(HookFault.class, () -> engine.skbHooks().ingress(engine.cgroupAt(""), udp4()));
        assertTrue(f.getMessage().contains("invalid bpf_context access off=72 size=4"), f.getMessage());
        engine.detach("", AttachType.CGROUP_INET_INGRESS, classid);
        LoadedProg write = load(ProgType.CGROUP_SKB, null, "r2 = *(u32 *)(r1 +76)", "r3 = 1", "*(u8 *)(r2 +0) = r3", "r0 = 1", "exit");
        engine.attach("", write, AttachType.CGROUP_INET_INGRESS, MULTI, null);
        assertThrows(HookFault.class, () -> engine.skbHooks().ingress(engine.cgroupAt(""), udp4()), "the packet is read-only");
    }

    @Test
    void sockOpsReply() throws Exception {
        // reply = args[0] + op; sk_txhash writable; op is not
        LoadedProg p = load(ProgType.SOCK_OPS, null,
                "r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)", "r2 += r3", "*(u32 *)(r1 +4) = r2",
                "*(u32 *)(r1 +164) = r2", "r0 = 1", "exit");
        engine.attach("", p, AttachType.CGROUP_SOCK_OPS, MULTI, null);
        SockOpsHook.Result r = engine.sockOpsHook().call(engine.cgroupAt(""), 3, new int[] {40}, Probe.Family.INET,
                InetAddress.getByName("127.0.0.1"), 40000, InetAddress.getByName("127.0.0.1"), 80);
        assertEquals(new SockOpsHook.Result(0, 43), r);
        assertEquals(43, r.tcpCallBpf());
        LoadedProg bad = load(ProgType.SOCK_OPS, null, "r2 = 1", "*(u32 *)(r1 +0) = r2", "r0 = 1", "exit");
        engine.attach("", bad, AttachType.CGROUP_SOCK_OPS, MULTI, null);
        assertThrows(HookFault.class, () -> engine.sockOpsHook().call(engine.cgroupAt(""), 3, new int[0], Probe.Family.INET,
                InetAddress.getByName("127.0.0.1"), 1, InetAddress.getByName("127.0.0.1"), 2));
    }

    @Test
    void lircDeviceAttachQueryDetachAndEvents() throws Exception {
        LircDevice dev = engine.newLircDevice();
        // keydown(ctx, protocol 0x18, scancode = sample & 0xffffff, toggle 0)
        LoadedProg key = load(ProgType.LIRC_MODE2, null,
                "r3 = *(u32 *)(r1 +0)", "r3 &= 16777215", "r2 = 24", "r4 = 0", "call bpf_rc_keydown#78", "r0 = 0", "exit");
        var k = engine.cgroupProg(key);
        dev.attach(k, 0);
        assertEquals("EEXIST", assertThrows(BpfException.class, () -> dev.attach(k, 0)).errno());
        assertEquals("EINVAL", assertThrows(BpfException.class, () -> dev.attach(k, 1)).errno());
        assertEquals(List.of(new LircDevice.Event("keydown", 24, 0x123, 0)), dev.sample(0x01000123));
        for (int i = 1; i < LircDevice.MAX_PROGS; i++) {
            dev.attach(engine.cgroupProg(load(ProgType.LIRC_MODE2, null, "r0 = 0", "exit")), 0);
        }
        assertEquals("E2BIG", assertThrows(BpfException.class,
                () -> dev.attach(engine.cgroupProg(load(ProgType.LIRC_MODE2, null, "r0 = 0", "exit")), 0)).errno());
        LircDevice.Query q = dev.query(3);
        assertEquals(64, q.count());
        assertTrue(q.noSpace());
        assertEquals(k, q.progs().get(0));
        dev.detach(k);
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> dev.detach(k)).errno());
        assertEquals(63, dev.query(0).count());
        assertEquals(List.of(), dev.sample(0x01000123));
        // a lirc_mode2 program does not go on a cgroup
        assertEquals("EINVAL", assertThrows(BpfException.class,
                () -> engine.attach("", key, AttachType.LIRC_MODE2, Set.of(), null)).errno());
    }
}
