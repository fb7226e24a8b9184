package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

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
        // the kernel (6.18) refuses tc_classid and packet writes for cgroup_skb at load
        assertRefused("invalid bpf_context access off=72 size=4",
                () -> load(ProgType.CGROUP_SKB, null, "r0 = *(u32 *)(r1 +72)", "r0 = 1", "exit"));
        assertRefused("cannot write into packet", () -> load(ProgType.CGROUP_SKB, null,
                "r2 = *(u32 *)(r1 +76)", "r3 = 1", "*(u8 *)(r2 +0) = r3", "r0 = 1", "exit"));
        // even behind a bounds check: the packet is read-only
        assertRefused("cannot write into packet", () -> load(ProgType.CGROUP_SKB, null,
                "r2 = *(u32 *)(r1 +76)", "r3 = *(u32 *)(r1 +80)", "r4 = r2", "r4 += 1", "if r4 > r3 goto pc+2",
                "r5 = 1", "*(u8 *)(r2 +0) = r5", "r0 = 1", "exit"));
    }

    /** A load the verifier refuses with EACCES and {@code reason} as the log's last line. */
    private static void assertRefused(String reason, Executable load) {
        BpfException e = assertThrows(BpfException.class, load);
        assertEquals("EACCES", e.errno(), e.getMessage());
        assertEquals(reason, e.logReason());
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
        // op is read-only: the kernel (6.18) refuses the write at load
        assertRefused("invalid bpf_context access off=0 size=4",
                () -> load(ProgType.SOCK_OPS, null, "r2 = 1", "*(u32 *)(r1 +0) = r2", "r0 = 1", "exit"));
    }

    /**
     * The test host's kernel has no CONFIG_BPF_LIRC_MODE2 and refuses to load lirc_mode2 programs
     * (EINVAL, empty log), and so does the engine that follows it (docs/fidelity.md).
     */
    @Test
    void lircMode2ProgramsDoNotLoad() {
        BpfException e = assertThrows(BpfException.class, () -> load(ProgType.LIRC_MODE2, null, "r0 = 0", "exit"));
        assertEquals("EINVAL", e.errno());
        assertEquals("", e.verifierLog());
    }

    /** A lirc_mode2 program decoded for the interpreter alone, the verifier skipped (no kernel here loads one). */
    private record UnverifiedLircProg(String name, Interpreter interp) implements CgroupProg {
        @Override
        public ProgType type() {
            return ProgType.LIRC_MODE2;
        }

        @Override
        public AttachType expectedAttach() {
            return null;
        }
    }

    private static UnverifiedLircProg lircProg(String name, String... lines) {
        return new UnverifiedLircProg(name, Interpreter.decode(new Assembler().assemble(List.of(lines)), PseudoResolver.NONE));
    }

    /** Runs the programs on the interpreter with the lirc helpers, as the backend's executor does. */
    private static final ProgExecutor LIRC_ON_INTERPRETER = (prog, ctx, env) -> {
        Machine m = new Machine(new AddressSpace(), CgroupHelpers.tableFor(ProgType.LIRC_MODE2, null), ctx, env);
        return ((UnverifiedLircProg) prog).interp().run(m, Interpreter.DEFAULT_BUDGET) & 0xffffffffL;
    };

    @Test
    void lircDeviceAttachQueryDetachAndEvents() throws Exception {
        LircDevice dev = new LircDevice(LIRC_ON_INTERPRETER);
        // keydown(ctx, protocol 0x18, scancode = sample & 0xffffff, toggle 0)
        var k = lircProg("key",
                "r3 = *(u32 *)(r1 +0)", "r3 &= 16777215", "r2 = 24", "r4 = 0", "call bpf_rc_keydown#78", "r0 = 0", "exit");
        dev.attach(k, 0);
        assertEquals("EEXIST", assertThrows(BpfException.class, () -> dev.attach(k, 0)).errno());
        assertEquals("EINVAL", assertThrows(BpfException.class, () -> dev.attach(k, 1)).errno());
        assertEquals(List.of(new LircDevice.Event("keydown", 24, 0x123, 0)), dev.sample(0x01000123));
        for (int i = 1; i < LircDevice.MAX_PROGS; i++) {
            dev.attach(lircProg("nop" + i, "r0 = 0", "exit"), 0);
        }
        assertEquals("E2BIG", assertThrows(BpfException.class,
                () -> dev.attach(lircProg("one too many", "r0 = 0", "exit"), 0)).errno());
        LircDevice.Query q = dev.query(3);
        assertEquals(64, q.count());
        assertTrue(q.noSpace());
        assertEquals(k, q.progs().get(0));
        dev.detach(k);
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> dev.detach(k)).errno());
        assertEquals(63, dev.query(0).count());
        assertEquals(List.of(), dev.sample(0x01000123));
        // a program of another type does not go on the device
        LoadedProg device = load(ProgType.CGROUP_DEVICE, null, "r0 = 1", "exit");
        assertEquals("EINVAL", assertThrows(BpfException.class, () -> dev.attach(engine.cgroupProg(device), 0)).errno());
        // and lirc_mode2 does not go on a cgroup
        assertEquals("EINVAL", assertThrows(BpfException.class,
                () -> engine.attach("", device, AttachType.LIRC_MODE2, Set.of(), null)).errno());
    }
}
