package dev.cgbpf.engine.cgroup;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.ProgType;
import java.util.ArrayList;
import java.util.List;

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

    /** mkdir: EEXIST when it exists, ENOENT when the parent does not. */
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
     * descendants whose effective arrays could include them.
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
     * @param replace the program to replace; only looked at with allow_multi|replace (the kernel
     *                reads replace_bpf_fd only then)
     */
    public synchronized void attach(Cgroup cgrp, CgroupProg prog, AttachType type, AttachFlags flags,
                                    CgroupProg replace) throws BpfException {
        ProgType ptype = checkProgFor(prog, type);
        checkOnline(cgrp);
        CgroupProg replaceProg = null;
        if (flags.allowMulti() && flags.replace()) {
            if (replace == null) {
                throw new BpfException(Errno.EINVAL, "allow_multi|replace needs the program to replace");
            }
            if (replace.type() != ptype) {
                throw new BpfException(Errno.EINVAL, "program to replace '" + replace.name()
                        + "' is " + replace.type().scenarioName() + ", not " + ptype.scenarioName());
            }
            replaceProg = replace;
        }
        if (flags.allowOverride() && flags.allowMulti()) {
            throw new BpfException(Errno.EINVAL, "allow_override and allow_multi exclude each other");
        }
        if (flags.replace() && !flags.allowMulti()) {
            throw new BpfException(Errno.EINVAL, "replace needs allow_multi");
        }
        if (!CgroupBpf.hierarchyAllowsAttach(cgrp, type)) {
            throw new BpfException(Errno.EPERM, "an ancestor of " + cgrp
                    + " holds a " + type.scenarioName() + " program that does not allow override");
        }
        CgroupBpf bpf = cgrp.bpf();
        List<CgroupProg> list = bpf.progs(type);
        int mode = flags.mode().bits();
        if (!list.isEmpty() && bpf.flags(type) != mode) {
            throw new BpfException(Errno.EPERM, cgrp + " holds " + type.scenarioName()
                    + " programs attached as " + new AttachFlags(bpf.flags(type)) + ", not " + flags.mode());
        }
        if (list.size() >= CgroupBpf.MAX_PROGS) {
            throw new BpfException(Errno.E2BIG, cgrp + " already holds " + CgroupBpf.MAX_PROGS + " "
                    + type.scenarioName() + " programs");
        }
        int slot = findAttachEntry(list, prog, replaceProg, flags.allowMulti(), cgrp, type);
        bpf.put(type, slot, prog, mode);
        CgroupBpf.updateEffectiveProgs(cgrp, type);
    }

    /** find_attach_entry: the slot to overwrite, or -1 to append. */
    private static int findAttachEntry(List<CgroupProg> list, CgroupProg prog, CgroupProg replaceProg,
                                       boolean allowMulti, Cgroup cgrp, AttachType type) throws BpfException {
        if (!allowMulti) {
            return list.isEmpty() ? -1 : 0;
        }
        if (prog != replaceProg && CgroupBpf.indexOfSame(list, prog) >= 0) {
            throw new BpfException(Errno.EINVAL, "program '" + prog.name() + "' is already attached to "
                    + cgrp + " as " + type.scenarioName());
        }
        if (replaceProg == null) {
            return -1;
        }
        int i = CgroupBpf.indexOfSame(list, replaceProg);
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
     * of the wrong type counts as none), ENOENT when it is not attached here. When the last
     * program goes, the cgroup's mode for this type returns to none.
     */
    public synchronized void detach(Cgroup cgrp, AttachType type, CgroupProg prog) throws BpfException {
        ProgType ptype = checkCgroupType(type);
        checkOnline(cgrp);
        if (prog != null && prog.type() != ptype) {
            prog = null; // bpf_prog_get_type fails and the kernel goes on without a program
        }
        CgroupBpf bpf = cgrp.bpf();
        List<CgroupProg> list = bpf.progs(type);
        int slot;
        if ((bpf.flags(type) & AttachFlags.ALLOW_MULTI) == 0) {
            if (list.isEmpty()) {
                throw new BpfException(Errno.ENOENT, "no " + type.scenarioName() + " program attached to " + cgrp);
            }
            slot = 0;
        } else {
            if (prog == null) {
                throw new BpfException(Errno.EINVAL, cgrp + " is in allow_multi mode for "
                        + type.scenarioName() + ": name the program to detach");
            }
            slot = CgroupBpf.indexOfSame(list, prog);
            if (slot < 0) {
                throw new BpfException(Errno.ENOENT, "program '" + prog.name() + "' is not attached to "
                        + cgrp + " as " + type.scenarioName());
            }
        }
        bpf.remove(type, slot);
        CgroupBpf.updateEffectiveProgs(cgrp, type);
    }

    /** BPF_PROG_QUERY with an id buffer large enough for every program. */
    public synchronized QueryResult query(Cgroup cgrp, AttachType type, boolean effective) throws BpfException {
        return query(cgrp, type, effective, Integer.MAX_VALUE);
    }

    /**
     * BPF_PROG_QUERY. {@code bufferSize} is prog_cnt on input. With a buffer of 0 the kernel
     * returns only the count and the flags, successfully. With a buffer smaller than the count it
     * fills the buffer and fails with ENOSPC (see {@link QueryResult}). The attached order is the
     * list order; the effective order is the array the hooks run. Flags are the cgroup's mode,
     * and none for an effective query.
     */
    public synchronized QueryResult query(Cgroup cgrp, AttachType type, boolean effective, int bufferSize)
            throws BpfException {
        if (bufferSize < 0) {
            throw new IllegalArgumentException("id buffer size must be >= 0, got " + bufferSize);
        }
        checkCgroupType(type);
        checkOnline(cgrp);
        List<CgroupProg> all = effective ? cgrp.bpf().effective(type).progs() : cgrp.bpf().progs(type);
        AttachFlags flags = effective ? AttachFlags.NONE : new AttachFlags(cgrp.bpf().flags(type));
        int total = all.size();
        if (bufferSize == 0 || total == 0) {
            return new QueryResult(flags, List.of(), total, false);
        }
        if (bufferSize < total) {
            return new QueryResult(flags, new ArrayList<>(all.subList(0, bufferSize)), total, true);
        }
        return new QueryResult(flags, all, total, false);
    }

    /** The programs attached to the cgroup for this type, in list order. */
    public synchronized List<CgroupProg> attached(Cgroup cgrp, AttachType type) {
        return List.copyOf(cgrp.bpf().progs(type));
    }

    /** The cgroup's attach mode for this type (none when nothing is attached). */
    public synchronized AttachFlags mode(Cgroup cgrp, AttachType type) {
        return new AttachFlags(cgrp.bpf().flags(type));
    }

    /** The effective array the hooks of this type run for tasks/sockets in the cgroup. */
    public synchronized BpfProgArray effective(Cgroup cgrp, AttachType type) {
        return cgrp.bpf().effective(type);
    }

    /**
     * Runs the effective array of {@code cgrp} for {@code type}: the entry point of the hooks
     * (device, sock create, bind, connect, sendmsg, skb). The array is taken under the lock and
     * run outside it.
     */
    public BpfProgArray.RunResult runEffective(Cgroup cgrp, AttachType type, ProgRunner runner,
                                               boolean splitRetFlags) {
        return effective(cgrp, type).run(runner, splitRetFlags);
    }

    private static ProgType checkCgroupType(AttachType type) throws BpfException {
        if (!AttachTypeCheck.isCgroupAttachType(type)) {
            throw new BpfException(Errno.EINVAL, type.scenarioName() + " is not a cgroup attach type");
        }
        return AttachTypeCheck.progTypeOf(type);
    }

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
