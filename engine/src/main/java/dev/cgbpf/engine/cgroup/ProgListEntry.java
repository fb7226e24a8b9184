package dev.cgbpf.engine.cgroup;

/**
 * One entry of a cgroup's attached list for an attach type (the kernel's struct bpf_prog_list):
 * either a program attached with BPF_PROG_ATTACH ({@code attachedProg} set, no link) or a
 * {@link CgroupLink} ({@code attachedProg} null). The two kinds never match each other: a plain
 * detach or replace looks only at {@code attachedProg}, so it cannot reach a link's program even
 * when the same program is also attached plainly.
 *
 * @param attachedProg the plainly attached program (the kernel's pl->prog), or null for a link
 * @param link         the link (pl->link), or null for a plain attachment
 */
record ProgListEntry(CgroupProg attachedProg, CgroupLink link) {
    ProgListEntry {
        if ((attachedProg == null) == (link == null)) {
            throw new IllegalArgumentException("an attached-list entry holds a program or a link, exactly one");
        }
    }

    static ProgListEntry plain(CgroupProg prog) {
        return new ProgListEntry(prog, null);
    }

    static ProgListEntry of(CgroupLink link) {
        return new ProgListEntry(null, link);
    }

    /**
     * The program this entry runs (the kernel's prog_list_prog): the plain program, or the link's
     * current one, which BPF_LINK_UPDATE may have swapped since the link was made.
     */
    CgroupProg prog() {
        return attachedProg != null ? attachedProg : link.currentProg();
    }
}
