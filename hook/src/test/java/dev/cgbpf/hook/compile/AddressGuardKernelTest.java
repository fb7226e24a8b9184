package dev.cgbpf.hook.compile;

import static dev.cgbpf.engine.isa.Reg.R0;
import static dev.cgbpf.engine.isa.Reg.R1;
import static dev.cgbpf.engine.isa.Reg.R2;
import static dev.cgbpf.engine.isa.Reg.R3;
import static dev.cgbpf.engine.isa.Reg.R4;
import static dev.cgbpf.engine.isa.Reg.R6;
import static dev.cgbpf.engine.isa.Reg.R7;
import static dev.cgbpf.engine.isa.Reg.R10;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.hooks.BpfSockCtx;
import dev.cgbpf.engine.hooks.CgroupSkbCtx;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.hook.policy.BindMode;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.hook.policy.SocketRule;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.MapCreate;
import dev.cgbpf.kernel.MapElem;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The address guards and the sock_addr programs together on the running kernel: a fresh cgroup
 * with the programs a container with the bind address 127.0.0.5 gets, the C helper
 * ({@link NetProbe}) inside it doing what a container process could, the test's own sockets
 * outside it as the host. Each way around the bind address is shown closed, next to the normal
 * traffic that must keep working, and where it matters a run without programs shows that the
 * probe itself would see the difference.
 */
class AddressGuardKernelTest {
    private static final String OWN = "127.0.0.5";
    private static final int CONNECT_MS = 1000;

    @BeforeAll
    static void setup() throws Exception {
        KernelRequired.check();
        NetProbe.build();
    }

    /** Everything a container with {@code net} gets from the network compilers. */
    static List<CompiledProgram> programs(NetworkPolicy net, DenialCounters dc) {
        List<CompiledProgram> progs = new ArrayList<>(SockAddrCompiler.compile(net, dc));
        SockCreateCompiler.compile(net.denySockets(), dc).ifPresent(progs::add);
        progs.addAll(AddressGuardCompiler.compile(net.bind(), dc));
        return progs;
    }

    private static AttachKernelTest.Attached attached(String tag, NetworkPolicy net) throws Exception {
        AttachKernelTest.Attached a = new AttachKernelTest.Attached(tag);
        if (net != null) {
            a.attach(programs(net, new DenialCounters(a.counters.get())));
        }
        return a;
    }

