package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.hook.events.DenialEvent;
import dev.cgbpf.hook.policy.BindRequest;
import dev.cgbpf.hook.policy.DeviceAllowlist;
import dev.cgbpf.hook.policy.DeviceRule;
import dev.cgbpf.hook.policy.DeviceType;
import dev.cgbpf.hook.policy.DevicesEmulator;
import dev.cgbpf.hook.policy.FailurePolicy;
import dev.cgbpf.hook.policy.NetworkPolicy;
import dev.cgbpf.hook.policy.Policy;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.MapCreate;
import dev.cgbpf.kernel.MapElem;
import dev.cgbpf.kernel.RingBuf;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.BeforeAll;

/**
 * The device programs' denial events on the kernel, in both shapes: a host ceiling
 * ({@code cgbpf_dev_host}, allow-by-default, deny exceptions from "policy.json" rules) and a
 * container list ({@code cgbpf_dev}, deny-by-default) attached side by side to a fresh cgroup; a
 * python child there opens character devices; the ring holds exactly one event per refusing
 * program, with the cgroup, pid, comm, device and access, and the rule index of the deciding
 * exception (the host's flagged) or the container list's default, which the policy's rule words
 * name.
 */
class DeviceEventsKernelTest {
    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    private static DeviceRule rule(boolean allow, long minor, String access, String origin) {
        DeviceRule r = DeviceRule.of(allow, DeviceType.CHAR, 1, minor, access);
        return new DeviceRule(r.allow(), r.type(), r.major(), r.minor(), r.access(), origin);
    }

