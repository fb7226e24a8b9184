package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupTree;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.jit.JitMode;
import dev.cgbpf.engine.jit.JitStats;
import dev.cgbpf.engine.maps.CgroupStorageMap;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One simulated machine for {@link EngineBackend}s: what the kernel keeps for all processes. The
 * cgroup hierarchy, the bpf file system, the id tables of programs, maps and links, and the
 * memory programs and maps live in. Each backend on it is like one process, with an fd table of
 * its own; what one backend pins or attaches, another on the same host finds, also after the
 * first is closed (with {@link dev.cgbpf.engine.backend.Lifetime#PERSISTENT}).
 *
 * <p>{@code new EngineBackend()} makes a host of its own; share one with
 * {@link EngineBackend#openScenario(EngineHost)} and {@link EngineBackend#atCgroupRoot}.
 */
public final class EngineHost {
    /** Where bpffs is mounted by convention, and the engine's default mount point. */
    public static final Path DEFAULT_BPFFS = Path.of("/sys/fs/bpf");
    /** The name of the first fresh scenario root under the tree's root ("scenario-N" for later ones). */
    static final String SCENARIO_ROOT = "scenario";

    final AddressSpace space = new AddressSpace();
    final CgroupTree tree = new CgroupTree();
    final EngineBpfFs bpffs;
    /** Every storage map made on this host, so an rmdir can free its cgroup's storages even in maps whose fd is closed. */
    final List<CgroupStorageMap> storageMaps = new CopyOnWriteArrayList<>();
    private final AtomicInteger progIds = new AtomicInteger();
    private final AtomicInteger mapIds = new AtomicInteger();
    private final AtomicInteger linkIds = new AtomicInteger();
    private int scenarioRoots;
    /** kernel: net.core.bpf_jit_enable, for the programs loaded from now on */
    private volatile JitMode jitMode = JitMode.defaultMode();
    private final JitStats jitStats = new JitStats();

    /** A host with its bpf file system at {@link #DEFAULT_BPFFS}. */
    public EngineHost() {
        this(DEFAULT_BPFFS);
    }

    /** @param bpffsMount where the host's bpf file system is mounted: absolute, normalized */
    public EngineHost(Path bpffsMount) {
        this.bpffs = new EngineBpfFs(bpffsMount);
    }

    /** Whether programs loaded on this host from now on are compiled ({@link JitMode}). */
    public JitMode jitMode() {
        return jitMode;
    }

    public void setJitMode(JitMode mode) {
        this.jitMode = java.util.Objects.requireNonNull(mode);
    }

    /** What the compiler did for this host's programs so far. */
    public JitStats.Snapshot jitStats() {
        return jitStats.snapshot();
    }

    JitStats jitStatsCounter() {
        return jitStats;
    }

    /** The cgroup hierarchy; paths are relative to its root (the cgroup v2 mount). */
    public CgroupTree cgroups() {
        return tree;
    }

    /** Where the bpf file system is mounted. */
    public Path bpffsMount() {
        return bpffs.mount();
    }

    /** prog_idr: ids from 1, never reused. */
    int nextProgId() {
        return progIds.incrementAndGet();
    }

    int nextMapId() {
        return mapIds.incrementAndGet();
    }

    int nextLinkId() {
        return linkIds.incrementAndGet();
    }

    /** A new, empty child of the tree's root for a scenario backend: "scenario", then "scenario-2", ... */
    synchronized Cgroup newScenarioRoot() {
        while (true) {
            scenarioRoots++;
            String name = scenarioRoots == 1 ? SCENARIO_ROOT : SCENARIO_ROOT + "-" + scenarioRoots;
            try {
                return tree.mkdir(name);
            } catch (BpfException e) {
                if (!e.errno().equals(Errno.EEXIST.name())) {
                    throw new IllegalStateException("cannot make a scenario root " + name, e);
                }
            }
        }
    }

    /** rmdir of a cgroup, and the storage side of cgroup_bpf_release: its storages in every map go with it. */
    void rmdir(Cgroup c) throws BpfException {
        tree.rmdir(c.path());
        for (CgroupStorageMap m : storageMaps) {
            m.freeCgroup(c.id());
        }
    }
}
