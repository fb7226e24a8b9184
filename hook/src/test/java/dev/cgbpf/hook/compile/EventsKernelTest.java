package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.hook.events.DenialEvent;
import dev.cgbpf.hook.policy.BindMode;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.hook.policy.SocketRule;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.MapCreate;
import dev.cgbpf.kernel.RingBuf;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The socket programs' denial events on the kernel: a python child in a fresh cgroup binds to a
 * foreign address, to a denied port, connects to a family the container has no address of and
 * creates a denied socket; the ring buffer holds exactly those four events, in that order, with
 * the cgroup's id, the child's pid, its comm, the kind, the rule and the object; a permitted
 * bind reports nothing.
 */
class EventsKernelTest {
    private static final String OWN = "127.0.0.5";

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void eachDenialOfTheSocketProgramsIsOneEventWithItsObjectAndRule() throws Exception {
        NetworkPolicy net = ProgramsKernelTest.net(OWN, BindMode.DENY, "8000-8099", EnumSet.of(SocketRule.UDP));
        try (AttachKernelTest.Attached a = new AttachKernelTest.Attached("events");
             Fd ring = MapCreate.mapCreate(DenialCounters.EVENTS_SPEC.type().value(), 0, 0,
                     DenialCounters.EVENTS_SPEC.maxEntries(), 0, "cgbpf_events");
             RingBuf reader = RingBuf.map(ring.get(), DenialCounters.EVENTS_SPEC.maxEntries())) {
            DenialCounters dc = new DenialCounters(a.counters.get(), ring.get());
            List<CompiledProgram> progs = new ArrayList<>(SockAddrCompiler.compile(net, dc));
            SockCreateCompiler.compile(net.denySockets(), dc).ifPresent(progs::add);
            a.attach(progs);
            String script = String.join("\n",
                    "import errno, os, socket",
                    "print('pid', os.getpid())",
                    "def attempt(name, f):",
                    "    try:",
                    "        f()",
                    "        print(name, 'ok')",
                    "    except OSError as e:",
                    "        print(name, errno.errorcode[e.errno])",
                    "attempt('own', lambda: socket.socket().bind(('" + OWN + "', 8001)))",
                    "attempt('foreign', lambda: socket.socket().bind(('127.0.0.9', 8002)))",
                    "attempt('port', lambda: socket.socket().bind(('" + OWN + "', 81)))",
                    "attempt('conn6', lambda: socket.socket(socket.AF_INET6).connect(('::1', 9)))",
                    "attempt('udp', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))");
            Map<String, String> out = a.runChild(script);
            assertEquals("ok", out.get("own"));
            assertEquals("EPERM", out.get("foreign"));
            assertEquals("EPERM", out.get("port"));
            assertEquals("EPERM", out.get("conn6"));
            assertEquals("EPERM", out.get("udp"));
            int pid = Integer.parseInt(out.get("pid"));
            long cgroupId = (Long) Files.getAttribute(a.dir, "unix:ino");

            List<byte[]> raw = new ArrayList<>();
            reader.consume(raw::add, 100);
            List<DenialEvent> events = raw.stream().map(r -> DenialEvent.decode(r).orElseThrow()).toList();
            assertEquals(List.of(
                    "bind-address rule 0: bind 127.0.0.9:8002",
                    "bind-port rule 0: bind 127.0.0.5:81",
                    "connect rule 1: connect [0:0:0:0:0:0:0:1]:9",
                    "socket rule " + SocketRule.UDP.ordinal() + ": socket inet dgram udp"),
                    events.stream().map(e -> e.kind().word() + " rule " + e.rule() + ": " + e.object())
                            .collect(Collectors.toList()));
            for (DenialEvent e : events) {
                assertEquals(cgroupId, e.cgroupId(), "the container's cgroup");
                assertEquals(pid, e.pid(), "the child's pid (tgid)");
                assertEquals(pid, e.tid(), "its only thread");
                assertEquals("python3", e.comm());
            }
            assertArrayEquals(new int[] {2, 1, 6}, new int[] {events.get(0).a0(), events.get(0).a1(), events.get(0).a2()},
                    "family, type, protocol of the TCP socket");
            assertEquals(EventKind.SOCKET, events.get(3).kind());
            // the counters still count every denial; nothing was lost
            assertEquals(2, a.count(DenialReason.BIND_ADDRESS), "the bind and the connect");
            assertEquals(1, a.count(DenialReason.BIND_PORT));
            assertEquals(1, a.count(DenialReason.SOCKET));
            byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(DenialCounters.EVENTS_LOST).array();
            assertEquals(0, ByteBuffer.wrap(dev.cgbpf.kernel.MapElem.lookupElem(a.counters, key, 8, 0))
                    .order(ByteOrder.LITTLE_ENDIAN).getLong());
            assertEquals(72, EventLayout.SIZE);
        }
    }
}
