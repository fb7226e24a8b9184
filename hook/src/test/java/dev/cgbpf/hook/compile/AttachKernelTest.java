package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.policy.BindMode;
import dev.cgbpf.hook.policy.DeviceRule;
import dev.cgbpf.hook.policy.DeviceType;
import dev.cgbpf.hook.policy.DevicesEmulator;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.hook.policy.SocketRule;
import dev.cgbpf.kernel.CgroupDir;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.MapCreate;
import dev.cgbpf.kernel.MapElem;
import dev.cgbpf.kernel.ProgAttach;
import dev.cgbpf.kernel.ProgLoad;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generated programs on the running kernel, attached (BPF_F_ALLOW_MULTI) to a fresh cgroup
 * under the v2 mount, with a child process in that cgroup doing real binds, connects, sends and
 * device opens: where its sockets end up is what the test checks, and the denial counters.
 * Everything made is detached and removed afterwards.
 */
class AttachKernelTest {
    private static final String OWN = "127.0.0.5";

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    /** A cgroup with programs attached and a counter map; closes all of it. */
    static final class Attached implements AutoCloseable {
        final Path dir;
        final Fd cgroup;
        final Fd counters;
        final List<Object[]> progs = new ArrayList<>();

        Attached(String tag) throws Exception {
            dir = cgroupRoot().resolve("cgbpf-hooktest-" + ProcessHandle.current().pid() + "-" + tag);
            Files.createDirectory(dir);
            cgroup = CgroupDir.open(dir);
            counters = MapCreate.mapCreate(DenialCounters.SPEC.type().value(), 4, 8, DenialCounters.SLOTS, 0, "cgbpf_denials");
        }

        void attach(List<CompiledProgram> list) throws BpfException {
            for (CompiledProgram p : list) {
                int expected = p.loadRequest(0).expectedAttach() == null ? 0 : p.attachType().value();
                Fd fd = ProgLoad.progLoad(p.type().value(), p.program().encode(), "GPL", p.name(), expected, 0).fd();
                ProgAttach.progAttach(cgroup, fd, p.attachType().value(), Set.of(AttachFlag.ALLOW_MULTI), null);
                progs.add(new Object[] {fd, p});
            }
        }

        long count(DenialReason r) throws BpfException {
            byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(r.key()).array();
            return ByteBuffer.wrap(MapElem.lookupElem(counters, key, 8, 0)).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }

        /** Runs python in this cgroup (the shell moves itself in before exec) and returns its lines as key -> value. */
        Map<String, String> runChild(String script) throws Exception {
            Process p = new ProcessBuilder("/bin/sh", "-c",
                    "echo $$ > " + dir.resolve("cgroup.procs") + " && exec /usr/bin/python3 -c \"$0\"", script)
                    .redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child did not finish");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            Map<String, String> m = new TreeMap<>();
            for (String line : out.split("\n")) {
                int sp = line.indexOf(' ');
                if (sp > 0) {
                    m.put(line.substring(0, sp), line.substring(sp + 1));
                }
            }
            return m;
        }

