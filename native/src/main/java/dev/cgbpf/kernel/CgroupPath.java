package dev.cgbpf.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Cgroup paths relative to a root directory, as the scenario format and the hook give them:
 * {@code ""} or {@code "."} is the root, {@code a/b} a grandchild. The callers validate already;
 * this is the last check before a path reaches the file system, so that nothing can leave the
 * root: no absolute paths, no {@code ..}, no empty or {@code .} components inside a path, no NUL,
 * and no symbolic link on the way (cgroupfs has none; a bind-mounted or fake root might).
 */
final class CgroupPath {
    private CgroupPath() {
    }

    /** The components of a relative path; empty for the root. IllegalArgumentException when invalid. */
    static List<String> components(String rel) {
        if (rel == null) {
            throw new IllegalArgumentException("no cgroup path");
        }
        List<String> out = new ArrayList<>();
        if (rel.isEmpty() || rel.equals(".")) {
            return out;
        }
        if (rel.startsWith("/")) {
            throw new IllegalArgumentException("cgroup path '" + rel + "' is absolute; paths are relative to the root");
        }
        if (rel.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("cgroup path contains a NUL byte");
        }
        String trimmed = rel.endsWith("/") ? rel.substring(0, rel.length() - 1) : rel;
        for (String part : trimmed.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("cgroup path '" + rel + "' has a '" + part
                        + "' component; only plain names are allowed");
            }
            out.add(part);
        }
        return out;
    }

    /**
     * The directory of {@code rel} under {@code root}. Every existing directory on the way,
     * the root included, must be a real directory (not a symbolic link), so the result stays
     * under the root; the last component may not exist yet (mkdir).
     */
    static Path resolve(Path root, String rel) {
        Path dir = root;
        checkNotLink(dir, rel);
        for (String part : components(rel)) {
            dir = dir.resolve(part);
            checkNotLink(dir, rel);
        }
        return dir;
    }

    private static void checkNotLink(Path p, String rel) {
        if (Files.isSymbolicLink(p)) {
            throw new IllegalArgumentException("cgroup path '" + rel + "' passes through the symbolic link " + p);
        }
    }
}
