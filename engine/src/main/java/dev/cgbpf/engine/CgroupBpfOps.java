package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LinkInfo;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.cgroup.Cgroup;
import dev.cgbpf.engine.cgroup.CgroupLink;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.cgroup.CgroupTree;
import dev.cgbpf.engine.maps.CgroupStorageMap;
import dev.cgbpf.engine.maps.EngineMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The cgroup side of an engine backend: mkdir and rmdir under the backend's root, BPF_PROG_ATTACH,
 * BPF_PROG_DETACH and BPF_PROG_QUERY on a cgroup (kernel/bpf/cgroup.c: cgroup_bpf_prog_attach,
 * cgroup_bpf_prog_detach, cgroup_bpf_prog_query), cgroup links (cgroup_bpf_link_attach,
 * BPF_LINK_UPDATE, BPF_LINK_DETACH), the cgroup storage a program sees, and the undoing of it all
 * at a scoped close. The rules are the {@link CgroupTree}'s; this class resolves paths and fds.
 */
final class CgroupBpfOps {
    private final EngineHost host;
    private final FdTable fds;
    private final Cgroup root;
    /** True when the root was made for this backend (a scenario root): teardown then removes it all. */
    private final boolean freshRoot;
    /** Cgroups this backend made, in order (removed by a scoped close under an existing root). */
    private final List<Cgroup> madeCgroups = Collections.synchronizedList(new ArrayList<>());

    CgroupBpfOps(EngineHost host, FdTable fds, Cgroup root, boolean freshRoot) {
        this.host = host;
        this.fds = fds;
        this.root = root;
        this.freshRoot = freshRoot;
    }

    /** The cgroup at a path relative to the backend's root; "" and "." are the root itself. */
    Cgroup cgroup(String path) throws BpfException {
        return host.tree.lookup(treePath(path));
    }

    private String treePath(String path) {
        if (path == null) {
            throw new IllegalArgumentException("cgroup path missing");
        }
        if (path.startsWith("/") || List.of(path.split("/", -1)).contains("..")) {
            throw new IllegalArgumentException("cgroup path '" + path + "' escapes the backend's root");
        }
        String base = root.path();
        if (path.isEmpty() || path.equals(".")) {
            return base;
        }
        return base.isEmpty() ? path : base + "/" + path;
    }

    /** kernel: cgroup_mkdir */
    void mkdir(String path) throws BpfException {
        madeCgroups.add(host.tree.mkdir(treePath(path)));
    }

    /**
     * rmdir, and cgroup_bpf_release: the cgroup's storages go with it.
     *
     * <p>kernel: cgroup_rmdir, cgroup_bpf_release
     */
    void rmdir(String path) throws BpfException {
        host.rmdir(cgroup(path));
    }

    /**
     * BPF_PROG_ATTACH, then bpf_cgroup_storages_alloc for the maps the program uses (kept if they exist).
     *
     * <p>kernel: bpf_prog_attach, cgroup_bpf_prog_attach, bpf_cgroup_storages_alloc
     */
    void attach(String path, LoadedProg loaded, AttachType type, Set<AttachFlag> flags, LoadedProg replace)
            throws BpfException {
        EngineProg p = fds.prog(loaded);
        EngineProg r = replace == null ? null : fds.prog(replace);
        Cgroup c = cgroup(path);
        host.tree.attach(c, p, type, flags, r);
        allocateStorage(p, c, type);
    }

    /** kernel: bpf_cgroup_storages_alloc */
    private static void allocateStorage(EngineProg p, Cgroup c, AttachType type) throws BpfException {
        for (EngineMap m : p.maps) {
            if (m instanceof CgroupStorageMap s) {
                s.allocate(c.id(), type);
            }
        }
    }

    /** kernel: bpf_prog_detach, cgroup_bpf_prog_detach */
    void detach(String path, AttachType type, LoadedProg loaded) throws BpfException {
        EngineProg p = loaded == null ? null : fds.prog(loaded);
        host.tree.detach(cgroup(path), type, p);
    }

    /** kernel: bpf_prog_query, cgroup_bpf_prog_query */
    QueryResult query(String path, AttachType type, boolean effective, int max) throws BpfException {
        if (max < -1) {
            throw new IllegalArgumentException("query buffer size must be >= 0 (or -1 for any), got " + max);
        }
        dev.cgbpf.engine.cgroup.QueryResult q = host.tree.query(cgroup(path), type, effective, max < 0 ? Integer.MAX_VALUE : max);
        List<String> names = new ArrayList<>();
        for (CgroupProg cp : q.progs()) {
            names.add(cp.name());
        }
        return new QueryResult(q.flags(), names, q.count(), q.noSpace() ? "ENOSPC" : null);
    }

    /** kernel: bpf_prog_query, cgroup_bpf_prog_query (prog_ids) */
    List<Integer> queryProgIds(String path, AttachType type, boolean effective) throws BpfException {
        List<Integer> ids = new ArrayList<>();
        for (CgroupProg cp : host.tree.query(cgroup(path), type, effective).progs()) {
            ids.add(cp instanceof EngineProg p ? p.id : 0);
        }
        return ids;
    }

