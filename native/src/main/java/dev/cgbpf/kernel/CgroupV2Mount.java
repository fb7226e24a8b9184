package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The unified (cgroup v2) hierarchy as this process sees it: where it is mounted, which part of it
 * is mounted there, and the host's {@link CgroupMode}. Found in /proc/self/mountinfo rather than
 * assumed at /sys/fs/cgroup: hybrid hosts mount it at /sys/fs/cgroup/unified, and containers may
 * mount only a subtree.
 *
 * @param mountPoint where the hierarchy is mounted
 * @param root the hierarchy's directory mounted there ("/" unless a namespace or bind mount shows a subtree)
 */
public record CgroupV2Mount(Path mountPoint, String root, CgroupMode mode) {
    static final String MOUNTINFO = "/proc/self/mountinfo";

    /** The cgroup2 mount of this process; empty on a v1-only host. */
    public static Optional<CgroupV2Mount> discover() {
        try {
            return find(ProcFile.read(Path.of(MOUNTINFO)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The mode of this host's cgroup mounts. */
    public static CgroupMode hostMode() {
        try {
            return modeOf(ProcFile.read(Path.of(MOUNTINFO)));
        } catch (IOException e) {
            return CgroupMode.LEGACY_V1;
        }
    }

    static CgroupMode modeOf(String mountinfo) {
        return modeOf(MountInfo.parse(mountinfo));
    }

    private static CgroupMode modeOf(List<MountInfo> mounts) {
        boolean v2 = mounts.stream().anyMatch(m -> m.fsType().equals("cgroup2"));
        boolean v1 = mounts.stream().anyMatch(m -> m.fsType().equals("cgroup"));
        if (!v2) {
            return CgroupMode.LEGACY_V1;
        }
        return v1 ? CgroupMode.HYBRID : CgroupMode.PURE_V2;
    }

    /**
     * The cgroup2 mount to use: the one at /sys/fs/cgroup or /sys/fs/cgroup/unified when there is
     * one, else the first; of several at one mount point the last, which hides the others. A
     * mount point that a later mount of another type covers is not visible and is skipped.
     */
    static Optional<CgroupV2Mount> find(String mountinfo) {
        List<MountInfo> mounts = MountInfo.parse(mountinfo);
        CgroupMode mode = modeOf(mounts);
        MountInfo best = null;
        for (int i = 0; i < mounts.size(); i++) {
            MountInfo m = mounts.get(i);
            if (!m.fsType().equals("cgroup2") || coveredLater(mounts, i)) {
                continue;
            }
            if (best == null || preferred(m)) {
                best = m;
            }
        }
        return Optional.ofNullable(best).map(m -> new CgroupV2Mount(Path.of(m.mountPoint()), m.root(), mode));
    }

    private static boolean preferred(MountInfo m) {
        return m.mountPoint().equals("/sys/fs/cgroup") || m.mountPoint().equals("/sys/fs/cgroup/unified");
    }

    private static boolean coveredLater(List<MountInfo> mounts, int i) {
        String mp = mounts.get(i).mountPoint();
        for (int j = i + 1; j < mounts.size(); j++) {
            String later = mounts.get(j).mountPoint();
            // a later mount on the same directory or on an ancestor hides this one ("/" aside:
            // mountinfo of a chroot or container may list its root after other mounts)
            if (later.equals(mp) || (!later.equals("/") && mp.startsWith(later + "/"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The directory of a cgroup given as a process's cgroup path ({@code /a/b} from
     * /proc/PID/cgroup): the mount point plus the path below the mounted root. A path outside the
     * mounted part is EACCES: this process cannot reach that cgroup through this mount.
     */
    public Path dirOf(String cgroupPath) throws BpfException {
        List<String> parts = CgroupPath.components(cgroupPath.startsWith("/") ? cgroupPath.substring(1) : cgroupPath);
        List<String> rootParts = CgroupPath.components(root.startsWith("/") ? root.substring(1) : root);
        if (parts.size() < rootParts.size() || !parts.subList(0, rootParts.size()).equals(rootParts)) {
            throw new BpfException(Errno.EACCES, "cgroup " + cgroupPath + " lies outside the part "
                    + root + " of the hierarchy mounted at " + mountPoint);
        }
        Path dir = mountPoint;
        for (String p : parts.subList(rootParts.size(), parts.size())) {
            dir = dir.resolve(p);
        }
        return dir;
    }
}
