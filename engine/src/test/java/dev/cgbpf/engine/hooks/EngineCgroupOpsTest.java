package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The wave-2 cgroup ops of {@link EngineBackend}: paths relative to a fresh root, names in query, close. */
class EngineCgroupOpsTest {
    private static LoadedProg prog(EngineBackend e, String name) throws BpfException {
        return e.load(new LoadRequest(name, ProgType.CGROUP_DEVICE, null, new Assembler(n -> null).assemble(List.of("r0 = 1", "exit")), "GPL", 0));
    }

    @Test
    void pathsQueryNamesAndTheRoot() throws Exception {
        try (EngineBackend e = new EngineBackend()) {
            e.mkdir("a");
            e.mkdir("a/b");
            assertEquals("EEXIST", assertThrows(BpfException.class, () -> e.mkdir(".")).errno());
            LoadedProg p = prog(e, "p");
            LoadedProg q = prog(e, "q");
            e.attach("", p, AttachType.CGROUP_DEVICE, EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            e.attach("a/b", q, AttachType.CGROUP_DEVICE, EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            assertEquals(new QueryResult(Set.of(), List.of("q", "p"), 2, null), e.query("a/b", AttachType.CGROUP_DEVICE, true, -1));
            assertEquals(new QueryResult(Set.of(AttachFlag.ALLOW_MULTI), List.of("q"), 1, null),
                    e.query("a/b", AttachType.CGROUP_DEVICE, false, -1));
            assertEquals(new QueryResult(Set.of(), List.of("q"), 2, "ENOSPC"), e.query("a/b", AttachType.CGROUP_DEVICE, true, 1));
            assertThrows(IllegalArgumentException.class, () -> e.mkdir("../x"));
            assertThrows(IllegalArgumentException.class, () -> e.mkdir("/x"));
            assertEquals("EBUSY", assertThrows(BpfException.class, () -> e.rmdir("")).errno());
            e.rmdir("a/b");
            e.rmdir("a");
            e.rmdir("");
            assertEquals("ENOENT", assertThrows(BpfException.class, () -> e.mkdir("z")).errno(), "the root is gone");
        }
    }

    @Test
    void programsOfAnotherBackendAreEbadf() throws Exception {
        try (EngineBackend e = new EngineBackend(); EngineBackend other = new EngineBackend()) {
            LoadedProg foreign = prog(other, "f");
            assertEquals("EBADF", assertThrows(BpfException.class,
                    () -> e.attach("", foreign, AttachType.CGROUP_DEVICE, Set.of(), null)).errno());
            LoadedProg p = prog(e, "p");
            p.close();
            assertEquals("EBADF", assertThrows(BpfException.class,
                    () -> e.attach("", p, AttachType.CGROUP_DEVICE, Set.of(), null)).errno());
        }
    }
}
