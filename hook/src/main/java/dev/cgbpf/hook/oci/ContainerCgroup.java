package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.spec.Printable;
import dev.cgbpf.kernel.CgroupV2Mount;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The container's cgroup v2 directory: where its init process is, by the process's own account
 * ({@code 0::/path} in /proc/PID/cgroup, cgroups(7)), cross-checked with config.json's
 * {@code linux.cgroupsPath} so that a wrong pid cannot make the hook attach to somebody else's
 * cgroup. Works the same on pure v2 hosts (/sys/fs/cgroup) and hybrid ones
 * (/sys/fs/cgroup/unified): the v2 mount comes from mountinfo ({@link CgroupV2Mount}).
 *
 * @param path the cgroup's path in the hierarchy, e.g. {@code /exp1}
 * @param dir its directory on this host, below the v2 mount point
 */
public record ContainerCgroup(String path, Path dir, long id) {

    /** What became of a recorded container's cgroup. */
    public enum Liveness {
        /** the directory is gone, or another cgroup (another id) has its name now */
        GONE,
        /** still there, with no process in it or its children (cgroup.events: populated 0) */
        EMPTY,
        /** still there with processes */
        POPULATED
    }

    /** The cgroup's id: its directory's inode number in the cgroup v2 hierarchy (bpf_get_current_cgroup_id). */
    static long idOf(Path dir) throws HookException {
        try {
            return ((Number) Files.getAttribute(dir, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            throw new HookException("cgroup directory " + dir + ": cannot read its id: " + e.getMessage());
        }
    }

    /** What became of the cgroup with id {@code id} at {@code dir}. */
    public static Liveness liveness(String dir, long id) {
        if (dir == null) {
            return Liveness.GONE;
        }
        Path d = Path.of(dir);
        try {
            if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS) || idOf(d) != id) {
                return Liveness.GONE;
            }
            for (String line : Files.readAllLines(d.resolve("cgroup.events"))) {
                if (line.equals("populated 0")) {
                    return Liveness.EMPTY;
                }
            }
            return Liveness.POPULATED;
        } catch (NoSuchFileException e) {
            // every cgroup v2 directory has cgroup.events: without it, no process can be in there
            return Liveness.EMPTY;
        } catch (HookException | IOException e) {
            return Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS) ? Liveness.POPULATED : Liveness.GONE;
        }
    }

    /** Resolves the cgroup of container {@code id} from its {@code pid}. */
    public static ContainerCgroup resolve(int pid, String cgroupsPath, String id, CgroupV2Mount mount, Path procRoot)
            throws HookException {
        CgroupsPath expected = CgroupsPath.parse(cgroupsPath, id);
        String path = procCgroup(pid, procRoot);
        List<String> parts = components(path);
        if (parts.isEmpty()) {
            throw new HookException("state: process " + pid + " is in the root cgroup; refusing to put container"
                    + " programs on the whole host");
        }
        if (!expected.matches(parts, id)) {
            throw new HookException("state: process " + pid + " is in cgroup " + Printable.quote(path)
                    + ", which is not the container's per config.json linux.cgroupsPath "
                    + (expected.text() == null ? "(absent: a cgroup named after the id " + id + ")"
                    : Printable.quote(expected.text())));
        }
        Path dir;
        try {
            dir = mount.dirOf(path);
        } catch (BpfException | IllegalArgumentException e) {
            throw new HookException("cgroup " + Printable.quote(path) + ": " + e.getMessage());
        }
        Path checked = checkDir(dir, mount.mountPoint());
        return new ContainerCgroup(path, checked, idOf(checked));
    }

    /** The directory must exist, be a directory reached without symbolic links, and lie below the mount. */
    static Path checkDir(Path dir, Path mountPoint) throws HookException {
        Path norm = dir.normalize();
        if (!norm.equals(dir) || !dir.startsWith(mountPoint) || dir.equals(mountPoint)) {
            throw new HookException("cgroup directory " + dir + " is not below the cgroup v2 mount " + mountPoint);
        }
        try {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) || !dir.toRealPath().equals(dir)) {
                throw new HookException("cgroup directory " + dir + " is not a directory of the cgroup v2 hierarchy");
            }
        } catch (IOException e) {
            throw new HookException("cgroup directory " + dir + " is gone: " + e.getMessage());
        }
        return dir;
    }

    /** The {@code 0::} path of /proc/PID/cgroup, checked. */
    static String procCgroup(int pid, Path procRoot) throws HookException {
        Path file = procRoot.resolve(Integer.toString(pid)).resolve("cgroup");
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new HookException("state: field 'pid': process " + pid + " does not exist");
        } catch (IOException e) {
            throw new HookException("state: field 'pid': cannot read " + file + ": " + e.getMessage());
        }
        for (String line : text.split("\n")) {
            if (!line.startsWith("0::")) {
                continue;
            }
            String path = line.substring(3);
            if (path.endsWith(" (deleted)")) {
                throw new HookException("process " + pid + ": its cgroup " + Printable.quote(path) + " was removed");
            }
            if (!path.startsWith("/")) {
                throw new HookException("process " + pid + ": malformed cgroup v2 line " + Printable.quote(line));
            }
            return path;
        }
        throw new HookException("process " + pid + " is in no cgroup v2 hierarchy (no 0:: line in " + file
                + "): cgroup-bpf needs the unified hierarchy");
    }

    /** The components of an absolute cgroup path; {@code ..} (outside our cgroup namespace) is refused. */
    static List<String> components(String path) throws HookException {
        List<String> out = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty()) {
                continue;
            }
            if (p.equals("..") || p.equals(".")) {
                throw new HookException("cgroup " + Printable.quote(path) + " lies outside this cgroup namespace"
                        + " (a '" + p + "' component)");
            }
            out.add(p);
        }
        return out;
    }
}