    @ParameterizedTest
    @EnumSource(DeviceShape.class)
    void eachRefusalOfADeviceProgramIsOneEventNamingTheDecidingRule(DeviceShape shape) throws Exception {
        // the host: /dev/null (1:3) not for reading, /dev/zero (1:5) and /dev/full (1:7) not for writing
        DevicesEmulator host = new DevicesEmulator(true);
        host.apply(rule(false, 3, "r", "policy.json devices[0] /dev/null"));
        host.apply(rule(false, 5, "w", "policy.json devices[1] /dev/zero"));
        host.apply(rule(false, 7, "w", "policy.json devices[2]"));
        DeviceAllowlist ceiling = host.result();
        // the container: deny everything, then null rwm, zero rw, full r (runc's order: a type a rule first)
        List<DeviceRule> own = List.of(
                new DeviceRule(false, DeviceType.ALL, DeviceRule.ANY, DeviceRule.ANY, 7,
                        "config.json linux.resources.devices[0]"),
                rule(true, 3, "rwm", "annotation dev.cgbpf.devices rule 1"),
                rule(true, 5, "rw", "annotation dev.cgbpf.devices rule 2"),
                rule(true, 7, "r", "annotation dev.cgbpf.devices rule 3"));
        DeviceAllowlist container = DevicesEmulator.merge(own);
        Policy policy = new Policy(true, FailurePolicy.CLOSED, own, container, ceiling, NetworkPolicy.NONE,
                BindRequest.NONE, List.of());

        List<Fd> maps = new ArrayList<>();
        try (AttachKernelTest.Attached a = new AttachKernelTest.Attached("devevents-" + shape);
             Fd ring = MapCreate.mapCreate(DenialCounters.EVENTS_SPEC.type().value(), 0, 0,
                     DenialCounters.EVENTS_SPEC.maxEntries(), 0, "cgbpf_events");
             RingBuf reader = RingBuf.map(ring.get(), DenialCounters.EVENTS_SPEC.maxEntries())) {
            DenialCounters dc = new DenialCounters(a.counters.get(), ring.get());
            List<CompiledProgram> progs = new ArrayList<>();
            for (CompiledProgram p : List.of(DeviceCompiler.program(DeviceCompiler.HOST_NAME, ceiling, dc, shape),
                    DeviceCompiler.program(DeviceCompiler.NAME, container, dc, shape))) {
                assertEquals(shape == DeviceShape.MAPS, p.map() != null, p.name());
                progs.add(p.map() == null ? p : p.bind(a.counters.get(), filled(p.map(), maps).get()));
            }
            a.attach(progs);
            String script = String.join("\n",
                    "import errno, os",
                    "print('pid', os.getpid())",
                    "def attempt(name, path, flags):",
                    "    try:",
                    "        os.close(os.open(path, flags))",
                    "        print(name, 'ok')",
                    "    except OSError as e:",
                    "        print(name, errno.errorcode[e.errno])",
                    "attempt('zero-r', '/dev/zero', os.O_RDONLY)",
                    "attempt('null-r', '/dev/null', os.O_RDONLY)",
                    "attempt('zero-rw', '/dev/zero', os.O_RDWR)",
                    "attempt('full-r', '/dev/full', os.O_RDONLY)",
                    "attempt('full-w', '/dev/full', os.O_WRONLY)",
                    "attempt('null-w', '/dev/null', os.O_WRONLY)");
            Map<String, String> out = a.runChild(script);
            assertEquals("ok", out.get("zero-r"), out.toString());
            assertEquals("EPERM", out.get("null-r"));
            assertEquals("EPERM", out.get("zero-rw"));
            assertEquals("ok", out.get("full-r"));
            assertEquals("EPERM", out.get("full-w"));
            assertEquals("ok", out.get("null-w"));
            int pid = Integer.parseInt(out.get("pid"));
            long cgroupId = (Long) Files.getAttribute(a.dir, "unix:ino");

            List<byte[]> raw = new ArrayList<>();
            reader.consume(raw::add, 100);
            List<DenialEvent> events = raw.stream().map(r -> DenialEvent.decode(r).orElseThrow()).toList();
            List<DenialRules.Rule> words = DenialRules.of(policy);
            int h = DenialRules.DEVICE_HOST;
            // the host's exceptions are sorted c 1:3, c 1:5, c 1:7: indices 0, 1, 2; an access both
            // lists refuse is refused by each program, in attach order (the kernel runs them all)
            assertEquals(List.of(
                    "rule " + h + ": open c 1:3 r by policy.json devices[0] /dev/null (deny c 1:3 r)",
                    "rule " + (h | 1) + ": open c 1:5 rw by policy.json devices[1] /dev/zero (deny c 1:5 w)",
                    "rule " + (h | 2) + ": open c 1:7 w by policy.json devices[2] (deny c 1:7 w)",
                    "rule " + DenialRules.DEVICE_DEFAULT + ": open c 1:7 w by config.json linux.resources.devices[0]"
                            + " (deny a *:* rwm): no later rule allows this access"),
                    events.stream().map(e -> "rule " + e.rule() + ": " + e.object() + " by " + text(words, e)).toList());
            for (DenialEvent e : events) {
                assertEquals(EventKind.DEVICE, e.kind());
                assertEquals(cgroupId, e.cgroupId(), "the child's cgroup");
                assertEquals(pid, e.pid(), "the child's pid (tgid)");
                assertEquals(pid, e.tid(), "its only thread");
                assertEquals("python3", e.comm());
            }
            assertEquals(4, a.count(DenialReason.DEVICE), "each refusing program counts");
            byte[] key = new byte[] {(byte) DenialCounters.EVENTS_LOST, 0, 0, 0};
            assertEquals(0, java.nio.ByteBuffer.wrap(MapElem.lookupElem(a.counters, key, 8, 0))
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(), "no event lost");
        } finally {
            for (Fd m : maps) {
                m.close();
            }
        }
    }

    private static String text(List<DenialRules.Rule> words, DenialEvent e) {
        return words.stream().filter(r -> r.kind().equals(e.kind().word()) && r.rule() == e.rule())
                .map(DenialRules.Rule::text).findFirst().orElse("(no words for rule " + e.rule() + ")");
    }

    /** The program's own map made and filled on the kernel (kept open in {@code maps} until the end). */
    private static Fd filled(ProgramMap m, List<Fd> maps) throws Exception {
        Fd fd = MapCreate.mapCreate(m.spec().type().value(), m.spec().keySize(), m.spec().valueSize(),
                m.spec().maxEntries(), 0, "cgbpf_test_map");
        maps.add(fd);
        for (ProgramMap.Entry e : m.entries()) {
            MapElem.updateElem(fd, e.key(), e.value(), MapElem.BPF_ANY);
        }
        return fd;
    }
}
