package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LinkInfo;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.QueryResult;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The cgroup side of a {@link KernelBackend}: mkdir and rmdir under its {@link CgroupSession}'s
 * root, BPF_PROG_ATTACH, BPF_PROG_DETACH, BPF_PROG_QUERY and BPF_LINK_CREATE on a cgroup's
 * directory fd, BPF_LINK_UPDATE and BPF_LINK_DETACH, and the cgroup storage a program sees. The
 * kernel answers; this class opens the directories and resolves the handles.
 */
final class KernelCgroupBpf {
    /** Where the backend's cgroup session comes from (made on first use for a scenario backend). */
    interface Sessions {
        CgroupSession session() throws BpfException;
    }

    private final KernelFds fds;
    private final Sessions sessions;

    KernelCgroupBpf(KernelFds fds, Sessions sessions) {
        this.fds = fds;
        this.sessions = sessions;
    }

    void mkdir(String path) throws BpfException {
        sessions.session().mkdir(path);
    }

    /** An fd of the cgroup's directory, as BPF_PROG_ATTACH and a cgroup array's update take it. */
    Fd openDir(String cgroup) throws BpfException {
        return sessions.session().open(cgroup);
    }

    void rmdir(String path) throws BpfException {
        sessions.session().rmdir(path);
    }

    void attach(String cgroup, LoadedProg prog, AttachType type, Set<AttachFlag> flags, LoadedProg replace)
            throws BpfException {
        KernelProg p = fds.prog(prog);
        KernelProg r = replace == null ? null : fds.prog(replace);
        try (Fd cg = sessions.session().open(cgroup)) {
            ProgAttach.progAttach(cg, p.fd(), type.value(), flags, r == null ? null : r.fd());
        }
    }

    void detach(String cgroup, AttachType type, LoadedProg prog) throws BpfException {
        KernelProg p = prog == null ? null : fds.prog(prog);
        try (Fd cg = sessions.session().open(cgroup)) {
            ProgAttach.progDetach(cg, p == null ? null : p.fd(), type.value());
        }
    }

    BpfLink linkCreate(String cgroup, LoadedProg prog, AttachType type) throws BpfException {
        KernelProg p = fds.prog(prog);
        try (Fd cg = sessions.session().open(cgroup)) {
            return fds.track(new KernelLink(fds, LinkCreate.linkCreate(p.fd(), cg, type.value(), 0)));
        }
    }

    void linkUpdate(BpfLink link, LoadedProg newProg, LoadedProg expectedOld) throws BpfException {
        fds.ensureOpen();
        KernelLink l = fds.link(link);
        KernelProg p = fds.prog(newProg);
        KernelProg old = expectedOld == null ? null : fds.prog(expectedOld);
        LinkUpdate.linkUpdate(l.handle(), p.fd(), old == null ? null : old.fd());
    }

    void linkDetach(BpfLink link) throws BpfException {
        fds.ensureOpen();
        LinkDetach.linkDetach(fds.link(link).handle());
    }

    LinkInfo linkInfo(BpfLink link) throws BpfException {
        fds.ensureOpen();
        return KernelInfo.link(fds.link(link).handle());
    }

    List<Integer> queryProgIds(String cgroup, AttachType type, boolean effective) throws BpfException {
        int queryFlags = effective ? ProgQuery.BPF_F_QUERY_EFFECTIVE : 0;
        try (Fd cg = sessions.session().open(cgroup)) {
            // a program attached between the count and the ids makes the second call ENOSPC: ask again
            while (true) {
                int count = ProgQuery.progQuery(cg, type.value(), queryFlags, 0, false).count();
                ProgQuery.Result r = ProgQuery.progQuery(cg, type.value(), queryFlags, count, false);
                if (!r.enospc()) {
                    List<Integer> ids = new ArrayList<>(r.progIds().length);
                    for (int id : r.progIds()) {
                        ids.add(id);
                    }
                    return ids;
                }
            }
        }
    }

    long cgroupId(String cgroup) throws BpfException {
        return CgroupFs.id(sessions.session().dir(cgroup));
    }

    QueryResult query(String cgroup, AttachType type, boolean effective, int max) throws BpfException {
        int queryFlags = effective ? ProgQuery.BPF_F_QUERY_EFFECTIVE : 0;
        try (Fd cg = sessions.session().open(cgroup)) {
            int size = max;
            if (max < 0) {
                size = ProgQuery.progQuery(cg, type.value(), queryFlags, 0, false).count();
            }
            ProgQuery.Result r = ProgQuery.progQuery(cg, type.value(), queryFlags, size, false);
            List<String> names = new ArrayList<>();
            for (int id : r.progIds()) {
                names.add(nameOf(id));
            }
            return new QueryResult(r.attachFlags(), names, r.count(), r.enospc() ? "ENOSPC" : null);
        }
    }

    /** The scenario name of a program, or "?" and the kernel's name for one loaded elsewhere. */
    private String nameOf(int id) {
        String n = fds.loadedName(id);
        if (n != null) {
            return n;
        }
        try (Fd fd = ProgGetFdById.progGetFdById(id)) {
            return "?" + ObjGetInfoByFd.progInfo(fd).name();
        } catch (BpfException e) {
            return "?";
        }
    }

    /**
     * The cgroup storage element of (cgroup, attach type): key {cgroup id, attach type} for maps
     * with the 16-byte struct bpf_cgroup_storage_key, {cgroup id} for shared (8-byte key) ones.
     * ENOENT when no program using the map is attached there.
     */
    byte[] storage(String cgroup, AttachType type, BpfMap map) throws BpfException {
        fds.ensureOpen();
        KernelMap m = fds.map(map);
        MapType mt = m.spec().type();
        if (mt != MapType.CGROUP_STORAGE && mt != MapType.PERCPU_CGROUP_STORAGE) {
            throw new BpfException(Errno.EINVAL, "map '" + m.spec().name() + "' is " + mt.scenarioName()
                    + ", not a cgroup storage map");
        }
        long id = CgroupFs.id(sessions.session().dir(cgroup));
        ByteBuffer key = ByteBuffer.allocate(m.spec().keySize()).order(ByteOrder.nativeOrder());
        key.putLong(id);
        if (m.spec().keySize() >= 12) {
            key.putInt(type.value());
        }
        return MapElem.lookupElem(m.handle(), key.array(), m.valueBytes(), 0);
    }
}
