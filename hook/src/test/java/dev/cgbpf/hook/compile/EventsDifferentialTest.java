package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.hook.events.DenialEvent;
import dev.cgbpf.hook.policy.BindMode;
import dev.cgbpf.hook.policy.DeviceRule;
import dev.cgbpf.hook.policy.DeviceType;
import dev.cgbpf.hook.policy.DevicesEmulator;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.hook.policy.SocketRule;
import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.RingBuf;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The denial event programs on both backends: the socket programs (socket create, bind, connect,
 * sendmsg) and the device program, compiled once with their event tail, loaded and attached to a
 * cgroup of the kernel and of the engine, asked the same probes. Each probe must get the same
 * answer and leave the same events: kind, rule, object fields and address alike, the cgroup id
 * each backend's own id of the probed cgroup. pid, tid and comm differ by backend by nature and
 * are checked to be the probing task's: the kernel backend's probe worker (a process moved into
 * the cgroup), the engine's calling thread.
 */
class EventsDifferentialTest {
    private static final String OWN = "127.0.0.5";
    private static final String CGROUP = "ev";

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    private interface ProbeCall {
        Object run(Backend b) throws BpfException;
    }

    /** The probes, in order: name and call. */
    private static Map<String, ProbeCall> probes() throws Exception {
        InetAddress own = InetAddress.getByName(OWN);
        InetAddress foreign = InetAddress.getByName("127.0.0.9");
        InetAddress v6 = InetAddress.getByName("::1");
        Map<String, ProbeCall> p = new LinkedHashMap<>();
        p.put("bind own", b -> b.bind(CGROUP, Probe.Family.INET, Probe.Proto.TCP, own, 8011));
        p.put("bind foreign", b -> b.bind(CGROUP, Probe.Family.INET, Probe.Proto.TCP, foreign, 8012));
        p.put("bind port", b -> b.bind(CGROUP, Probe.Family.INET, Probe.Proto.UDP, own, 81));
        p.put("bind6", b -> b.bind(CGROUP, Probe.Family.INET6, Probe.Proto.TCP, v6, 8013));
        p.put("connect6", b -> b.connect(CGROUP, Probe.Family.INET6, Probe.Proto.TCP, v6, 9));
        p.put("sendmsg6", b -> b.sendmsg(CGROUP, Probe.Family.INET6, v6, 9, null));
        p.put("sendmsg from foreign", b -> b.sendmsg(CGROUP, Probe.Family.INET, foreign, 9, foreign));
        p.put("socket raw icmp", b -> b.socket(CGROUP, Probe.Family.INET, Probe.SockType.RAW, 1));
        p.put("socket udp", b -> b.socket(CGROUP, Probe.Family.INET, Probe.SockType.DGRAM, 0));
        p.put("device c 1:5 w", b -> b.device(CGROUP, new Probe.DeviceAccess('c', 1, 5, "w")));
        p.put("device c 1:3 rw", b -> b.device(CGROUP, new Probe.DeviceAccess('c', 1, 3, "rw")));
        p.put("device c 1:7 m", b -> b.device(CGROUP, new Probe.DeviceAccess('c', 1, 7, "m")));
        return p;
    }

    /** The programs: the socket programs of a bind-mode deny policy and a device allowlist. */
    private static List<CompiledProgram> programs() throws Exception {
        DenialCounters dc = DenialCounters.UNBOUND_WITH_EVENTS;
        NetworkPolicy net = ProgramsKernelTest.net(OWN, BindMode.DENY, "8000-8099", EnumSet.of(SocketRule.RAW));
        List<CompiledProgram> progs = new ArrayList<>(SockAddrCompiler.compile(net, dc));
        SockCreateCompiler.compile(net.denySockets(), dc).ifPresent(progs::add);
        progs.add(DeviceCompiler.program(DevicesEmulator.merge(List.of(
                DeviceRule.of(true, DeviceType.CHAR, 1, 3, "rwm"), DeviceRule.of(true, DeviceType.CHAR, 1, 5, "r"))), dc));
        return progs;
    }

    /** What a probe answered and the events it left, the backend-dependent fields checked and left out. */
    private record Outcome(String answer, List<String> events) {
    }

