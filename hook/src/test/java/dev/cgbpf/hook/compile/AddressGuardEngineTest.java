package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.hook.policy.BindMode;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.kernel.KernelRequired;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The address guards on the engine against the running kernel: the engine's verifier accepts
 * what the kernel accepts; BPF_PROG_TEST_RUN of cgbpf_in and cgbpf_out on the same packets gives
 * the same verdicts and counts on both; and the engine's socket layer (its cgroup_skb path on
 * TCP handshakes and UDP sends) answers the probes as the kernel does with the programs
 * attached. A test run's socket is the kernel's fake one (no remote port), so it stands for a
 * listener or an unconnected socket.
 */
class AddressGuardEngineTest {
    private static final Set<AttachFlag> MULTI = Set.of(AttachFlag.ALLOW_MULTI);

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    /** One backend with a counter map and the programs of a policy, loaded. */
    private static final class Loaded implements AutoCloseable {
        final Backend b;
        final BpfMap counters;
        final Map<String, LoadedProg> progs = new LinkedHashMap<>();
        final Map<String, AttachType> types = new LinkedHashMap<>();

        Loaded(Backend b) throws BpfException {
            this.b = b;
            this.counters = b.createMap(DenialCounters.SPEC);
        }

        long count(DenialReason r) throws BpfException {
            byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(r.key()).array();
            return ByteBuffer.wrap(b.lookup(counters, key)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }

        @Override
        public void close() {
            progs.values().forEach(LoadedProg::close);
            counters.close();
        }
    }

    private interface Compile {
        List<CompiledProgram> with(DenialCounters dc) throws Exception;
    }

    /** Loads the programs on a backend, compiled against that backend's own counter map. */
    private static Loaded load(Backend b, Compile c) throws Exception {
        Loaded l = new Loaded(b);
        for (CompiledProgram p : c.with(new DenialCounters(l.counters.fd()))) {
            l.progs.put(p.name(), b.load(p.loadRequest(1)));
            l.types.put(p.name(), p.attachType());
        }
        return l;
    }

    static byte[] ip4(String src, String dst) throws Exception {
        byte[] p = new byte[28];
        p[0] = 0x45;
        p[3] = 28;
        p[8] = 64;
        p[9] = 17;
        System.arraycopy(InetAddress.getByName(src).getAddress(), 0, p, 12, 4);
        System.arraycopy(InetAddress.getByName(dst).getAddress(), 0, p, 16, 4);
        return udp(p, 20);
    }

    static byte[] ip6(String src, String dst) throws Exception {
        byte[] p = new byte[48];
        p[0] = 0x60;
        p[5] = 8;
        p[6] = 17;
        p[7] = 64;
        System.arraycopy(InetAddress.getByName(src).getAddress(), 0, p, 8, 16);
        System.arraycopy(InetAddress.getByName(dst).getAddress(), 0, p, 24, 16);
        return udp(p, 40);
    }

    private static byte[] udp(byte[] p, int at) {
        p[at] = 0x30;
        p[at + 1] = 0x39;
        p[at + 2] = 0x00;
        p[at + 3] = 0x35;
        p[at + 5] = 8;
        return p;
    }

    /** An Ethernet frame for the loopback device (destination all zeros: PACKET_HOST). */
    static byte[] frame(int etherType, byte[] network) {
        byte[] f = new byte[14 + network.length];
        f[12] = (byte) (etherType >> 8);
        f[13] = (byte) etherType;
        System.arraycopy(network, 0, f, 14, network.length);
        return f;
    }

    static Map<String, byte[]> frames() throws Exception {
        Map<String, byte[]> f = new LinkedHashMap<>();
        String[][] v4 = {
            {"127.0.0.5", "127.0.0.1"}, {"127.0.0.1", "127.0.0.5"}, {"127.0.0.1", "127.0.0.1"}, {"127.0.0.9", "127.0.0.7"},
            {"192.0.2.2", "198.51.100.7"}, {"198.51.100.7", "192.0.2.2"}, {"10.1.1.1", "198.51.100.7"},
            {"127.0.0.1", "192.0.2.2"}, {"192.0.2.2", "127.0.0.1"},
        };
        for (String[] p : v4) {
            f.put(p[0] + ">" + p[1], frame(0x0800, ip4(p[0], p[1])));
        }
        String[][] v6 = {
            {"::1", "::1"}, {"fd00::2", "::1"}, {"::1", "fd00::2"}, {"fd00::2", "2001:db8::7"}, {"2001:db8::7", "fd00::2"},
            {"2001:db8::9", "2001:db8::7"},
        };
        for (String[] p : v6) {
            f.put(p[0] + ">" + p[1], frame(0x86dd, ip6(p[0], p[1])));
        }
        byte[] shortV4 = new byte[12];
        shortV4[0] = 0x45;
        f.put("truncated-ipv4", frame(0x0800, shortV4));
        f.put("truncated-ipv6", frame(0x86dd, java.util.Arrays.copyOf(ip6("fd00::2", "::1"), 24)));
        f.put("arp", frame(0x0806, new byte[28]));
        return f;
    }