    long cgroupId(String path) throws BpfException {
        return cgroup(path).id();
    }

    /**
     * The storage a program attached to (cgroup, type) sees: the map's element keyed by the cgroup's
     * id and the attach type (or the id alone for an 8-byte key); ENOENT when none was allocated.
     *
     * <p>kernel: cgroup_storage_lookup
     */
    byte[] storage(String path, AttachType type, BpfMap map) throws BpfException {
        EngineMap m = fds.map(map).map;
        if (!(m instanceof CgroupStorageMap s)) {
            throw new BpfException(Errno.EINVAL, "map '" + m.spec().name() + "' is not a cgroup storage map");
        }
        Cgroup c = cgroup(path);
        synchronized (s) {
            int i = s.lookupIndex(s.key(c.id(), type));
            if (i < 0) {
                throw new BpfException(Errno.ENOENT, "no storage of map '" + m.spec().name() + "' for cgroup '"
                        + path + "' and " + type.scenarioName());
            }
            return s.valueOf(i);
        }
    }

    /**
     * BPF_LINK_CREATE on a cgroup of this backend ({@link CgroupTree#linkCreate} has the rules):
     * the link gets an fd of its own, and closing its last fd (with no pin) detaches the program,
     * as closing a kernel link fd does. Cgroup storage is allocated for the program's maps as for
     * a plain attach.
     *
     * <p>kernel: link_create, cgroup_bpf_link_attach
     */
    LinkFd linkCreate(String path, LoadedProg loaded, AttachType type) throws BpfException {
        EngineProg p = fds.prog(loaded);
        Cgroup c = cgroup(path);
        CgroupLink cgroupLink = host.tree.linkCreate(c, p, type);
        allocateStorage(p, c, type);
        return new LinkFd(fds, new EngineLink(cgroupLink, host.nextLinkId()));
    }

    /**
     * BPF_LINK_UPDATE: EBADF for a closed link or a program not loaded here, then the rules of
     * {@link CgroupTree#linkUpdate}. {@code oldProg} non-null is BPF_F_REPLACE.
     *
     * <p>No cgroup storage is allocated for the new program: the kernel (6.18) keeps the link's
     * entry with the storage made when the link was created and accepts a new program using other
     * storage maps. Such a program then runs in the kernel on the old program's storage; in the
     * engine its bpf_get_local_storage finds no storage and the hook fails with EFAULT.
     *
     * <p>kernel: link_update, cgroup_bpf_replace
     */
    void linkUpdate(BpfLink link, LoadedProg newProg, LoadedProg oldProg) throws BpfException {
        LinkFd l = fds.link(link);
        EngineProg p = fds.prog(newProg);
        EngineProg old = oldProg == null ? null : fds.prog(oldProg);
        l.link.cgroupLink.update(p, old);
    }

    /**
     * BPF_LINK_DETACH: EBADF for a closed link; a defunct one succeeds doing nothing.
     *
     * <p>kernel: link_detach, bpf_cgroup_link_detach
     */
    void linkDetach(BpfLink link) throws BpfException {
        fds.link(link).link.cgroupLink.detach();
    }

    /** kernel: bpf_link_get_info_by_fd, bpf_cgroup_link_fill_link_info */
    LinkInfo linkInfo(BpfLink link) throws BpfException {
        EngineLink l = fds.link(link).link;
        CgroupLink cl = l.cgroupLink;
        Cgroup c = cl.cgroup();
        return new LinkInfo(l.id, cl.prog() instanceof EngineProg p ? p.id : 0, cl.attachType(), c == null ? 0 : c.id());
    }

    /**
     * The scoped close's cgroup part: detaches what {@code ours} accepts under the root (every
     * program under a fresh root) and removes the cgroups: all of them, the root included, for a
     * fresh root; else those this backend made, newest first.
     */
    void teardown(Predicate<CgroupProg> ours) {
        teardown(root, ours);
        if (!freshRoot) {
            List<Cgroup> made = new ArrayList<>(madeCgroups);
            for (int i = made.size() - 1; i >= 0; i--) {
                removeCgroup(made.get(i));
            }
        }
    }

    /** Detaches this backend's programs (all programs under a fresh root) below and at {@code c}, removing cgroups of a fresh root. */
    private void teardown(Cgroup c, Predicate<CgroupProg> ours) {
        for (Cgroup child : List.copyOf(c.children())) {
            teardown(child, ours);
        }
        if (!c.isOnline()) {
            return;
        }
        for (AttachType t : AttachType.values()) {
            if (t == AttachType.LIRC_MODE2) {
                continue;
            }
            for (CgroupProg p : host.tree.attached(c, t)) {
                if (!freshRoot && !ours.test(p)) {
                    continue;
                }
                try {
                    host.tree.detach(c, t, p);
                } catch (BpfException e) {
                    // already gone, or attached through a link (which goes with its fd)
                }
            }
        }
        if (freshRoot) {
            removeCgroup(c);
        }
    }

    private void removeCgroup(Cgroup c) {
        if (!c.isOnline()) {
            return;
        }
        try {
            host.rmdir(c);
        } catch (BpfException e) {
            // a child could not go, or somebody else's: it stays
        }
    }
}