    @Test
    void theSameProbesLeaveTheSameEventsOnTheKernelAndTheEngine() throws Exception {
        List<CompiledProgram> progs = programs();
        assertTrue(progs.stream().filter(CompiledProgram::reportsEvents).count() >= 5,
                "the socket programs report events: " + progs.stream().map(CompiledProgram::name).toList());
        Map<String, Outcome> onKernel;
        Map<String, Outcome> onEngine;
        try (KernelBackend kernel = new KernelBackend()) {
            BpfMap ring = setUp(kernel, progs);
            try (RingBuf reader = RingBuf.map(ring.fd(), DenialCounters.EVENTS_SPEC.maxEntries())) {
                onKernel = run(kernel, reader::consume, () -> kernelTask(kernel));
            }
        }
        try (EngineBackend engine = new EngineBackend()) {
            BpfMap ring = setUp(engine, progs);
            onEngine = run(engine, engine.ringBuf(ring)::consume, EventsDifferentialTest::engineTask);
        }
        assertEquals(onKernel, onEngine);
        List<String> kinds = onKernel.values().stream().flatMap(o -> o.events().stream())
                .map(e -> e.substring(0, e.indexOf(' '))).toList();
        assertTrue(kinds.containsAll(List.of("bind-address", "bind-port", "connect", "sendmsg", "socket", "device")),
                "every socket kind reported: " + kinds);
        assertEquals("EPERM", onKernel.get("bind foreign").answer());
        assertEquals("EPERM", onKernel.get("socket raw icmp").answer());
        assertEquals("ok", onKernel.get("bind own").answer());
        assertEquals(List.of(), onKernel.get("bind own").events(), "an allowed probe reports nothing");
    }

    /** The cgroup, the counter map and the ring, the programs loaded and attached; returns the ring. */
    private static BpfMap setUp(Backend b, List<CompiledProgram> progs) throws BpfException {
        b.mkdir(CGROUP);
        BpfMap counters = b.createMap(DenialCounters.SPEC);
        BpfMap ring = b.createMap(DenialCounters.EVENTS_SPEC);
        for (CompiledProgram p : progs) {
            LoadedProg lp = b.load(p.withCounters(counters.fd()).withEvents(ring.fd()).loadRequest(0));
            b.attach(CGROUP, lp, p.attachType(), EnumSet.of(AttachFlag.ALLOW_MULTI), null);
        }
        return ring;
    }

    private interface Reader {
        int consume(Consumer<byte[]> handler, int max);
    }

    private interface Task {
        /** pid, tid and comm of the task that made the probe's system calls, checked against the event. */
        void check(DenialEvent e) throws IOException;
    }

    private static Map<String, Outcome> run(Backend b, Reader reader, java.util.function.Supplier<Task> task)
            throws Exception {
        long cgroupId = b.cgroupId(CGROUP);
        Map<String, Outcome> out = new LinkedHashMap<>();
        for (Map.Entry<String, ProbeCall> p : probes().entrySet()) {
            String answer;
            try {
                Object r = p.getValue().run(b);
                answer = r instanceof Boolean allowed ? (allowed ? "allowed" : "denied") : "ok";
            } catch (BpfException e) {
                answer = e.errno();
            }
            List<byte[]> raw = new ArrayList<>();
            reader.consume(raw::add, 100);
            List<String> events = new ArrayList<>();
            for (byte[] rec : raw) {
                DenialEvent e = DenialEvent.decode(rec).orElseThrow();
                assertEquals(cgroupId, e.cgroupId(), b.name() + ": " + p.getKey() + ": the probed cgroup's id");
                task.get().check(e);
                events.add(e.kind().word() + " rule " + e.rule() + ": " + e.object() + " [" + e.a0() + " " + e.a1()
                        + " " + e.a2() + " " + e.port() + " " + HexFormat.of().formatHex(e.addr()) + "]");
            }
            out.put(p.getKey(), new Outcome(answer, events));
        }
        return out;
    }

    /** The kernel backend's probe worker: its pid, one of its threads, that thread's comm. */
    private static Task kernelTask(KernelBackend kernel) {
        return e -> {
            assertEquals(kernel.workerPid(), e.pid(), "the probe worker's pid");
            Path thread = Path.of("/proc", Integer.toString(e.pid()), "task", Integer.toString(e.tid()));
            assertTrue(Files.isDirectory(thread), "tid " + e.tid() + " is a thread of the worker");
            assertEquals(read(thread.resolve("comm")), e.comm(), "that thread's comm");
        };
    }

    /** The engine's probing task: this JVM and the calling thread. */
    private static Task engineTask() {
        return e -> {
            assertEquals(ProcessHandle.current().pid(), e.pid(), "this process");
            String[] self = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString().split("/");
            assertEquals(Integer.parseInt(self[2]), e.tid(), "the calling thread");
            assertEquals(read(Path.of("/proc/thread-self/comm")), e.comm(), "its comm");
        };
    }

    private static String read(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
    }
}