    /** Every packet through both guards of each policy, on both backends: the same verdicts and counts. */
    @Test
    void testRunsGiveTheKernelsVerdicts() throws Exception {
        List<String> policies = List.of("127.0.0.5", "192.0.2.2", "127.0.0.5,::1", "fd00::2", "::1,192.0.2.2,127.0.0.5");
        Map<String, byte[]> frames = frames();
        try (KernelBackend kernel = new KernelBackend(); EngineBackend engine = new EngineBackend()) {
            for (String addrs : policies) {
                NetworkPolicy net = ProgramsKernelTest.net(addrs, BindMode.REWRITE, "", Set.of());
                Map<String, String> verdicts = new LinkedHashMap<>();
                try (Loaded k = load(kernel, dc -> AddressGuardCompiler.compile(net.bind(), dc));
                     Loaded e = load(engine, dc -> AddressGuardCompiler.compile(net.bind(), dc))) {
                    for (var f : frames.entrySet()) {
                        for (String name : List.of("cgbpf_in", "cgbpf_out")) {
                            TestRun.Request req = new TestRun.Request(f.getValue(), 1);
                            String kr = answer(() -> kernel.testRun(k.progs.get(name), req).retval());
                            String er = answer(() -> engine.testRun(e.progs.get(name), req).retval());
                            assertEquals(kr, er, addrs + " " + name + " " + f.getKey());
                            verdicts.put(name.substring(6) + " " + f.getKey(), kr.equals("1") ? "pass" : kr.equals("0") ? "drop" : kr);
                        }
                    }
                    assertEquals(k.count(DenialReason.ADDRESS_TRAFFIC), e.count(DenialReason.ADDRESS_TRAFFIC), addrs);
                }
                System.out.println(addrs + ": " + verdicts);
                expectations(addrs, verdicts);
            }
        }
    }

    /** A few verdicts spelled out, so that two backends agreeing on something wrong fails too. */
    private static void expectations(String addrs, Map<String, String> v) {
        switch (addrs) {
            case "127.0.0.5" -> {
                assertEquals("pass", v.get("in 127.0.0.1>127.0.0.5"));
                assertEquals("drop", v.get("in 127.0.0.5>127.0.0.1"), "another loopback destination");
                assertEquals("drop", v.get("in 198.51.100.7>192.0.2.2"), "not a reply: no remote port");
                assertEquals("pass", v.get("out 127.0.0.5>127.0.0.1"));
                assertEquals("drop", v.get("out 127.0.0.1>127.0.0.1"));
                assertEquals("pass", v.get("out 192.0.2.2>198.51.100.7"), "a loopback address cannot reach it");
                assertEquals("drop", v.get("out 192.0.2.2>127.0.0.1"));
                assertEquals("drop", v.get("in ::1>::1"), "no IPv6 address");
                assertEquals("drop", v.get("out ::1>::1"));
            }
            case "192.0.2.2" -> {
                assertEquals("pass", v.get("in 198.51.100.7>192.0.2.2"));
                assertEquals("pass", v.get("out 192.0.2.2>198.51.100.7"));
                assertEquals("drop", v.get("out 10.1.1.1>198.51.100.7"), "any other source of a non-loopback address");
                assertEquals("drop", v.get("in 127.0.0.1>127.0.0.1"));
            }
            case "fd00::2" -> {
                assertEquals("drop", v.get("in 127.0.0.1>127.0.0.5"), "no IPv4 address");
                assertEquals("pass", v.get("in 2001:db8::7>fd00::2"));
                assertEquals("pass", v.get("out fd00::2>::1"));
                assertEquals("drop", v.get("out ::1>fd00::2"));
                assertEquals("drop", v.get("in 2001:db8::9>2001:db8::7"));
            }
            default -> {
            }
        }
        // the kernel refuses to test-run an IP frame shorter than its fixed header (EINVAL, and the
        // engine with it): the guards' length check cannot be reached by a test run
        assertEquals("EINVAL", v.get("in truncated-ipv4"));
        assertEquals("EINVAL", v.get("out truncated-ipv6"));
        assertEquals("drop", v.get("out arp"));
    }

