package dev.cgbpf.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Lifetime;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Several engine backends on one {@link EngineHost}, as processes on one kernel: what a
 * persistent backend attaches and pins keeps running for the next one, with its maps, after the
 * first backend and all its fds are gone; a scoped backend takes its things away.
 */
class EngineHostTest {
    private static final Probe.DeviceAccess NULL_READ = new Probe.DeviceAccess('c', 1, 3, "r");
    private static final byte[] KEY0 = new byte[4];
    private final EngineHost host = new EngineHost();
    private final Path pins = host.bpffsMount().resolve("ctr");

    /** A device program that counts the accesses it sees in element 0 of {@code counters}, then allows. */
    private static LoadedProg counting(EngineBackend b, BpfMap counters) throws BpfException {
        return b.load(new LoadRequest("count", ProgType.CGROUP_DEVICE, null, new Assembler(Map.of("c", counters.fd())::get)
                .assemble(List.of("r1 = 0", "*(u32 *)(r10 -4) = r1", "r2 = r10", "r2 += -4", "r1 = map[c]",
                        "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto pc+3", "r1 = *(u64 *)(r0 +0)", "r1 += 1",
                        "*(u64 *)(r0 +0) = r1", "r0 = 1", "exit")), "GPL", 0));
    }

    private static long count(EngineBackend b, BpfMap m) throws BpfException {
        return ByteBuffer.wrap(b.lookup(m, KEY0)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void aPersistentBackendsProgramAndMapOutliveItsFds() throws Exception {
        host.cgroups().mkdir("ctr");
        int id;
        try (EngineBackend hook = EngineBackend.atCgroupRoot(host, "ctr", Lifetime.PERSISTENT)) {
            hook.pinMkdir(pins);
            BpfMap counters = hook.createMap(new MapSpec("counters", MapType.ARRAY, 4, 8, 1, 0));
            hook.objPin(counters, pins.resolve("counters"));
            LoadedProg p = counting(hook, counters);
            hook.attach("", p, AttachType.CGROUP_DEVICE, EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            id = hook.progInfo(p).id();
            assertTrue(hook.device("", NULL_READ));
            assertEquals(1, count(hook, counters));
        }
        try (EngineBackend status = EngineBackend.atCgroupRoot(host, "ctr", Lifetime.SCOPED)) {
            assertTrue(status.isAttached("", AttachType.CGROUP_DEVICE, id));
            assertTrue(status.device("", NULL_READ), "the program runs with its map after every fd of it closed");
            BpfMap ro = status.mapGet(pins.resolve("counters"), ObjAccess.READ_ONLY);
            assertEquals(2, count(status, ro));
            assertEquals("EPERM", assertThrows(BpfException.class, () -> status.update(ro, KEY0, new byte[8], 0)).errno());
            assertEquals(List.of("counters"), status.pinList(pins));
        }
        assertEquals(List.of(id), host.cgroups().attached(host.cgroups().lookup("ctr"), AttachType.CGROUP_DEVICE)
                .stream().map(p -> ((EngineProg) p).id).toList(), "a scoped backend detaches only what it loaded");
    }

    @Test
    void aScopedBackendAtAnExistingCgroupTakesOnlyItsOwnThings() throws Exception {
        host.cgroups().mkdir("ctr");
        try (EngineBackend b = EngineBackend.atCgroupRoot(host, "ctr", Lifetime.SCOPED)) {
            b.pinMkdir(pins);
            LoadedProg p = b.load(new LoadRequest("deny", ProgType.CGROUP_DEVICE, null,
                    new Assembler(n -> null).assemble(List.of("r0 = 0", "exit")), "GPL", 0));
            b.attach("", p, AttachType.CGROUP_DEVICE, EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            b.objPin(p, pins.resolve("deny"));
            b.objPin(b.linkCreate("", p, AttachType.CGROUP_DEVICE), pins.resolve("deny_link"));
            b.mkdir("sub");
            assertFalse(b.device("sub", NULL_READ));
        }
        assertTrue(host.cgroups().attached(host.cgroups().lookup("ctr"), AttachType.CGROUP_DEVICE).isEmpty());
        assertEquals("ENOENT", assertThrows(BpfException.class, () -> host.cgroups().lookup("ctr/sub")).errno());
        try (EngineBackend b = EngineBackend.openScenario(host)) {
            assertEquals(List.of(), b.pinList(host.bpffsMount()));
            assertTrue(host.cgroups().lookup("ctr").isOnline(), "the existing root stays");
        }
    }

    @Test
    void scenarioBackendsOnOneHostGetRootsOfTheirOwn() throws Exception {
        try (EngineBackend a = EngineBackend.openScenario(host); EngineBackend b = EngineBackend.openScenario(host)) {
            a.mkdir("x");
            b.mkdir("x");
            assertTrue(a.cgroupId("x") != b.cgroupId("x"));
        }
        assertEquals(1, host.cgroups().size(), "both scenario roots are gone with their backends");
    }
}
