package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.stream.Stream;

/**
 * The cgroups of one kernel backend: a root directory in the unified hierarchy and the paths
 * below it. Either a fresh scenario root that the session makes and removes
 * ({@code cgbpf-scn-PID-RANDOM} under the cgroup2 mount), or an existing directory (the OCI hook's
 * container cgroup) of which it removes only what it made itself.
 */
final class CgroupSession {
    static final String SCENARIO_PREFIX = "cgbpf-scn-";
    private static final int RMDIR_ATTEMPTS = 40;
    private static final long RMDIR_PAUSE_MS = 25;

    private final Path root;
    private final boolean fresh;
    private final Path home;
    private final List<Path> made = new ArrayList<>();

    private CgroupSession(Path root, boolean fresh, Path home) {
        this.root = root;
        this.fresh = fresh;
        this.home = home;
    }

    /** A new, empty scenario root under the cgroup2 mount. Roots left by dead processes are removed first. */
    static CgroupSession fresh() throws BpfException {
        CgroupV2Mount mount = mount();
        sweepStale(mount.mountPoint());
        byte[] rnd = new byte[4];
        new SecureRandom().nextBytes(rnd);
        Path root = mount.mountPoint().resolve(SCENARIO_PREFIX + ProcessHandle.current().pid() + "-"
                + HexFormat.of().formatHex(rnd));
        CgroupFs.mkdir(root);
        return new CgroupSession(root, true, home(mount));
    }

    /** A session rooted at an existing cgroup directory, which must lie in the cgroup2 mount. */
    static CgroupSession at(Path dir) throws BpfException {
        CgroupV2Mount mount = mount();
        Path abs = dir.toAbsolutePath().normalize();
        if (!abs.startsWith(mount.mountPoint())) {
            throw new IllegalArgumentException(dir + " is not under the cgroup v2 mount " + mount.mountPoint());
        }
        CgroupPath.resolve(mount.mountPoint(), mount.mountPoint().relativize(abs).toString());
        if (!Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new BpfException(Errno.ENOENT, "no cgroup " + abs);
        }
        return new CgroupSession(abs, false, home(mount));
    }

    private static CgroupV2Mount mount() throws BpfException {
        return CgroupV2Mount.discover().orElseThrow(() -> new BpfException(Errno.ENOENT,
                "no cgroup v2 (cgroup2) mount in " + CgroupV2Mount.MOUNTINFO + ": cgroup-bpf needs the unified hierarchy"));
    }

    /** The cgroup this process (the runner) is in: where probe workers start and return to. */
    private static Path home(CgroupV2Mount mount) throws BpfException {
        return mount.dirOf(ProcCgroup.of(ProcessHandle.current().pid()));
    }

    Path root() {
        return root;
    }

    Path home() {
        return home;
    }

    Path dir(String rel) {
        return CgroupPath.resolve(root, rel);
    }

    void mkdir(String rel) throws BpfException {
        if (CgroupPath.components(rel).isEmpty()) {
            // the kernel's answer for mkdir of an existing directory, without asking it to make the root
            throw new BpfException(Errno.EEXIST, "the root cgroup " + root + " exists");
        }
        Path d = dir(rel);
        CgroupFs.mkdir(d);
        made.add(d);
    }

    void rmdir(String rel) throws BpfException {
        CgroupFs.rmdir(dir(rel));
    }

    Fd open(String rel) throws BpfException {
        return CgroupDir.open(dir(rel));
    }

    /**
     * Detaches the programs that {@code ours} accepts (by kernel prog id) from every cgroup under
     * the root, then removes the cgroups: all of them for a fresh root, else those this session
     * made. Detaching first releases the programs at once; a removed cgroup would release them
     * only later, from a kernel work queue. Returns what could not be undone, one line each.
     */
    List<String> teardown(IntPredicate ours) {
        List<String> problems = new ArrayList<>();
        if (Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            List<Path> all = new ArrayList<>();
            all.add(root);
            all.addAll(CgroupFs.descendants(root));
            for (Path d : all) {
                detachAll(d, ours, problems);
            }
        }
        List<Path> remove = new ArrayList<>();
        if (fresh) {
            remove.add(root);
            remove.addAll(CgroupFs.descendants(root));
        } else {
            remove.addAll(made);
        }
        for (int i = remove.size() - 1; i >= 0; i--) {
            String p = removeWithRetry(remove.get(i));
            if (p != null) {
                problems.add(p);
            }
        }
        return problems;
    }

    /** Detaches the accepted programs of every cgroup attach type from one cgroup. */
    static void detachAll(Path dir, IntPredicate ours, List<String> problems) {
        try (Fd cg = CgroupDir.open(dir)) {
            for (AttachType type : AttachType.values()) {
                if (type == AttachType.LIRC_MODE2) {
                    continue;
                }
                ProgQuery.Result count = ProgQuery.progQuery(cg, type.value(), 0, 0, false);
                if (count.count() == 0) {
                    continue;
                }
                ProgQuery.Result q = ProgQuery.progQuery(cg, type.value(), 0, count.count(), false);
                for (int id : q.progIds()) {
                    if (!ours.test(id)) {
                        continue;
                    }
                    try (Fd prog = ProgGetFdById.progGetFdById(id)) {
                        ProgAttach.progDetach(cg, prog, type.value());
                    } catch (BpfException e) {
                        problems.add("detach prog id " + id + " (" + type.scenarioName() + ") from " + dir + ": "
                                + e.errno());
                    }
                }
            }
        } catch (BpfException e) {
            if (!e.errno().equals("ENOENT")) {
                problems.add("detach from " + dir + ": " + e.getMessage());
            }
        }
    }

    /** rmdir, waiting a little while the cgroup is still busy (a worker process on its way out). */
    private static String removeWithRetry(Path d) {
        for (int attempt = 1; ; attempt++) {
            try {
                CgroupFs.rmdir(d);
                return null;
            } catch (BpfException e) {
                if (e.errno().equals("ENOENT")) {
                    return null;
                }
                if (!e.errno().equals("EBUSY") || attempt >= RMDIR_ATTEMPTS) {
                    return "rmdir " + d + ": " + e.errno() + " (processes: " + CgroupFs.processes(d) + ")";
                }
            }
            try {
                Thread.sleep(RMDIR_PAUSE_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "rmdir " + d + ": interrupted";
            }
        }
    }

    /**
     * Removes scenario roots whose process is gone (killed before it could clean up, e.g. by
     * SIGKILL). A root whose pid is alive is left alone, even if the pid was reused.
     */
    static List<String> sweepStale(Path mountPoint) {
        List<String> problems = new ArrayList<>();
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> s = Files.list(mountPoint)) {
            s.filter(p -> p.getFileName().toString().startsWith(SCENARIO_PREFIX)).forEach(p -> {
                String rest = p.getFileName().toString().substring(SCENARIO_PREFIX.length());
                int dash = rest.indexOf('-');
                try {
                    long pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
                    if (ProcessHandle.of(pid).isEmpty()) {
                        stale.add(p);
                    }
                } catch (NumberFormatException e) {
                    // not one of ours
                }
            });
        } catch (IOException e) {
            return problems;
        }
        for (Path root : stale) {
            problems.addAll(new CgroupSession(root, true, root).teardown(id -> true));
        }
        return problems;
    }
}
