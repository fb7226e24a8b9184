package dev.cgbpf.engine.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.BpfException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Input handling of the tree and the flag names the scenario format uses. */
class CgroupTreeApiTest {
    final CgroupTree tree = new CgroupTree();

    @Test
    void rootPaths() throws Exception {
        assertSame(tree.root(), tree.lookup(""));
        assertSame(tree.root(), tree.lookup("."));
        assertEquals("", tree.root().path());
    }

    @Test
    void pathsThatEscapeOrAreMalformedAreRefused() {
        for (String bad : List.of("/a", "..", "a/..", "a//b", "a/", "./a")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tree.mkdir(bad), bad);
            assertEquals(true, e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void nestedPathsAndMessages() throws Exception {
        tree.mkdir("a");
        Cgroup ab = tree.mkdir("a/b");
        assertEquals("a/b", ab.path());
        assertEquals("b", ab.name());
        assertSame(ab, tree.lookup("a/b"));
        BpfException e = assertThrows(BpfException.class, () -> tree.lookup("a/c"));
        assertEquals("ENOENT", e.errno());
        assertEquals("ENOENT: no cgroup 'a/c'", e.getMessage());
    }

    @Test
    void flagNamesRoundTrip() {
        Set<AttachFlag> f = Set.of(AttachFlag.fromScenarioName("replace"), AttachFlag.fromScenarioName("allow_multi"));
        assertEquals(6, AttachFlag.bits(f));
        assertEquals("allow_multi|replace", AttachFlag.describe(f));
        assertEquals("none", AttachFlag.describe(Set.of()));
        assertEquals(f, AttachFlag.exactly(6));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttachFlag.fromScenarioName("allow_everything"));
        assertEquals("unknown attach flag 'allow_everything'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AttachFlag.exactly(8));
        assertEquals(Set.of(AttachFlag.ALLOW_MULTI), AttachFlag.of(2 | 64), "bits the kernel reports beyond the three are dropped");
    }
}