        @Override
        public void close() throws IOException {
            for (Object[] o : progs) {
                Fd fd = (Fd) o[0];
                try {
                    ProgAttach.progDetach(cgroup, fd, ((CompiledProgram) o[1]).attachType().value());
                } catch (BpfException e) {
                    // the rmdir below detaches anything left
                }
                fd.close();
            }
            counters.close();
            cgroup.close();
            // a child that just exited can keep the cgroup busy for a moment (EBUSY): retry
            for (int i = 0; ; i++) {
                try {
                    Files.deleteIfExists(dir);
                    return;
                } catch (IOException e) {
                    if (i >= 50) {
                        throw e;
                    }
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw e;
                    }
                }
            }
        }
    }

    static Path cgroupRoot() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] halves = line.split(" - ", 2);
            if (halves.length == 2 && halves[1].startsWith("cgroup2 ")) {
                return Path.of(halves[0].split(" ")[4]);
            }
        }
        throw new IllegalStateException("no cgroup2 mount");
    }

    private static final String PY_HELPERS = String.join("\n",
            "import socket, errno",
            "def attempt(name, f):",
            "    try:",
            "        print(name, f())",
            "    except OSError as e:",
            "        print(name, errno.errorcode[e.errno])",
            "def bound(fam, typ, addr, v6only=None):",
            "    s = socket.socket(fam, typ)",
            "    if v6only is not None: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)",
            "    s.bind(addr)",
            "    return s.getsockname()[0] + ' ' + str(s.getsockname()[1] != 0)",
            "");

    @Test
    void rewriteModeMovesBindsConnectsAndSendsToTheContainerAddress() throws Exception {
        NetworkPolicy net = ProgramsKernelTest.net(OWN, BindMode.REWRITE, "", Set.of());
        List<DeviceRule> rules = List.of(
                DeviceRule.of(false, DeviceType.ALL, DeviceRule.ANY, DeviceRule.ANY, "rwm"),
                DeviceRule.of(true, DeviceType.CHAR, 1, 3, "rwm"),
                DeviceRule.of(true, DeviceType.CHAR, 1, 5, "rwm"),
                DeviceRule.of(true, DeviceType.CHAR, 1, 9, "rwm"),
                DeviceRule.of(false, DeviceType.CHAR, 1, 5, "w"));
        try (Attached a = new Attached("rewrite");
             ServerSocket tcp = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
             DatagramSocket udp = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            DenialCounters dc = new DenialCounters(a.counters.get());
            List<CompiledProgram> progs = new ArrayList<>(SockAddrCompiler.compile(net, dc));
            progs.add(DeviceCompiler.program(DevicesEmulator.merge(rules), dc));
            a.attach(progs);
            tcp.setSoTimeout(20_000);
            udp.setSoTimeout(20_000);
            List<String> peers = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                for (int i = 0; i < 2; i++) {
                    try (Socket s = tcp.accept()) {
                        peers.add(s.getInetAddress().getHostAddress());
                    } catch (IOException e) {
                        peers.add("accept failed: " + e.getMessage());
                    }
                }
            });
            acceptor.start();
            String script = PY_HELPERS + String.join("\n",
                    "attempt('bind4', lambda: bound(socket.AF_INET, socket.SOCK_STREAM, ('0.0.0.0', 0)))",
                    "attempt('bind4lo', lambda: bound(socket.AF_INET, socket.SOCK_STREAM, ('127.0.0.1', 0)))",
                    "attempt('bind6', lambda: bound(socket.AF_INET6, socket.SOCK_STREAM, ('::', 0), 0))",
                    "def conn(fam, host):",
                    "    c = socket.socket(fam, socket.SOCK_STREAM); c.connect((host, " + tcp.getLocalPort() + "))",
                    "    return c.getsockname()[0]",
                    "attempt('conn4', lambda: conn(socket.AF_INET, '127.0.0.1'))",
                    "attempt('conn6', lambda: conn(socket.AF_INET6, '::ffff:127.0.0.1'))",
                    "def send(fam, host):",
                    "    u = socket.socket(fam, socket.SOCK_DGRAM); u.sendto(b'x', (host, " + udp.getLocalPort() + "))",
                    "    return 'sent'",
                    "attempt('send4', lambda: send(socket.AF_INET, '127.0.0.1'))",
                    "attempt('send6', lambda: send(socket.AF_INET6, '::ffff:127.0.0.1'))",
                    "attempt('zero-read', lambda: len(open('/dev/zero', 'rb', buffering=0).read(4)))",
                    "attempt('zero-write', lambda: open('/dev/zero', 'wb', buffering=0).write(b'a'))",
                    "attempt('zero-rdwr', lambda: open('/dev/zero', 'r+b', buffering=0).read(1) and 'opened')",
                    "attempt('null-write', lambda: open('/dev/null', 'wb', buffering=0).write(b'a'))",
                    "attempt('full-read', lambda: open('/dev/full', 'rb', buffering=0).read(1) and 'opened')",
                    "");
            Map<String, String> r = a.runChild(script);
            List<String> sources = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                DatagramPacket d = new DatagramPacket(new byte[16], 16);
                udp.receive(d);
                sources.add(d.getAddress().getHostAddress());
            }
            acceptor.join(20_000);
            System.out.println("child: " + r + "\ntcp peers: " + peers + "\nudp sources: " + sources
                    + "\ndevice denials: " + a.count(DenialReason.DEVICE));
            assertEquals(OWN + " True", r.get("bind4"));
            assertEquals(OWN + " True", r.get("bind4lo"));
            assertEquals("::ffff:" + OWN + " True", r.get("bind6"));
            assertEquals(OWN, r.get("conn4"));
            assertEquals("::ffff:" + OWN, r.get("conn6"));
            assertEquals(List.of(OWN, OWN), peers);
            assertEquals(List.of(OWN, OWN), sources);
            assertEquals("4", r.get("zero-read"));
            assertEquals("EPERM", r.get("zero-write"));
            assertEquals("EPERM", r.get("zero-rdwr"));
            assertEquals("1", r.get("null-write"));
            assertEquals("EPERM", r.get("full-read"));
            assertEquals(3, a.count(DenialReason.DEVICE));
            assertEquals(0, a.count(DenialReason.BIND_ADDRESS));
        }
    }

    @Test
    void denyModePortsAndSocketRulesRefuseAndCount() throws Exception {
        NetworkPolicy net = ProgramsKernelTest.net(OWN, BindMode.DENY, "8000-8099", EnumSet.of(SocketRule.RAW));
        try (Attached a = new Attached("deny")) {
            DenialCounters dc = new DenialCounters(a.counters.get());
            List<CompiledProgram> progs = new ArrayList<>(SockAddrCompiler.compile(net, dc));
            SockCreateCompiler.compile(net.denySockets(), dc).ifPresent(progs::add);
            a.attach(progs);
            String script = PY_HELPERS + String.join("\n",
                    "attempt('wild4', lambda: bound(socket.AF_INET, socket.SOCK_STREAM, ('0.0.0.0', 0)))",
                    "attempt('own4', lambda: bound(socket.AF_INET, socket.SOCK_STREAM, ('" + OWN + "', 0)))",
                    "attempt('wild6', lambda: bound(socket.AF_INET6, socket.SOCK_STREAM, ('::', 0), 0))",
                    "attempt('port9000', lambda: bound(socket.AF_INET, socket.SOCK_STREAM, ('" + OWN + "', 9000)))",
                    "attempt('port8042', lambda: bound(socket.AF_INET, socket.SOCK_DGRAM, ('" + OWN + "', 8042)))",
                    "attempt('raw', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) and 'made')",
                    "attempt('udp', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM) and 'made')",
                    "");
            Map<String, String> r = a.runChild(script);
            System.out.println("child: " + r + "\ncounters: address " + a.count(DenialReason.BIND_ADDRESS) + ", port "
                    + a.count(DenialReason.BIND_PORT) + ", socket " + a.count(DenialReason.SOCKET));
            assertEquals("EPERM", r.get("wild4"));
            assertEquals(OWN + " True", r.get("own4"));
            assertEquals("EPERM", r.get("wild6"));
            assertEquals("EPERM", r.get("port9000"));
            assertEquals(OWN + " True", r.get("port8042"));
            assertEquals("EPERM", r.get("raw"));
            assertEquals("made", r.get("udp"));
            assertEquals(2, a.count(DenialReason.BIND_ADDRESS));
            assertEquals(1, a.count(DenialReason.BIND_PORT));
            assertEquals(1, a.count(DenialReason.SOCKET));
        }
    }
}
