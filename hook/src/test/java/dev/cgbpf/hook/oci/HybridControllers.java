package dev.cgbpf.hook.oci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * crun refuses a hybrid host while the v2 hierarchy still has a controller ("cgroups in hybrid
 * mode not supported, drop all controllers from cgroupv2"); on this host that is hugetlb. A
 * controller not enabled in any v2 subtree_control can be bound to a v1 hierarchy of its own
 * ({@code mount -t cgroup -o hugetlb none DIR}), which moves it off v2; unmounting that
 * hierarchy (with no child cgroups in it) gives it back. The end-to-end tests do that around
 * their crun runs and undo it afterwards.
 */
final class HybridControllers implements AutoCloseable {
    private final List<Path> mounts = new ArrayList<>();
    private final List<String> disabled = new ArrayList<>();
    private Path v2root;

    /** Moves every controller of the v2 root at {@code v2root} to its own v1 mount under {@code work}. */
    static HybridControllers detour(Path v2root, Path work) throws IOException, InterruptedException {
        HybridControllers h = new HybridControllers();
        h.v2root = v2root;
        String controllers = Files.readString(v2root.resolve("cgroup.controllers"), StandardCharsets.UTF_8).strip();
        String enabled = Files.readString(v2root.resolve("cgroup.subtree_control"), StandardCharsets.UTF_8).strip();
        if (controllers.isEmpty()) {
            return h;
        }
        try {
            for (String c : controllers.split("\\s+")) {
                if (List.of(enabled.split("\\s+")).contains(c)) {
                    // enabled for the root's children: the kernel would refuse the v1 mount (EBUSY)
                    Files.writeString(v2root.resolve("cgroup.subtree_control"), "-" + c);
                    h.disabled.add(c);
                }
                Path dir = work.resolve("v1-" + c);
                Files.createDirectories(dir);
                sh("mount", "-t", "cgroup", "-o", c, "none", dir.toString());
                h.mounts.add(dir);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            h.close();
            throw e;
        }
        return h;
    }

    private static void sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
        }
    }

    @Override
    public void close() {
        List<String> moved = new ArrayList<>();
        for (Path m : mounts) {
            try {
                sh("umount", m.toString());
                Files.deleteIfExists(m);
                moved.add(m.getFileName().toString().substring("v1-".length()));
            } catch (IOException | InterruptedException e) {
                System.err.println("HybridControllers: cannot undo " + m + ": " + e.getMessage());
            }
        }
        mounts.clear();
        awaitBackOnV2(moved);
        for (String c : disabled) {
            try {
                Files.writeString(v2root.resolve("cgroup.subtree_control"), "+" + c);
            } catch (IOException e) {
                System.err.println("HybridControllers: cannot re-enable " + c + ": " + e.getMessage());
            }
        }
        disabled.clear();
    }

    /**
     * The kernel releases an unmounted v1 hierarchy after an RCU grace period: its controllers show
     * up in the v2 root's cgroup.controllers again some 20-40 ms after umount returns (measured
     * here). A harness that opened in that window would see no controller to move, and crun would
     * then refuse the host: wait until they are back (at most 10 s).
     */
    private void awaitBackOnV2(List<String> controllers) {
        if (controllers.isEmpty()) {
            return;
        }
        long end = System.nanoTime() + 10_000_000_000L;
        try {
            while (System.nanoTime() < end) {
                List<String> now = List.of(Files.readString(v2root.resolve("cgroup.controllers"),
                        StandardCharsets.UTF_8).strip().split("\\s+"));
                if (now.containsAll(controllers)) {
                    return;
                }
                Thread.sleep(5);
            }
            System.err.println("HybridControllers: " + controllers + " not back on cgroup v2 after 10 s");
        } catch (IOException e) {
            System.err.println("HybridControllers: cannot read " + v2root + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