    /** A TCP connect from the host: "connected", "timeout" (the SYN was dropped) or the exception's name. */
    private static String hostConnect(String addr, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getByName(addr), port), CONNECT_MS);
            return "connected";
        } catch (SocketTimeoutException e) {
            return "timeout";
        } catch (IOException e) {
            return e.getClass().getSimpleName();
        }
    }

    /**
     * What skb->sk is when a cgroup_skb ingress program runs for the packets of an accepted TCP
     * connection: a dump program keyed by the TCP flags byte keeps the state and remote_port it
     * saw. Measured on 6.18: SYN and the handshake's last ACK run with the listener (state 10,
     * TCP_LISTEN, remote_port 0), the data segment with the accepted socket (state 4, FIN_WAIT1,
     * as the helper closes it right after accept; remote_port the peer's port). The guard's "remote_port == 0 means not a reply" rests on this.
     */
    @Test
    void ingressSeesTheListenerForASyn() throws Exception {
        try (AttachKernelTest.Attached a = attached("skdump", null);
             Fd dump = MapCreate.mapCreate(MapType.ARRAY.value(), 4, 8, 256, 0, "cgbpf_skdump")) {
            Asm p = new Asm().mov(R6, R1)
                    // if (data + 40 > data_end || iph->protocol != IPPROTO_TCP) goto out;
                    .ldxW(R2, R6, CgroupSkbCtx.DATA).ldxW(R3, R6, CgroupSkbCtx.DATA_END)
                    .mov(R4, R2).add(R4, 40).jgt(R4, R3, "out")
                    .ldxB(R4, R2, 9).jne(R4, 6, "out")
                    // key = tcph->flags (IPv4 header of 20 bytes, flags at 13 in the TCP header)
                    .ldxB(R4, R2, 33).stxW(R10, -4, R4)
                    // struct bpf_sock *sk = skb->sk; if (!sk) goto out;
                    .ldxDW(R7, R6, CgroupSkbCtx.SK).jeq(R7, 0, "out")
                    // value = { sk->state, skb->remote_port }
                    .ldxW(R4, R7, BpfSockCtx.STATE).stxW(R10, -16, R4)
                    .ldxW(R4, R6, CgroupSkbCtx.REMOTE_PORT).stxW(R10, -12, R4)
                    .ldMapFd(R1, dump.get()).mov(R2, R10).add(R2, -4).mov(R3, R10).add(R3, -16).movImm(R4, 0)
                    .call("bpf_map_update_elem")
                    .label("out").movImm(R0, 1).exit();
            a.attach(List.of(new CompiledProgram("cgbpf_skdump", ProgType.CGROUP_SKB, AttachType.CGROUP_INET_INGRESS,
                    p.build())));
            Process listener = new NetProbe(a.dir).start("listen", "inet", "3000", "127.0.0.1");
            try (BufferedReader r = NetProbe.reader(listener)) {
                String[] where = r.readLine().split(" ");
                assertEquals("listening", where[0], String.join(" ", where));
                try (Socket s = new Socket(where[1], Integer.parseInt(where[2]))) {
                    s.getOutputStream().write('x');
                }
                List<String> rest = new ArrayList<>();
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    rest.add(line);
                }
                assertTrue(rest.get(0).startsWith("accepted 127.0.0.1 "), rest.toString());
            }
            listener.waitFor();
            int[] syn = seen(dump, 0x02);
            int[] lastAck = seen(dump, 0x10);
            int[] data = seen(dump, 0x18);
            System.out.printf("ingress skb->sk: SYN state %d remote_port %#x; ACK state %d remote_port %#x;"
                    + " PSH|ACK state %d remote_port %#x%n", syn[0], syn[1], lastAck[0], lastAck[1], data[0], data[1]);
            assertEquals(10, syn[0], "TCP_LISTEN");
            assertEquals(0, syn[1]);
            assertEquals(10, lastAck[0], "the handshake's last ACK meets the listener too");
            assertEquals(0, lastAck[1]);
            assertTrue(data[0] != 10, "the accepted socket, not the listener (the helper closes it at once: FIN_WAIT1)");
            assertTrue(data[1] != 0, "an accepted socket has the peer's port");
        }
    }

    private static int[] seen(Fd map, int flags) throws Exception {
        byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(flags).array();
        ByteBuffer v = ByteBuffer.wrap(MapElem.lookupElem(map, key, 8, 0)).order(ByteOrder.LITTLE_ENDIAN);
        return new int[] {v.getInt(0), v.getInt(4)};
    }

    /**
     * listen() on an unbound socket autobinds to the wildcard without the bind hook; the ingress
     * guard leaves it reachable only on the container's address. Without programs the same probe
     * is reached through 127.0.0.1 and ::1.
     */
    @Test
    void listenAutobindIsReachableOnlyOnTheContainerAddress() throws Exception {
        NetworkPolicy net = ProgramsKernelTest.net(OWN, BindMode.REWRITE, "", Set.of());
        List<String> guarded = listenAndConnect(net);
        List<String> open = listenAndConnect(null);
        System.out.println("guarded: " + guarded + "\nwithout programs: " + open);
        assertEquals(List.of("127.0.0.1 connected", "::1 connected", OWN + " connected"), open.subList(0, 3));
        assertEquals(List.of("127.0.0.1 timeout", "::1 timeout", OWN + " connected"), guarded.subList(0, 3));
        assertEquals(List.of("accepted ::ffff:127.0.0.1"), guarded.subList(3, guarded.size()).stream()
                .map(s -> s.substring(0, s.lastIndexOf(' '))).toList());
    }

    /** The host's three connects to a dual-stack autobound listener in the cgroup, then what it accepted. */
    private List<String> listenAndConnect(NetworkPolicy net) throws Exception {
        try (AttachKernelTest.Attached a = attached(net == null ? "open" : "listen", net)) {
            Process listener = new NetProbe(a.dir).start("listen", "inet6", String.valueOf(5 * CONNECT_MS));
            List<String> out = new ArrayList<>();
            try (BufferedReader r = NetProbe.reader(listener)) {
                String[] where = r.readLine().split(" ");
                assertEquals("listening ::", where[0] + " " + where[1], "an autobound dual-stack listener");
                int port = Integer.parseInt(where[2]);
                for (String host : List.of("127.0.0.1", "::1", OWN)) {
                    out.add(host + " " + hostConnect(host, port));
                }
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.startsWith("accepted")) {
                        out.add(line);
                    }
                }
            }
            assertTrue(listener.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
            if (net != null) {
                assertTrue(a.count(DenialReason.ADDRESS_TRAFFIC) >= 2, "dropped SYNs are counted");
            }
            return out;
        }
    }

    /**
     * What cgroup_udp4_sendmsg sees of a connected socket's sendmsg with an IP_PKTINFO control
     * message (which sends it down udp_sendmsg's unconnected path): a dump program keeps
     * user_family, user_ip4 and msg_src_ip4. Measured on 6.18: family 0 and address 0 (the
     * kernel passes no destination; the peer is the socket's), msg_src_ip4 the ipi_spec_dst.
     * cgbpf_send4 therefore judges the source of such a send without a destination.
     */
    @Test
    void sendmsgHookOfAConnectedSocketSeesNoDestination() throws Exception {
        try (AttachKernelTest.Attached a = attached("senddump", null);
             Fd dump = MapCreate.mapCreate(MapType.ARRAY.value(), 4, 16, 1, 0, "cgbpf_snddump");
             DatagramSocket host = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            Asm p = new Asm().mov(R6, R1)
                    // value = { ctx->user_family, ctx->user_ip4, ctx->msg_src_ip4, 1 }; key 0
                    .ldxW(R2, R6, dev.cgbpf.engine.hooks.BpfSockAddrCtx.USER_FAMILY).stxW(R10, -16, R2)
                    .ldxW(R2, R6, dev.cgbpf.engine.hooks.BpfSockAddrCtx.USER_IP4).stxW(R10, -12, R2)
                    .ldxW(R2, R6, dev.cgbpf.engine.hooks.BpfSockAddrCtx.MSG_SRC_IP4).stxW(R10, -8, R2)
                    .stW(R10, -4, 1).stW(R10, -20, 0)
                    .ldMapFd(R1, dump.get()).mov(R2, R10).add(R2, -20).mov(R3, R10).add(R3, -16).movImm(R4, 0)
                    .call("bpf_map_update_elem")
                    .movImm(R0, 1).exit();
            a.attach(List.of(new CompiledProgram("cgbpf_snddump", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG,
                    p.build())));
            String r = new NetProbe(a.dir).run("sendto", "inet", "127.0.0.1", String.valueOf(host.getLocalPort()),
                    "127.0.0.9", "connected");
            assertTrue(r.startsWith("sent"), r);
            ByteBuffer v = ByteBuffer.wrap(MapElem.lookupElem(dump, new byte[4], 16, 0)).order(ByteOrder.BIG_ENDIAN);
            System.out.printf("connected sendmsg with IP_PKTINFO: user_family %d user_ip4 %s msg_src_ip4 %s%n",
                    Integer.reverseBytes(v.getInt(0)), ip4(v.getInt(4)), ip4(v.getInt(8)));
            assertEquals(1, Integer.reverseBytes(v.getInt(12)), "the hook ran");
            assertEquals(0, v.getInt(0));
            assertEquals("0.0.0.0", ip4(v.getInt(4)));
            assertEquals("127.0.0.9", ip4(v.getInt(8)));
        }
    }

    private static String ip4(int networkOrder) throws Exception {
        return InetAddress.getByAddress(ByteBuffer.allocate(4).putInt(networkOrder).array()).getHostAddress();
    }

    /** Datagrams the host socket receives within a short wait, as "SOURCE payload". */
    private static List<String> received(DatagramSocket host) throws IOException {
        List<String> got = new ArrayList<>();
        host.setSoTimeout(500);
        while (true) {
            DatagramPacket d = new DatagramPacket(new byte[64], 64);
            try {
                host.receive(d);
            } catch (SocketTimeoutException e) {
                return got;
            }
            got.add(d.getAddress().getHostAddress() + " " + new String(d.getData(), 0, d.getLength(), StandardCharsets.UTF_8));
        }
    }

    /**
     * An unbound UDP socket's sendto leaves it bound to 0.0.0.0:N: the datagram leaves from the
     * container's address (cgbpf_send4), the host's reply to that address arrives, a datagram to
     * the same port through 127.0.0.1 does not (cgbpf_in).
     */
    @Test
    void unboundUdpSendGoesOutAndComesBackOnlyThroughTheContainerAddress() throws Exception {
        NetworkPolicy net = ProgramsKernelTest.net(OWN, BindMode.REWRITE, "", Set.of());
        try (AttachKernelTest.Attached a = attached("udp", net);
             DatagramSocket host = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            Process echo = new NetProbe(a.dir).start("udpecho", "inet", "127.0.0.1", String.valueOf(host.getLocalPort()), "1500");
            List<String> lines = new ArrayList<>();
            try (BufferedReader r = NetProbe.reader(echo)) {
                String[] sent = r.readLine().split(" ");
                assertEquals("sent 0.0.0.0", sent[0] + " " + sent[1], "the socket itself stays on the wildcard");
                int port = Integer.parseInt(sent[2]);
                host.setSoTimeout(5000);
                DatagramPacket d = new DatagramPacket(new byte[64], 64);
                host.receive(d);
                lines.add("from " + d.getAddress().getHostAddress());
                for (String via : List.of("127.0.0.1", OWN)) {
                    byte[] b = ("via-" + via).getBytes(StandardCharsets.UTF_8);
                    host.send(new DatagramPacket(b, b.length, new InetSocketAddress(via, port)));
                }
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line);
                }
            }
            System.out.println("udp: " + lines + ", address-traffic " + a.count(DenialReason.ADDRESS_TRAFFIC));
            assertEquals(List.of("from " + OWN, "got via-" + OWN, "done"), lines);
            assertEquals(1, a.count(DenialReason.ADDRESS_TRAFFIC));
        }
    }

    /**
     * A sendmsg source chosen with IP_PKTINFO or IPV6_PKTINFO (v4-mapped) that is not the
     * container's: rewritten to the container's address, or refused and counted in deny mode;
     * the container's own address passes in both. Also through a connected socket, where control
     * messages send the datagram down the unconnected path with no destination for the hook.
     */
    @ParameterizedTest
    @EnumSource(BindMode.class)
    void pktinfoSourcesAreTheContainersOrNothing(BindMode mode) throws Exception {
        NetworkPolicy net = ProgramsKernelTest.net(OWN, mode, "", Set.of());
        try (AttachKernelTest.Attached a = attached("pktinfo-" + mode, net);
             DatagramSocket host = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            NetProbe probe = new NetProbe(a.dir);
            String port = String.valueOf(host.getLocalPort());
            List<String[]> cases = List.of(
                    new String[] {"inet", "127.0.0.1", port, "127.0.0.9"},
                    new String[] {"inet", "127.0.0.1", port, "127.0.0.1"},
                    new String[] {"inet6", "::ffff:127.0.0.1", port, "::ffff:127.0.0.9"},
                    new String[] {"inet", "127.0.0.1", port, "127.0.0.9", "connected"},
                    new String[] {"inet", "127.0.0.1", port, OWN},
                    new String[] {"inet6", "::ffff:127.0.0.1", port, "::ffff:" + OWN});
            List<String> answers = new ArrayList<>();
            for (String[] c : cases) {
                List<String> args = new ArrayList<>(List.of("sendto"));
                args.addAll(List.of(c));
                String r = probe.run(args.toArray(String[]::new));
                answers.add(r.startsWith("sent") ? "sent" : r);
            }
            List<String> got = received(host);
            System.out.println(mode + ": " + answers + " host got " + got + ", bind-address " + a.count(DenialReason.BIND_ADDRESS));
            String refused = mode == BindMode.DENY ? "EPERM" : "sent";
            assertEquals(List.of(refused, refused, refused, refused, "sent", "sent"), answers);
            int arrived = mode == BindMode.DENY ? 2 : 6;
            assertEquals(java.util.Collections.nCopies(arrived, OWN + " pktinfo"), got);
            assertEquals(mode == BindMode.DENY ? 4 : 0, a.count(DenialReason.BIND_ADDRESS));
            assertEquals(0, a.count(DenialReason.ADDRESS_TRAFFIC));
        }
    }

    /**
     * With only an IPv4 address, native IPv6 is refused: connect and sendto to ::1 fail with EPERM,
     * a bind to ::1 becomes the v4-mapped address (rewrite) or fails on a v6-only socket, a raw
     * ICMPv6 packet (no sock_addr hook) is dropped at egress. v4-mapped use still works.
     */
    @Test
    void nativeIpv6IsRefusedWithOnlyAnIpv4Address() throws Exception {
        NetworkPolicy net = ProgramsKernelTest.net(OWN, BindMode.REWRITE, "", Set.of());
        try (AttachKernelTest.Attached a = attached("v6", net);
             ServerSocket tcp6 = new ServerSocket(0, 10, InetAddress.getByName("::1"));
             ServerSocket tcp4 = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
             DatagramSocket udp6 = new DatagramSocket(new InetSocketAddress("::1", 0))) {
            NetProbe probe = new NetProbe(a.dir);
            String connect6 = probe.run("connect", "inet6", "stream", "0", "::1", String.valueOf(tcp6.getLocalPort()));
            String send6 = probe.run("sendto", "inet6", "::1", String.valueOf(udp6.getLocalPort()), "-");
            String pktinfo6 = probe.run("sendto", "inet6", "::1", String.valueOf(udp6.getLocalPort()), "::1");
            String bindDual = probe.run("bind", "inet6", "stream", "0", "::1", "0", "0");
            String bindV6only = probe.run("bind", "inet6", "dgram", "0", "::1", "0", "1");
            String raw6 = probe.run("sendraw", "inet6", "::1");
            String mapped = probe.run("connect", "inet6", "stream", "0", "::ffff:127.0.0.1", String.valueOf(tcp4.getLocalPort()));
            List<String> got = received(udp6);
            System.out.println("connect6 " + connect6 + ", send6 " + send6 + ", pktinfo6 " + pktinfo6 + ", bind dual "
                    + bindDual + ", bind v6only " + bindV6only + ", raw6 " + raw6 + ", v4-mapped connect " + mapped
                    + ", host got " + got + ", bind-address " + a.count(DenialReason.BIND_ADDRESS)
                    + ", address-traffic " + a.count(DenialReason.ADDRESS_TRAFFIC));
            assertEquals("EPERM", connect6);
            assertEquals("EPERM", send6);
            assertEquals("EPERM", pktinfo6);
            assertTrue(bindDual.startsWith("::ffff:" + OWN + " "), bindDual);
            assertEquals("EINVAL", bindV6only, "the kernel refuses a v4-mapped bind of a v6-only socket");
            assertEquals("EPERM", raw6);
            assertTrue(mapped.startsWith("::ffff:" + OWN + " "), mapped);
            assertEquals(List.of(), got);
            assertEquals(3, a.count(DenialReason.BIND_ADDRESS));
            assertEquals(1, a.count(DenialReason.ADDRESS_TRAFFIC));
        }
    }

    /**
     * "tcp" also refuses Multipath TCP sockets and "udp" UDP-Lite ones, in both families. Without
     * the rule an MPTCP socket connects to a plain TCP listener (the kernel falls back to TCP).
     */
    @Test
    void tcpAndUdpWordsCoverMptcpAndUdpLite() throws Exception {
        NetworkPolicy net = ProgramsKernelTest.net("", BindMode.REWRITE, "", EnumSet.of(SocketRule.TCP, SocketRule.UDP));
        try (ServerSocket tcp = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"))) {
            String port = String.valueOf(tcp.getLocalPort());
            String openMptcp;
            try (AttachKernelTest.Attached open = attached("mptcp-open", null)) {
                openMptcp = new NetProbe(open.dir).run("connect", "inet", "stream", "262", "127.0.0.1", port);
            }
            try (AttachKernelTest.Attached a = attached("mptcp", net)) {
                NetProbe probe = new NetProbe(a.dir);
                List<String> answers = new ArrayList<>();
                for (String[] c : List.of(new String[] {"inet", "stream", "262"}, new String[] {"inet6", "stream", "262"},
                        new String[] {"inet", "dgram", "136"}, new String[] {"inet6", "dgram", "136"},
                        new String[] {"inet", "stream", "0"}, new String[] {"inet6", "dgram", "0"},
                        new String[] {"inet", "raw", "1"})) {
                    answers.add(String.join(" ", c) + " " + probe.run("socket", c[0], c[1], c[2]));
                }
                System.out.println("without rules an MPTCP connect: " + openMptcp + "; with tcp,udp: " + answers);
                assertTrue(openMptcp.startsWith("127.0.0.1 "), openMptcp);
                assertEquals(List.of("inet stream 262 EPERM", "inet6 stream 262 EPERM", "inet dgram 136 EPERM",
                        "inet6 dgram 136 EPERM", "inet stream 0 EPERM", "inet6 dgram 0 EPERM", "inet raw 1 ok"), answers);
                assertEquals(6, a.count(DenialReason.SOCKET));
            }
        }
    }

    /**
     * What a container does normally still works under the guards: a listener on the container's
     * address (a wildcard bind rewritten) is reached by the host, an outgoing TCP connection to a
     * host listener on 127.0.0.1 leaves from the container's address and carries data both ways,
     * and nothing of it is counted as dropped.
     */
    @Test
    void normalTrafficPasses() throws Exception {
        NetworkPolicy net = ProgramsKernelTest.net(OWN, BindMode.REWRITE, "", Set.of());
        try (AttachKernelTest.Attached a = attached("normal", net);
             ServerSocket host = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"))) {
            NetProbe probe = new NetProbe(a.dir);
            Process listener = probe.start("listen", "inet", String.valueOf(3 * CONNECT_MS), "0.0.0.0");
            List<String> lines = new ArrayList<>();
            try (BufferedReader r = NetProbe.reader(listener)) {
                String[] where = r.readLine().split(" ");
                lines.add(where[0] + " " + where[1]);
                lines.add("host " + hostConnect(OWN, Integer.parseInt(where[2])));
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    lines.add(line.startsWith("accepted") ? line.substring(0, line.lastIndexOf(' ')) : line);
                }
            }
            host.setSoTimeout(5000);
            String port = String.valueOf(host.getLocalPort());
            Thread echo = new Thread(() -> {
                for (int i = 0; i < 2; i++) {
                    try (Socket s = host.accept()) {
                        s.getOutputStream().write(s.getInetAddress().getHostAddress().getBytes(StandardCharsets.UTF_8));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            echo.start();
            String out4 = probe.run("connect", "inet", "stream", "0", "127.0.0.1", port);
            String out6 = probe.run("connect", "inet6", "stream", "0", "::ffff:127.0.0.1", port);
            echo.join(10_000);
            System.out.println("listener: " + lines + "; connects from " + out4 + " and " + out6
                    + ", address-traffic " + a.count(DenialReason.ADDRESS_TRAFFIC));
            assertEquals(List.of("listening " + OWN, "host connected", "accepted 127.0.0.1", "done"), lines);
            assertTrue(out4.startsWith(OWN + " "), out4);
            assertTrue(out6.startsWith("::ffff:" + OWN + " "), out6);
            assertEquals(0, a.count(DenialReason.ADDRESS_TRAFFIC));
        }
    }

    /** Runs a command that must succeed (the netns set-up). */
    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }

    /**
     * A native IPv6 source chosen with IPV6_PKTINFO, for a container with an IPv6 address: needs a
     * second local IPv6 address, so the test makes a network namespace whose loopback device has
     * fd00:cb::5 (the container's) and fd00:cb::9; the receiver and the sender both run in it.
     * A foreign source (another address, ::1) is rewritten to the container's address, or refused
     * and counted in deny mode; the container's own source and no source arrive from it.
     */
    @ParameterizedTest
    @EnumSource(BindMode.class)
    void ipv6PktinfoSourcesAreTheContainersOrNothing(BindMode mode) throws Exception {
        String ns = "cgbpf-guard-" + ProcessHandle.current().pid() + "-" + mode.name().toLowerCase(java.util.Locale.ROOT);
        String own6 = "fd00:cb::5";
        NetworkPolicy net = ProgramsKernelTest.net(OWN + "," + own6, mode, "", Set.of());
        sh("ip", "netns", "add", ns);
        try (AttachKernelTest.Attached a = attached("pktinfo6-" + mode, net)) {
            sh("ip", "-n", ns, "link", "set", "lo", "up");
            sh("ip", "-n", ns, "addr", "add", own6 + "/128", "dev", "lo");
            sh("ip", "-n", ns, "addr", "add", "fd00:cb::9/128", "dev", "lo");
            int port = 20000 + java.util.concurrent.ThreadLocalRandom.current().nextInt(10000);
            Process receiver = new NetProbe(null, ns).start("recv", "inet6", "::1", String.valueOf(port), "3000");
            List<String> answers = new ArrayList<>();
            List<String> got = new ArrayList<>();
            try (BufferedReader r = NetProbe.reader(receiver)) {
                assertTrue(r.readLine().startsWith("ready ::1 "));
                NetProbe probe = new NetProbe(a.dir, ns);
                for (String src : List.of("fd00:cb::9", "::1", own6, "-")) {
                    String answer = probe.run("sendto", "inet6", "::1", String.valueOf(port), src);
                    answers.add(src + " " + (answer.startsWith("sent") ? "sent" : answer));
                }
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    if (line.startsWith("from ")) {
                        got.add(line.substring(5));
                    }
                }
            }
            receiver.waitFor();
            System.out.println(mode + ": " + answers + " received from " + got + ", bind-address "
                    + a.count(DenialReason.BIND_ADDRESS) + ", address-traffic " + a.count(DenialReason.ADDRESS_TRAFFIC));
            String refused = mode == BindMode.DENY ? "EPERM" : "sent";
            assertEquals(List.of("fd00:cb::9 " + refused, "::1 " + refused, own6 + " sent", "- sent"), answers);
            assertEquals(java.util.Collections.nCopies(mode == BindMode.DENY ? 2 : 4, own6), got);
            assertEquals(mode == BindMode.DENY ? 2 : 0, a.count(DenialReason.BIND_ADDRESS));
            assertEquals(0, a.count(DenialReason.ADDRESS_TRAFFIC));
        } finally {
            sh("ip", "netns", "delete", ns);
        }
    }
}
