package dev.cgbpf.tools.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupTree;
import org.junit.jupiter.api.Test;

/** The benchmark builds the tree it claims and its attaches reach the leaves (it checks each). */
class PropagationBenchTest {
    @Test
    void smallRun() throws Exception {
        PropagationBench.Figures f = PropagationBench.run(1111, 10, 2);
        assertEquals(1111, f.cgroups());
        assertEquals(3, f.depth());
        assertTrue(f.attachRootMs() > 0 && f.detachRootMs() > 0 && f.attachRootMultiMs() > 0);
    }

    @Test
    void treeShape() throws Exception {
        CgroupTree tree = new CgroupTree();
        Cgroup last = PropagationBench.build(tree, 10_000, 10);
        assertEquals(10_000, tree.size());
        assertEquals(4, last.path().split("/").length);
    }
}