    /**
     * The probes of both backends with the policy's programs attached: connects and sends go out
     * from the container's address or are refused alike. Then the guards alone, where only the
     * cgroup_skb programs decide: the engine's TCP handshake and UDP send meet the same drops.
     */
    @Test
    void probesAnswerAsTheKernel() throws Exception {
        NetworkPolicy rewrite = ProgramsKernelTest.net("127.0.0.5", BindMode.REWRITE, "", Set.of());
        NetworkPolicy deny = ProgramsKernelTest.net("127.0.0.5", BindMode.DENY, "", Set.of());
        int port = 20000 + 10 * ThreadLocalRandom.current().nextInt(1000);
        List<String> kernelAnswers;
        List<String> engineAnswers;
        try (KernelBackend kernel = KernelBackend.openScenario(); EngineBackend engine = new EngineBackend()) {
            kernelAnswers = probeAll(kernel, rewrite, deny, port);
            engineAnswers = probeAll(engine, rewrite, deny, port);
        }
        System.out.println("kernel: " + kernelAnswers + "\nengine: " + engineAnswers);
        assertEquals(kernelAnswers, engineAnswers);
        assertEquals("rewrite connect4 127.0.0.1:" + port + " from 127.0.0.5", kernelAnswers.get(0));
    }

    private static List<String> probeAll(Backend b, NetworkPolicy rewrite, NetworkPolicy deny, int port) throws Exception {
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        InetAddress lo6 = InetAddress.getByName("::1");
        b.listen(lo, port, Probe.Proto.TCP);
        b.listen(lo, port + 1, Probe.Proto.UDP);
        b.listen(lo6, port + 2, Probe.Proto.TCP);
        b.listen(lo6, port + 3, Probe.Proto.UDP);
        List<String> out = new ArrayList<>();
        List<Loaded> loaded = new ArrayList<>();
        try {
            String[] cgroups = {"rewrite", "deny", "guards"};
            Compile[] sets = {
                dc -> AddressGuardKernelTest.programs(rewrite, dc),
                dc -> AddressGuardKernelTest.programs(deny, dc),
                dc -> AddressGuardCompiler.compile(rewrite.bind(), dc),
            };
            for (int i = 0; i < cgroups.length; i++) {
                b.mkdir(cgroups[i]);
                Loaded l = load(b, sets[i]);
                loaded.add(l);
                for (Map.Entry<String, LoadedProg> p : l.progs.entrySet()) {
                    b.attach(cgroups[i], p.getValue(), l.types.get(p.getKey()), MULTI, null);
                }
                String c = cgroups[i];
                out.add(c + " connect4 " + answer(() -> b.connect(c, Probe.Family.INET, Probe.Proto.TCP, lo, port)));
                out.add(c + " connect6 " + answer(() -> b.connect(c, Probe.Family.INET6, Probe.Proto.TCP, lo6, port + 2)));
                out.add(c + " send4 " + answer(() -> b.sendmsg(c, Probe.Family.INET, lo, port + 1, null)));
                out.add(c + " send4-pktinfo " + answer(() -> b.sendmsg(c, Probe.Family.INET, lo, port + 1,
                        InetAddress.getByName("127.0.0.9"))));
                out.add(c + " send6 " + answer(() -> b.sendmsg(c, Probe.Family.INET6, lo6, port + 3, null)));
                out.add(c + " counts " + l.count(DenialReason.BIND_ADDRESS) + " " + l.count(DenialReason.ADDRESS_TRAFFIC));
            }
        } finally {
            loaded.forEach(Loaded::close);
        }
        return out;
    }

    private interface ProbeCall {
        Object call() throws Exception;
    }

    private static String answer(ProbeCall c) {
        try {
            Object r = c.call();
            if (r instanceof Probe.Connected x) {
                return x.peerAddr().getHostAddress() + ":" + x.peerPort() + " from " + x.localAddr().getHostAddress();
            }
            if (r instanceof Probe.Delivered x) {
                return "delivered from " + x.srcAddr().getHostAddress();
            }
            return String.valueOf(r);
        } catch (BpfException e) {
            return e.errno();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
