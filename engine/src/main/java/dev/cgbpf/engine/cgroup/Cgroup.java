package dev.cgbpf.engine.cgroup;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One cgroup of the in-memory cgroup v2 hierarchy. Created by {@link CgroupTree#mkdir}; after
 * {@link CgroupTree#rmdir} it is offline: every bpf operation on it fails with ENOENT, as on a
 * kernel cgroup fd kept open across the rmdir.
 */
public final class Cgroup {
    private final String name;
    private final long id;
    private final Cgroup parent;
    private final Map<String, Cgroup> children = new LinkedHashMap<>();
    private final CgroupBpf bpf = new CgroupBpf();
    private boolean online = true;

    Cgroup(String name, long id, Cgroup parent) {
        this.name = name;
        this.id = id;
        this.parent = parent;
    }

    /** The last path component; "" for the root. */
    public String name() {
        return name;
    }

    /** The cgroup id: unique in the tree and never reused, like the kernel's kernfs ids. */
    public long id() {
        return id;
    }

    /** The parent, or null for the root. */
    public Cgroup parent() {
        return parent;
    }

    public Collection<Cgroup> children() {
        return Collections.unmodifiableCollection(children.values());
    }

    public boolean isOnline() {
        return online;
    }

    /** The path relative to the root, e.g. {@code a/b}; "" for the root. */
    public String path() {
        if (parent == null) {
            return "";
        }
        String up = parent.path();
        return up.isEmpty() ? name : up + "/" + name;
    }

    CgroupBpf bpf() {
        return bpf;
    }

    Cgroup child(String childName) {
        return children.get(childName);
    }

    void addChild(Cgroup child) {
        children.put(child.name, child);
    }

    void removeChild(Cgroup child) {
        children.remove(child.name);
    }

    void takeOffline() {
        online = false;
    }

    @Override
    public String toString() {
        return "cgroup '" + path() + "'";
    }
}
