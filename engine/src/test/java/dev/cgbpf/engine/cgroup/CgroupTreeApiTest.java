package dev.cgbpf.engine.cgroup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cgbpf.engine.backend.BpfException;
import java.util.List;
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
        AttachFlags f = AttachFlags.fromNames(List.of("replace", "allow_multi"));
        assertEquals(6, f.bits());
        assertEquals(List.of("allow_multi", "replace"), f.names());
        assertEquals(List.of(), AttachFlags.NONE.names());
        assertEquals(new AttachFlags(2), f.mode());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttachFlags.fromNames(List.of("allow_everything")));
        assertEquals("unknown attach flag 'allow_everything'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new AttachFlags(8));
    }
}
