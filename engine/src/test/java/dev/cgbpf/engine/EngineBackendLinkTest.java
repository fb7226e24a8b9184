package dev.cgbpf.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.isa.Assembler;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Cgroup links through the engine backend: fds, what the hooks run, storage, and the EBADF of a
 * closed link. The attach rules themselves are {@code cgroup.KernelLinkRulesTest}'s.
 */
class EngineBackendLinkTest {
    private static final Probe.DeviceAccess NULL_READ = new Probe.DeviceAccess('c', 1, 3, "r");
    private final EngineBackend engine = new EngineBackend(100_000);

    @AfterEach
    void close() {
        engine.close();
    }

    private LoadedProg device(String name, int ret) throws BpfException {
        return engine.load(new LoadRequest(name, ProgType.CGROUP_DEVICE, null,
                new Assembler(n -> null).assemble(List.of("r0 = " + ret, "exit")), "GPL", 0));
    }

    private static String errno(Executable e) {
        return assertThrows(BpfException.class, e::run).errno();
    }

    interface Executable {
        void run() throws Exception;
    }

    @Test
    void theHookRunsTheLinkAndItsUpdates() throws Exception {
        LoadedProg deny = device("deny", 0);
        LoadedProg allow = device("allow", 1);
        engine.mkdir("c");
        LinkFd link = engine.linkCreate("c", deny, AttachType.CGROUP_DEVICE);
        assertEquals(5, link.fd(), "fds start at 3: the two programs hold 3 and 4, the link takes the next");
        assertFalse(engine.device("c", NULL_READ));
        QueryResult q = engine.query("c", AttachType.CGROUP_DEVICE, false, -1);
        assertEquals(List.of("deny"), q.progs());
        assertEquals(EnumSet.of(AttachFlag.ALLOW_MULTI), q.flags());
        engine.linkUpdate(link, allow, deny);
        assertTrue(engine.device("c", NULL_READ));
        assertEquals("EPERM", errno(() -> engine.linkUpdate(link, deny, deny)));
        engine.linkDetach(link);
        engine.linkDetach(link);
        assertEquals("ENOLINK", errno(() -> engine.linkUpdate(link, deny, null)));
        assertEquals(0, engine.query("c", AttachType.CGROUP_DEVICE, false, -1).count());
    }

    @Test
    void closingTheFdDetachesAndFreesTheNumber() throws Exception {
        LoadedProg deny = device("deny", 0);
        engine.mkdir("c");
        LinkFd link = engine.linkCreate("c", deny, AttachType.CGROUP_DEVICE);
        int fd = link.fd();
        link.close();
        assertTrue(engine.device("c", NULL_READ));
        assertNull(link.cgroupLink().cgroup());
        assertEquals("EBADF", errno(() -> engine.linkUpdate(link, deny, null)));
        assertEquals("EBADF", errno(() -> engine.linkDetach(link)));
        BpfMap next = engine.createMap(new MapSpec("next", MapType.ARRAY, 4, 4, 1, 0));
        assertEquals(fd, next.fd(), "the lowest free fd is the link's again");
    }

    @Test
    void programsOfAnotherBackendAreEbadf() throws Exception {
        engine.mkdir("c");
        try (EngineBackend other = new EngineBackend()) {
            LoadedProg foreign = other.load(new LoadRequest("f", ProgType.CGROUP_DEVICE, null,
                    new Assembler(n -> null).assemble(List.of("r0 = 1", "exit")), "GPL", 0));
            assertEquals("EBADF", errno(() -> engine.linkCreate("c", foreign, AttachType.CGROUP_DEVICE)));
            LinkFd link = engine.linkCreate("c", device("mine", 1), AttachType.CGROUP_DEVICE);
            assertEquals("EBADF", errno(() -> engine.linkUpdate(link, foreign, null)));
            assertEquals("EBADF", errno(() -> other.linkDetach(link)));
        }
    }

    @Test
    void aLinkAllocatesTheProgramsCgroupStorage() throws Exception {
        BpfMap m = engine.createMap(new MapSpec("st", MapType.CGROUP_STORAGE, 16, 8, 0, 0));
        AttachType create = AttachType.CGROUP_INET_SOCK_CREATE;
        LoadedProg counter = engine.load(new LoadRequest("count", ProgType.CGROUP_SOCK, create,
                new Assembler(Map.of("m", m.fd())::get).assemble(List.of(
                        "r1 = map[m]", "r2 = 0", "call bpf_get_local_storage#81",
                        "r1 = *(u64 *)(r0 +0)", "r1 += 1", "*(u64 *)(r0 +0) = r1", "r0 = 1", "exit")), "GPL", 0));
        engine.mkdir("c");
        assertEquals("ENOENT", errno(() -> engine.storage("c", create, m)));
        engine.linkCreate("c", counter, create);
        engine.socket("c", Probe.Family.INET, Probe.SockType.STREAM, 0);
        assertEquals(1, engine.storage("c", create, m)[0]);
    }

    @Test
    void rmdirLeavesTheLinkDefunctAndCloseOfTheBackendReleasesTheRest() throws Exception {
        LoadedProg p = device("p", 1);
        engine.mkdir("c");
        LinkFd onChild = engine.linkCreate("c", p, AttachType.CGROUP_DEVICE);
        LinkFd onRoot = engine.linkCreate("", p, AttachType.CGROUP_DEVICE);
        engine.rmdir("c");
        assertEquals("ENOLINK", errno(() -> engine.linkUpdate(onChild, p, null)));
        engine.close();
        assertNull(onRoot.cgroupLink().cgroup());
        assertTrue(onRoot.cgroupLink().isClosed());
    }
}
