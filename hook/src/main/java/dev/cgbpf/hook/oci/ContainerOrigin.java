package dev.cgbpf.hook.oci;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Which runtime started a container, as far as its bundle path tells: each engine keeps its
 * bundles in a layout of its own, and the path is in every record (the hook gets it in the
 * runtime's state). containerd's shims (ctr, Docker, the Kubernetes CRI plugin) use
 * {@code .../io.containerd.runtime.v2.task/NAMESPACE/ID}; Docker's namespace is {@code moby},
 * the CRI plugin's {@code k8s.io}. podman and CRI-O share containers/storage, whose bundles are
 * {@code .../overlay-containers/ID/userdata} (the storage driver's name first: overlay, vfs...). Anything else is a bundle given to runc or crun
 * directly (or a layout this does not know), shown as the path.
 *
 * @param engine a short name: {@code docker}, {@code kubernetes}, {@code containerd},
 *               {@code containers-storage}, or {@code bundle}
 * @param namespace containerd's namespace, or null
 * @param description one line for {@code cgbpf status}
 */
public record ContainerOrigin(String engine, String namespace, String description) {
    private static final String CONTAINERD_TASKS = "io.containerd.runtime.v2.task";

    public static ContainerOrigin of(String bundle) {
        if (bundle == null) {
            return new ContainerOrigin("bundle", null, "unknown (no bundle in the record)");
        }
        Path p;
        try {
            p = Path.of(bundle).normalize();
        } catch (InvalidPathException e) {
            return new ContainerOrigin("bundle", null, "bundle " + bundle);
        }
        int n = p.getNameCount();
        for (int i = 0; i + 2 < n; i++) {
            if (p.getName(i).toString().equals(CONTAINERD_TASKS) && i + 3 == n) {
                String ns = p.getName(i + 1).toString();
                return switch (ns) {
                    case "moby" -> new ContainerOrigin("docker", ns, "Docker (containerd namespace moby)");
                    case "k8s.io" -> new ContainerOrigin("kubernetes", ns,
                            "Kubernetes through containerd's CRI plugin (containerd namespace k8s.io)");
                    default -> new ContainerOrigin("containerd", ns, "containerd namespace " + ns);
                };
            }
        }
        if (n >= 3 && p.getName(n - 1).toString().equals("userdata")
                && p.getName(n - 3).toString().endsWith("-containers")) {
            return new ContainerOrigin("containers-storage", null, "podman or CRI-O (containers/storage bundle)");
        }
        return new ContainerOrigin("bundle", null, "bundle " + bundle);
    }
}
