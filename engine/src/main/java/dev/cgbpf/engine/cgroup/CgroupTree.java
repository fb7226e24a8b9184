package dev.cgbpf.engine.cgroup;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.ProgType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * An in-memory cgroup v2 hierarchy with cgroup-bpf attach semantics, errno for errno as the
 * running kernel (Linux 6.18) answers BPF_PROG_ATTACH, BPF_PROG_DETACH and BPF_PROG_QUERY on
 * cgroup fds, and mkdir/rmdir on cgroup directories.
 *
 * <p>Paths are relative to the tree's root: {@code ""} or {@code "."} is the root, {@code a/b} a
 * grandchild. The methods are synchronized (the kernel's cgroup_mutex); hooks take the effective
 * array under the lock and run it outside, as the kernel runs an RCU-protected array.
 */
public final class CgroupTree {
    private final Cgroup root;
    private long nextId;
    private int size = 1;

    public CgroupTree() {
        root = new Cgroup("", 1, null);
        nextId = 2;
        CgroupBpf.inherit(root);
    }

    public Cgroup root() {
        return root;
    }

    /** Number of online cgroups, the root included. */
    public synchronized int size() {
        return size;
    }

    /** The cgroup at {@code path}; ENOENT when there is none. */
    public synchronized Cgroup lookup(String path) throws BpfException {
        Cgroup c = root;
        for (String part : parse(path)) {
            c = c.child(part);
            if (c == null) {
                throw new BpfException(Errno.ENOENT, "no cgroup '" + path + "'");
            }
        }
        return c;
    }

    /**
     * mkdir: EEXIST when it exists, ENOENT when the parent does not.
     *
     * <p>kernel: cgroup_mkdir, cgroup_bpf_inherit
     */
    public synchronized Cgroup mkdir(String path) throws BpfException {
        List<String> parts = parse(path);
        if (parts.isEmpty()) {
            throw new BpfException(Errno.EEXIST, "the root cgroup exists");
        }
        Cgroup parent = root;
        for (int i = 0; i < parts.size() - 1; i++) {
            parent = parent.child(parts.get(i));
            if (parent == null) {
                throw new BpfException(Errno.ENOENT, "parent of cgroup '" + path + "' does not exist");
            }
        }
        String name = parts.get(parts.size() - 1);
        if (parent.child(name) != null) {
            throw new BpfException(Errno.EEXIST, "cgroup '" + path + "' exists");
        }
        Cgroup c = new Cgroup(name, nextId++, parent);
        CgroupBpf.inherit(c);
        parent.addChild(c);
        size++;
        return c;
    }

    /**
     * rmdir: EBUSY while it has children (and for the root, which is a mount point); ENOENT when
     * it does not exist. Programs attached to it are detached and dropped with it, as the kernel
     * releases them when the cgroup goes offline; nothing else changes, since it has no
     * descendants whose effective arrays could include them. Its links are auto-detached: they
     * stay usable as handles but defunct (see {@link CgroupLink}). The kernel does this in a work
     * item a moment after rmdir returns; the model does it at once.
     *
     * <p>kernel: cgroup_rmdir, cgroup_bpf_offline, cgroup_bpf_release, bpf_cgroup_link_auto_detach
     */
    public synchronized void rmdir(String path) throws BpfException {
        Cgroup c = lookup(path);
        if (c == root) {
            throw new BpfException(Errno.EBUSY, "the root cgroup cannot be removed");
        }
        if (!c.children().isEmpty()) {
            throw new BpfException(Errno.EBUSY, "cgroup '" + path + "' has children");
        }
        c.parent().removeChild(c);
        c.takeOffline();
        c.bpf().release();
        size--;
    }

    /**
     * BPF_PROG_ATTACH. The checks run in the kernel's order, so that with several problems the
     * same errno wins:
     * <ol>
     * <li>EINVAL: the program type does not serve this attach type, or its expected attach type
     *     does not match (sock, sock_addr; skb when enforced), or the attach type is not a cgroup
     *     one (lirc_mode2);</li>
     * <li>ENOENT: the cgroup was removed;</li>
     * <li>EINVAL: with allow_multi|replace, a replace program that is missing or of another
     *     type; then allow_override with allow_multi, or replace without allow_multi;</li>
     * <li>EPERM: an ancestor forbids it (see {@link CgroupBpf#hierarchyAllowsAttach});</li>
     * <li>EPERM: the cgroup has programs attached in another mode;</li>
     * <li>E2BIG: the cgroup already holds 64 programs of this type (even for a replace);</li>
     * <li>multi mode: EINVAL when the program is already in the list (unless it replaces
     *     itself), ENOENT when the program to replace is not in the list.</li>
     * </ol>
     * In none/override mode a new program replaces the one attached (same program: a no-op); in
     * multi mode it is appended, or takes the replaced program's place.
     *
     * <p>kernel: cgroup_bpf_prog_attach, cgroup_bpf_attach, __cgroup_bpf_attach
     *
     * @param replace the program to replace; only looked at with allow_multi|replace (the kernel
     *                reads replace_bpf_fd only then)
     */
    public synchronized void attach(Cgroup cgrp, CgroupProg prog, AttachType type, Set<AttachFlag> flags,
                                    CgroupProg replace) throws BpfException {
        ProgType ptype = checkProgFor(prog, type);
        checkOnline(cgrp);
        boolean allowOverride = flags.contains(AttachFlag.ALLOW_OVERRIDE);
        boolean allowMulti = flags.contains(AttachFlag.ALLOW_MULTI);
        boolean replaceFlag = flags.contains(AttachFlag.REPLACE);
        CgroupProg replaceProg = null;
        if (allowMulti && replaceFlag) {
            if (replace == null) {
                throw new BpfException(Errno.EINVAL, "allow_multi|replace needs the program to replace");
            }
            if (replace.type() != ptype) {
                throw new BpfException(Errno.EINVAL, "program to replace '" + replace.name()
                        + "' is " + replace.type().scenarioName() + ", not " + ptype.scenarioName());
            }
            replaceProg = replace;
        }
        if (allowOverride && allowMulti) {
            throw new BpfException(Errno.EINVAL, "allow_override and allow_multi exclude each other");
        }
        if (replaceFlag && !allowMulti) {
            throw new BpfException(Errno.EINVAL, "replace needs allow_multi");
        }
        // the part of the flags a cgroup keeps as its mode (saved_flags)
        int mode = AttachFlag.bits(flags) & (AttachFlag.ALLOW_OVERRIDE.bit() | AttachFlag.ALLOW_MULTI.bit());
        checkRoomFor(cgrp, type, mode);
        List<ProgListEntry> list = cgrp.bpf().entries(type);
        int slot = findAttachEntry(list, prog, replaceProg, allowMulti, cgrp, type);
        CgroupProg old = slot < 0 ? null : list.get(slot).attachedProg();
        prog.hold();
        cgrp.bpf().put(type, slot, ProgListEntry.plain(prog), mode);
        CgroupBpf.updateEffectiveProgs(cgrp, type);
        if (old != null) {
            old.put();
        }
    }

    /**
     * The checks of __cgroup_bpf_attach after the flags, shared by plain attach and links: EPERM
     * when an ancestor forbids it or the cgroup's programs of this type were attached in another
     * mode, E2BIG when it holds 64 already.
     *
     * <p>kernel: __cgroup_bpf_attach (hierarchy_allows_attach, the saved-flags check,
     *     prog_list_length against BPF_CGROUP_MAX_PROGS)
     */
    private static void checkRoomFor(Cgroup cgrp, AttachType type, int mode) throws BpfException {
        if (!CgroupBpf.hierarchyAllowsAttach(cgrp, type)) {
            throw new BpfException(Errno.EPERM, "an ancestor of " + cgrp
                    + " holds a " + type.scenarioName() + " program that does not allow override");
        }
        CgroupBpf bpf = cgrp.bpf();
        List<ProgListEntry> list = bpf.entries(type);
        if (!list.isEmpty() && bpf.flags(type) != mode) {
            throw new BpfException(Errno.EPERM, cgrp + " holds " + type.scenarioName()
                    + " programs attached as " + AttachFlag.describe(AttachFlag.of(bpf.flags(type))) + ", not "
                    + AttachFlag.describe(AttachFlag.of(mode)));
        }
        if (list.size() >= CgroupBpf.MAX_PROGS) {
            throw new BpfException(Errno.E2BIG, cgrp + " already holds " + CgroupBpf.MAX_PROGS + " "
                    + type.scenarioName() + " programs");
        }
    }

    /**
     * find_attach_entry: the slot to overwrite, or -1 to append. Only plain entries are compared:
     * a program already running through a link may be attached plainly too, and cannot be
     * replaced by a plain attach.
     *
     * <p>kernel: find_attach_entry
     */
    private static int findAttachEntry(List<ProgListEntry> list, CgroupProg prog, CgroupProg replaceProg,
                                       boolean allowMulti, Cgroup cgrp, AttachType type) throws BpfException {
        if (!allowMulti) {
            return list.isEmpty() ? -1 : 0;
        }
        if (prog != replaceProg && CgroupBpf.indexOfPlain(list, prog) >= 0) {
            throw new BpfException(Errno.EINVAL, "program '" + prog.name() + "' is already attached to "
                    + cgrp + " as " + type.scenarioName());
        }
        if (replaceProg == null) {
            return -1;
        }
        int i = CgroupBpf.indexOfPlain(list, replaceProg);
        if (i < 0) {
            throw new BpfException(Errno.ENOENT, "program to replace '" + replaceProg.name()
                    + "' is not attached to " + cgrp + " as " + type.scenarioName());
        }
        return i;
    }

    /**
     * BPF_PROG_DETACH. ENOENT for a removed cgroup. In none/override mode the one attached
     * program goes whatever program is named (even none, or one of another type); ENOENT when
     * nothing is attached. In multi mode a program must be named: EINVAL without one (a program
     * of the wrong type counts as none), ENOENT when it is not attached here plainly (a link
     * running it does not count: links go with {@link CgroupLink#detach()}). When the last
     * program goes, the cgroup's mode for this type returns to none.
     *
     * <p>kernel: cgroup_bpf_prog_detach, cgroup_bpf_detach, __cgroup_bpf_detach, find_detach_entry
     */
    public synchronized void detach(Cgroup cgrp, AttachType type, CgroupProg prog) throws BpfException {
        ProgType ptype = checkCgroupType(type);
        checkOnline(cgrp);
        if (prog != null && prog.type() != ptype) {
            prog = null; // bpf_prog_get_type fails and the kernel goes on without a program
        }
        CgroupBpf bpf = cgrp.bpf();
        List<ProgListEntry> list = bpf.entries(type);
        int slot;
        if ((bpf.flags(type) & AttachFlag.ALLOW_MULTI.bit()) == 0) {
            if (list.isEmpty()) {
                throw new BpfException(Errno.ENOENT, "no " + type.scenarioName() + " program attached to " + cgrp);
            }
            slot = 0;
        } else {
            if (prog == null) {
                throw new BpfException(Errno.EINVAL, cgrp + " is in allow_multi mode for "
                        + type.scenarioName() + ": name the program to detach");
            }
            slot = CgroupBpf.indexOfPlain(list, prog);
            if (slot < 0) {
                throw new BpfException(Errno.ENOENT, "program '" + prog.name() + "' is not attached to "
                        + cgrp + " as " + type.scenarioName());
            }
        }
        CgroupProg removed = list.get(slot).attachedProg();
        bpf.remove(type, slot);
        CgroupBpf.updateEffectiveProgs(cgrp, type);
        removed.put();
    }

    /**
     * The link_create flags a cgroup link accepts (BPF_F_LINK_ATTACH_MASK): BPF_F_BEFORE (1 << 3),
     * BPF_F_AFTER (1 << 4), BPF_F_ID (1 << 5), BPF_F_PREORDER (1 << 6), BPF_F_LINK (1 << 13).
     */
    static final int LINK_ATTACH_MASK = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 13);

    /**
     * BPF_LINK_CREATE of a cgroup link with flags 0: see {@link #linkCreate(Cgroup, CgroupProg, AttachType, int)}.
     *
     * <p>kernel: cgroup_bpf_link_attach
     */
    public CgroupLink linkCreate(Cgroup cgrp, CgroupProg prog, AttachType type) throws BpfException {
        return linkCreate(cgrp, prog, type, 0);
    }

    /**
     * BPF_LINK_CREATE on a cgroup (cgroup_bpf_link_attach): attaches {@code prog} through a new
     * link, as a plain attach with allow_multi would, appended to the attached list. The kernel's
     * answers, in its order:
     * <ol>
     * <li>EINVAL: the program does not fit the attach type (as for attach), or the attach type is
     *     not a cgroup one;</li>
     * <li>EINVAL: a flag outside BPF_F_LINK_ATTACH_MASK, e.g. allow_override, allow_multi or
     *     replace (the link is always multi);</li>
     * <li>ENOENT: the cgroup was removed;</li>
     * <li>EPERM: an ancestor holds a non-overridable program, or the cgroup holds programs
     *     attached in none/override mode;</li>
     * <li>E2BIG: 64 entries already (links and plain attachments count alike).</li>
     * </ol>
     * Nothing else is refused: the same program may run through several links on one cgroup, and
     * through a link and a plain attachment at once (each is an entry of its own).
     *
     * <p>kernel: cgroup_bpf_link_attach, cgroup_bpf_attach, __cgroup_bpf_attach (with a link)
     *
     * @param flags link_create.flags; the ordering flags of the mask (BPF_F_BEFORE/AFTER/ID/
     *              PREORDER/LINK) are accepted by the kernel but not modelled here, so they are an
     *              {@link IllegalArgumentException}
     */
    public synchronized CgroupLink linkCreate(Cgroup cgrp, CgroupProg prog, AttachType type, int flags)
            throws BpfException {
        if (prog == null) {
            throw new IllegalArgumentException("link_create needs a program");
        }
        checkProgFor(prog, type);
        if ((flags & ~LINK_ATTACH_MASK) != 0) {
            throw new BpfException(Errno.EINVAL, "link_create flags 0x" + Integer.toHexString(flags)
                    + ": a cgroup link takes only the ordering flags (it is always allow_multi)");
        }
        if (flags != 0) {
            throw new IllegalArgumentException("link_create ordering flags 0x" + Integer.toHexString(flags)
                    + " (before/after/id/preorder/link) are not modelled");
        }
        checkOnline(cgrp);
        checkRoomFor(cgrp, type, AttachFlag.ALLOW_MULTI.bit());
        CgroupLink link = new CgroupLink(this, cgrp, prog, type);
        prog.hold();
        cgrp.bpf().put(type, -1, ProgListEntry.of(link), AttachFlag.ALLOW_MULTI.bit());
        CgroupBpf.updateEffectiveProgs(cgrp, type);
        return link;
    }

    /**
     * BPF_LINK_UPDATE (cgroup_bpf_replace). In the kernel's order: EBADF for a closed link;
     * ENOLINK for a defunct one (detached, or its cgroup removed), whatever the programs; EPERM
     * with {@code oldProg} (BPF_F_REPLACE) when the link runs another program; EINVAL when
     * {@code newProg} is of another program type than the link's program. The expected attach
     * type of {@code newProg} is not checked (the kernel lets a bind4 link take a program loaded
     * for connect4), nor its cgroup storage maps. Updating to the program it runs already
     * succeeds. The link keeps its slot in the attached list and in every effective array.
     *
     * <p>kernel: cgroup_bpf_replace, __cgroup_bpf_replace
     */
    synchronized void linkUpdate(CgroupLink link, CgroupProg newProg, CgroupProg oldProg) throws BpfException {
        checkLinkOpen(link);
        if (newProg == null) {
            throw new IllegalArgumentException("link_update needs the new program");
        }
        Cgroup cgrp = link.attachedCgroup();
        if (cgrp == null) {
            throw new BpfException(Errno.ENOLINK, link + " is defunct (detached or its cgroup removed)");
        }
        CgroupProg current = link.currentProg();
        if (oldProg != null && oldProg != current) {
            throw new BpfException(Errno.EPERM, link + " runs '" + current.name() + "', not '" + oldProg.name() + "'");
        }
        if (newProg.type() != current.type()) {
            throw new BpfException(Errno.EINVAL, "program '" + newProg.name() + "' is " + newProg.type().scenarioName()
                    + "; " + link + " runs " + current.type().scenarioName() + " programs");
        }
        newProg.hold();
        link.setProg(newProg);
        CgroupBpf.updateEffectiveProgs(cgrp, link.attachType());
        current.put();
    }

    /**
     * BPF_LINK_DETACH (bpf_cgroup_link_release): removes the link's entry, recomputes the effective
     * arrays and, when it was the last entry, returns the cgroup's mode to none. A defunct link
     * succeeds doing nothing; a closed one is EBADF.
     *
     * <p>kernel: bpf_cgroup_link_detach
     */
    synchronized void linkDetach(CgroupLink link) throws BpfException {
        checkLinkOpen(link);
        release(link);
    }

    /**
     * The last fd of the link closed (bpf_link_release, bpf_link_free): release it, drop its program; the handle is gone.
     *
     * <p>kernel: bpf_link_release, bpf_link_free, bpf_cgroup_link_release, bpf_cgroup_link_dealloc
     */
    synchronized void linkClose(CgroupLink link) {
        if (link.closedFlag()) {
            return;
        }
        release(link);
        link.markClosed();
        link.currentProg().put();
    }

    /** kernel: bpf_cgroup_link_release */
    private static void release(CgroupLink link) {
        Cgroup cgrp = link.attachedCgroup();
        if (cgrp == null) {
            return;
        }
        AttachType type = link.attachType();
        int slot = CgroupBpf.indexOfLink(cgrp.bpf().entries(type), link);
        if (slot < 0) {
            throw new IllegalStateException(link + " is attached but not in the attached list");
        }
        cgrp.bpf().remove(type, slot);
        CgroupBpf.updateEffectiveProgs(cgrp, type);
        link.autoDetach();
    }

    private static void checkLinkOpen(CgroupLink link) throws BpfException {
        if (link == null) {
            throw new IllegalArgumentException("link missing");
        }
        if (link.closedFlag()) {
            throw new BpfException(Errno.EBADF, "the link is closed");
        }
    }

    /** The links attached to the cgroup for this type, in list order. */
    public synchronized List<CgroupLink> links(Cgroup cgrp, AttachType type) {
        List<CgroupLink> out = new ArrayList<>();
        for (ProgListEntry e : cgrp.bpf().entries(type)) {
            if (e.link() != null) {
                out.add(e.link());
            }
        }
        return out;
    }

    /**
     * BPF_PROG_QUERY with an id buffer large enough for every program.
     *
     * <p>kernel: cgroup_bpf_prog_query, __cgroup_bpf_query
     */
    public synchronized QueryResult query(Cgroup cgrp, AttachType type, boolean effective) throws BpfException {
        return query(cgrp, type, effective, Integer.MAX_VALUE);
    }

    /**
     * BPF_PROG_QUERY. {@code bufferSize} is prog_cnt on input. With a buffer of 0 the kernel
     * returns only the count and the flags, successfully. With a buffer smaller than the count it
     * fills the buffer and fails with ENOSPC (see {@link QueryResult}). The attached order is the
     * list order, a link reported as the program it runs now; the effective order is the array
     * the hooks run. Flags are the cgroup's mode (allow_multi while a link is attached), and none
     * for an effective query.
     *
     * <p>kernel: cgroup_bpf_prog_query, cgroup_bpf_query, __cgroup_bpf_query
     */
    public synchronized QueryResult query(Cgroup cgrp, AttachType type, boolean effective, int bufferSize)
            throws BpfException {
        if (bufferSize < 0) {
            throw new IllegalArgumentException("id buffer size must be >= 0, got " + bufferSize);
        }
        checkCgroupType(type);
        checkOnline(cgrp);
        List<CgroupProg> all = effective ? cgrp.bpf().effective(type).progs() : cgrp.bpf().progs(type);
        Set<AttachFlag> flags = effective ? Set.of() : AttachFlag.of(cgrp.bpf().flags(type));
        int total = all.size();
        if (bufferSize == 0 || total == 0) {
            return new QueryResult(flags, List.of(), total, false);
        }
        if (bufferSize < total) {
            return new QueryResult(flags, new ArrayList<>(all.subList(0, bufferSize)), total, true);
        }
        return new QueryResult(flags, all, total, false);
    }

    /** The programs attached to the cgroup for this type, in list order, links' programs included. */
    public synchronized List<CgroupProg> attached(Cgroup cgrp, AttachType type) {
        return List.copyOf(cgrp.bpf().progs(type));
    }

    /** The cgroup's attach mode for this type (none when nothing is attached). */
    public synchronized Set<AttachFlag> mode(Cgroup cgrp, AttachType type) {
        return AttachFlag.of(cgrp.bpf().flags(type));
    }

    /**
     * The effective array the hooks of this type run for tasks/sockets in the cgroup.
     *
     * <p>kernel: cgrp->bpf.effective[atype]
     */
    public synchronized BpfProgArray effective(Cgroup cgrp, AttachType type) {
        return cgrp.bpf().effective(type);
    }

    /**
     * Runs the effective array of {@code cgrp} for {@code type}: the entry point of the hooks
     * (device, sock create, bind, connect, sendmsg, skb). The array is taken under the lock and
     * run outside it.
     *
     * <p>kernel: bpf_prog_run_array_cg (via __cgroup_bpf_run_filter_*)
     */
    public BpfProgArray.RunResult runEffective(Cgroup cgrp, AttachType type, ProgRunner runner,
                                               boolean splitRetFlags) {
        return effective(cgrp, type).run(runner, splitRetFlags);
    }

    /** kernel: attach_type_to_prog_type */
    private static ProgType checkCgroupType(AttachType type) throws BpfException {
        if (!AttachTypeCheck.isCgroupAttachType(type)) {
            throw new BpfException(Errno.EINVAL, type.scenarioName() + " is not a cgroup attach type");
        }
        return AttachTypeCheck.progTypeOf(type);
    }

    /** kernel: attach_type_to_prog_type, bpf_prog_attach_check_attach_type */
    private static ProgType checkProgFor(CgroupProg prog, AttachType type) throws BpfException {
        ProgType ptype = AttachTypeCheck.progTypeOf(type);
        if (prog.type() != ptype) {
            throw new BpfException(Errno.EINVAL, "program '" + prog.name() + "' is " + prog.type().scenarioName()
                    + "; " + type.scenarioName() + " takes " + ptype.scenarioName());
        }
        if (!AttachTypeCheck.attachTypeAllowed(prog, type)) {
            AttachType loadedFor = AttachTypeCheck.effectiveExpected(prog);
            throw new BpfException(Errno.EINVAL, "program '" + prog.name() + "' was loaded for "
                    + (loadedFor == null ? "no attach type" : loadedFor.scenarioName()) + ", not " + type.scenarioName());
        }
        return checkCgroupType(type);
    }

    private static void checkOnline(Cgroup cgrp) throws BpfException {
        if (!cgrp.isOnline()) {
            throw new BpfException(Errno.ENOENT, cgrp + " was removed");
        }
    }

    /** Splits a root-relative path; "" and "." are the root. Anything escaping it is refused. */
    static List<String> parse(String path) {
        if (path == null) {
            throw new IllegalArgumentException("cgroup path missing");
        }
        if (path.isEmpty() || path.equals(".")) {
            return List.of();
        }
        if (path.startsWith("/")) {
            throw new IllegalArgumentException("cgroup path '" + path + "' must be relative");
        }
        List<String> parts = List.of(path.split("/", -1));
        for (String p : parts) {
            if (p.isEmpty() || p.equals(".") || p.equals("..")) {
                throw new IllegalArgumentException("bad cgroup path '" + path + "'");
            }
        }
        return parts;
    }
}
