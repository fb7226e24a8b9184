package dev.cgbpf.engine.cgroup;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;

/**
 * A bpf_link attaching a program to a cgroup (the kernel's struct bpf_cgroup_link), made by
 * {@link CgroupTree#linkCreate}. It sits in the cgroup's attached list as an entry of its own, in
 * allow_multi mode, and stays there until {@link #detach()}, {@link #close()} (the last fd of the
 * link closed) or the removal of the cgroup. After any of these the link is defunct: {@link
 * #cgroup()} is null (bpf_link_info reports cgroup id 0), {@link #update} fails with ENOLINK and
 * {@link #detach()} succeeds doing nothing.
 *
 * <p>Its state changes under the tree's lock, like the kernel's under cgroup_mutex.
 */
public final class CgroupLink implements AutoCloseable {
    private final CgroupTree tree;
    private final AttachType attachType;
    /** Guarded by the tree: the program the link runs now (link->link.prog). */
    private CgroupProg prog;
    /** Guarded by the tree: the cgroup while attached, null once detached (link->cgroup). */
    private Cgroup cgroup;
    /** Guarded by the tree: true after close(); the handle is then like a closed fd. */
    private boolean closed;

    CgroupLink(CgroupTree tree, Cgroup cgroup, CgroupProg prog, AttachType attachType) {
        this.tree = tree;
        this.cgroup = cgroup;
        this.prog = prog;
        this.attachType = attachType;
    }

    /** The attach type given at creation; an update keeps it. */
    public AttachType attachType() {
        return attachType;
    }

    /** The program the link runs now. */
    public CgroupProg prog() {
        synchronized (tree) {
            return prog;
        }
    }

    /** The cgroup the link is attached to, or null once it is detached (defunct). */
    public Cgroup cgroup() {
        synchronized (tree) {
            return cgroup;
        }
    }

    /** True once {@link #close()} ran: every further operation is EBADF. */
    public boolean isClosed() {
        synchronized (tree) {
            return closed;
        }
    }

    /**
     * BPF_LINK_UPDATE: the link runs {@code newProg} from now on, in the same slot of every
     * effective array. With {@code oldProg} (BPF_F_REPLACE) only if the link still runs it.
     * See {@link CgroupTree#linkUpdate} for the kernel's answers.
     *
     * <p>kernel: cgroup_bpf_replace (link_update)
     */
    public void update(CgroupProg newProg, CgroupProg oldProg) throws BpfException {
        tree.linkUpdate(this, newProg, oldProg);
    }

    /**
     * BPF_LINK_DETACH: detach now, keep the handle (defunct). Succeeds on a defunct link too.
     *
     * <p>kernel: bpf_cgroup_link_detach
     */
    public void detach() throws BpfException {
        tree.linkDetach(this);
    }

    /**
     * The last fd of the link closed (bpf_link_release): detaches it if still attached. Idempotent.
     *
     * <p>kernel: bpf_link_release (the last fd of the link closed)
     */
    @Override
    public void close() {
        tree.linkClose(this);
    }

    // ---- state changes, called by the tree with its lock held

    CgroupProg currentProg() {
        return prog;
    }

    Cgroup attachedCgroup() {
        return cgroup;
    }

    boolean closedFlag() {
        return closed;
    }

    void setProg(CgroupProg newProg) {
        prog = newProg;
    }

    void markClosed() {
        closed = true;
    }

    /**
     * bpf_cgroup_link_auto_detach and the end of bpf_cgroup_link_release: the link is defunct.
     *
     * <p>kernel: bpf_cgroup_link_auto_detach
     */
    void autoDetach() {
        cgroup = null;
    }

    @Override
    public String toString() {
        synchronized (tree) {
            return "cgroup link of '" + prog.name() + "' (" + attachType.scenarioName() + ", "
                    + (cgroup == null ? "defunct" : cgroup.toString()) + ")";
        }
    }
}
