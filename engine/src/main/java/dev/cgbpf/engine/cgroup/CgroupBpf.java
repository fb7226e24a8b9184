package dev.cgbpf.engine.cgroup;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The bpf state of one cgroup (the kernel's struct cgroup_bpf) and the algorithms of
 * kernel/bpf/cgroup.c that maintain it: per attach type the attached list, the attach mode and
 * the effective array that the hooks run.
 *
 * <p>Invariant: a cgroup's effective array for a type is always what {@link
 * #computeEffectiveProgs} gives from the current attached lists of it and its ancestors.
 */
final class CgroupBpf {
    /** BPF_CGROUP_MAX_PROGS: the longest attached list of one cgroup and attach type. */
    static final int MAX_PROGS = 64;

    private static final AttachType[] TYPES = AttachType.values();

    private final List<List<ProgListEntry>> progs = new ArrayList<>(TYPES.length);
    private final int[] flags = new int[TYPES.length];
    private final BpfProgArray[] effective = new BpfProgArray[TYPES.length];

    CgroupBpf() {
        for (int i = 0; i < TYPES.length; i++) {
            progs.add(new ArrayList<>(0));
            effective[i] = BpfProgArray.EMPTY;
        }
    }

    /** The attached list: plain attachments and links, in the order the kernel keeps them. */
    List<ProgListEntry> entries(AttachType type) {
        return progs.get(type.ordinal());
    }

    /**
     * The programs of the attached list, in list order (what BPF_PROG_QUERY reports).
     *
     * <p>kernel: prog_list_prog
     */
    List<CgroupProg> progs(AttachType type) {
        List<ProgListEntry> list = entries(type);
        List<CgroupProg> out = new ArrayList<>(list.size());
        for (ProgListEntry e : list) {
            out.add(e.prog());
        }
        return out;
    }

    /** The attach mode (the kernel's saved flags: allow_override or allow_multi bits, 0 for none). */
    int flags(AttachType type) {
        return flags[type.ordinal()];
    }

    BpfProgArray effective(AttachType type) {
        return effective[type.ordinal()];
    }

    /**
     * cgroup_bpf_release: what rmdir does to the cgroup's own programs. Plain attachments drop
     * their program reference ({@link CgroupProg#put()}); links attached here are
     * auto-detached (bpf_cgroup_link_auto_detach): they stay open but defunct, so a later
     * BPF_LINK_UPDATE on them is ENOLINK and BPF_LINK_DETACH a successful no-op.
     *
     * <p>kernel: cgroup_bpf_release, bpf_cgroup_link_auto_detach
     */
    void release() {
        for (int i = 0; i < TYPES.length; i++) {
            for (ProgListEntry e : progs.get(i)) {
                if (e.link() != null) {
                    e.link().autoDetach();
                } else {
                    e.attachedProg().put();
                }
            }
            progs.get(i).clear();
            flags[i] = 0;
            effective[i] = BpfProgArray.EMPTY;
        }
    }

    /**
     * cgroup_bpf_inherit: a new cgroup starts with what its ancestors make effective.
     *
     * <p>kernel: cgroup_bpf_inherit
     */
    static void inherit(Cgroup cgrp) {
        for (AttachType type : TYPES) {
            cgrp.bpf().effective[type.ordinal()] = computeEffectiveProgs(cgrp, type);
        }
    }

    /**
     * hierarchy_allows_attach: the nearest ancestor that has programs decides. An ancestor in
     * multi mode allows; one with a single program allows only if it was attached with
     * allow_override. Ancestors without programs are looked through. Descendants are not
     * consulted: a parent may take a non-overridable program after its children have theirs.
     *
     * <p>kernel: hierarchy_allows_attach
     */
    static boolean hierarchyAllowsAttach(Cgroup cgrp, AttachType type) {
        for (Cgroup p = cgrp.parent(); p != null; p = p.parent()) {
            int f = p.bpf().flags(type);
            if ((f & AttachFlag.ALLOW_MULTI.bit()) != 0) {
                return true;
            }
            if (p.bpf().entries(type).size() == 1) {
                return (f & AttachFlag.ALLOW_OVERRIDE.bit()) != 0;
            }
        }
        return true;
    }

    /**
     * compute_effective_progs: the cgroup's own programs in list order, then walking up, each
     * ancestor's programs, but once anything has been collected only ancestors in multi mode
     * contribute (an overridable or plain program is overridden by anything below it).
     *
     * <p>kernel: compute_effective_progs
     */
    static BpfProgArray computeEffectiveProgs(Cgroup cgrp, AttachType type) {
        List<ProgArrayItem> items = null;
        for (Cgroup p = cgrp; p != null; p = p.parent()) {
            List<ProgListEntry> list = p.bpf().entries(type);
            if (list.isEmpty()) {
                continue;
            }
            if (items != null && (p.bpf().flags(type) & AttachFlag.ALLOW_MULTI.bit()) == 0) {
                continue;
            }
            if (items == null) {
                items = new ArrayList<>();
            }
            for (ProgListEntry e : list) {
                items.add(new ProgArrayItem(e.prog(), p));
            }
        }
        return items == null ? BpfProgArray.EMPTY : new BpfProgArray(items);
    }

    /**
     * update_effective_progs: compute the arrays of the cgroup and every descendant first, then
     * activate them all. Computing cannot fail here (no allocation failure in the JVM model), but
     * the two phases keep the all-or-nothing shape of the kernel.
     *
     * <p>kernel: update_effective_progs, activate_effective_progs
     */
    static void updateEffectiveProgs(Cgroup cgrp, AttachType type) {
        List<Cgroup> subtree = descendantsPre(cgrp);
        BpfProgArray[] inactive = new BpfProgArray[subtree.size()];
        for (int i = 0; i < inactive.length; i++) {
            inactive[i] = computeEffectiveProgs(subtree.get(i), type);
        }
        for (int i = 0; i < inactive.length; i++) {
            subtree.get(i).bpf().effective[type.ordinal()] = inactive[i];
        }
    }

    /**
     * css_for_each_descendant_pre: the cgroup itself, then its descendants, parents first.
     *
     * <p>kernel: css_for_each_descendant_pre
     */
    static List<Cgroup> descendantsPre(Cgroup cgrp) {
        List<Cgroup> out = new ArrayList<>();
        Deque<Cgroup> stack = new ArrayDeque<>();
        stack.push(cgrp);
        while (!stack.isEmpty()) {
            Cgroup c = stack.pop();
            out.add(c);
            List<Cgroup> kids = new ArrayList<>(c.children());
            for (int i = kids.size() - 1; i >= 0; i--) {
                stack.push(kids.get(i));
            }
        }
        return out;
    }

    /** Replaces slot {@code index} (or appends when -1) and sets the mode; no checks. */
    void put(AttachType type, int index, ProgListEntry entry, int mode) {
        List<ProgListEntry> list = entries(type);
        if (index < 0) {
            list.add(entry);
        } else {
            list.set(index, entry);
        }
        flags[type.ordinal()] = mode;
    }

    /** Removes slot {@code index}; when the list becomes empty the mode goes back to none. */
    void remove(AttachType type, int index) {
        List<ProgListEntry> list = entries(type);
        list.remove(index);
        if (list.isEmpty()) {
            flags[type.ordinal()] = 0;
        }
    }

    /**
     * The index of the plain attachment of this very program object, or -1 (the kernel compares
     * pl->prog pointers, which are null for links, so a link running the program never matches).
     *
     * <p>kernel: find_attach_entry, find_detach_entry (the pl->prog comparison)
     */
    static int indexOfPlain(List<ProgListEntry> list, CgroupProg prog) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).attachedProg() == prog) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The index of the link's entry, or -1.
     *
     * <p>kernel: find_detach_entry (the pl->link comparison)
     */
    static int indexOfLink(List<ProgListEntry> list, CgroupLink link) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).link() == link) {
                return i;
            }
        }
        return -1;
    }
}
