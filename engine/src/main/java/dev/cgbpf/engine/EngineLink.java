package dev.cgbpf.engine;

import dev.cgbpf.engine.cgroup.CgroupLink;

/**
 * A bpf_link of the engine (the kernel's struct bpf_link around a bpf_cgroup_link): the link in
 * the cgroup tree and its id, shared by every fd and pin that holds it. When the last of them
 * goes (bpf_link_put) the link is released: its program is detached if still attached.
 */
final class EngineLink {
    final CgroupLink cgroupLink;
    final int id;
    private int refs = 1;

    EngineLink(CgroupLink cgroupLink, int id) {
        this.cgroupLink = cgroupLink;
        this.id = id;
    }

    /** bpf_link_inc. */
    synchronized void hold() {
        if (refs <= 0) {
            throw new IllegalStateException(this + " is already released");
        }
        refs++;
    }

    /** bpf_link_put: the last reference releases the link. */
    void put() {
        synchronized (this) {
            if (refs <= 0 || --refs > 0) {
                return;
            }
        }
        cgroupLink.close();
    }

    @Override
    public String toString() {
        return "engine link " + id + ": " + cgroupLink;
    }
}
