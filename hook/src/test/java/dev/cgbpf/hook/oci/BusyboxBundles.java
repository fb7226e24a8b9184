package dev.cgbpf.hook.oci;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Runnable OCI bundles made on the spot from the host's static busybox, for the runc/crun
 * end-to-end tests and {@code cgbpf-tools bench hook}: one rootfs (busybox and its applet links,
 * optionally the host's /usr bind-mounted read-only, for python3, whose sockets show exactly
 * where a bind or a datagram went) and a config.json per bundle, written from scratch in the
 * shape {@code runc spec} gives.
 *
 * <p>A test fixture, so not in the product jar: tools/ gets it through this module's test-jar.
 */
public final class BusyboxBundles {
    public static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> APPLETS = List.of("sh", "echo", "cat", "head", "wc", "sleep", "true", "ls");

    private final Path rootfs;
    private final boolean hostUsr;

    /** Why no bundle can be made here (busybox missing or dynamically linked), or empty. */
    public static Optional<String> unavailable() throws IOException {
        if (!Files.isRegularFile(BUSYBOX) || isDynamic(BUSYBOX)) {
            return Optional.of(BUSYBOX + " is missing or not statically linked (apt-get install busybox-static)");
        }
        return Optional.empty();
    }

    /**
     * Makes the rootfs in {@code work/rootfs}; check {@link #unavailable()} first.
     *
     * @param hostUsr bind-mount the host's /usr read-only into every container (and link
     *                /lib, /lib64 to it, for merged-/usr hosts such as Debian 12)
     */
    public BusyboxBundles(Path work, boolean hostUsr) throws IOException {
        this.rootfs = work.resolve("rootfs");
        this.hostUsr = hostUsr;
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(BUSYBOX, rootfs.resolve("bin/busybox"));
        rootfs.resolve("bin/busybox").toFile().setExecutable(true, false);
        for (String a : APPLETS) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(a), Path.of("busybox"));
        }
        for (String d : List.of("proc", "dev", "sys", "tmp", "etc", "usr")) {
            Files.createDirectories(rootfs.resolve(d));
        }
        if (hostUsr) {
            for (String l : List.of("lib", "lib64")) {
                if (Files.isDirectory(Path.of("/usr", l))) {
                    Files.createSymbolicLink(rootfs.resolve(l), Path.of("usr", l));
                }
            }
        }
        Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
    }

    public Path rootfs() {
        return rootfs;
    }

    /** A dynamically linked ELF names its loader in a PT_INTERP segment: look for the loader's path. */
    private static boolean isDynamic(Path elf) throws IOException {
        byte[] head = Files.readAllBytes(elf);
        String s = new String(head, 0, Math.min(head.length, 4096), StandardCharsets.ISO_8859_1);
        return s.contains("/lib64/ld-linux") || s.contains("/lib/ld-linux");
    }

    /**
     * Writes {@code dir/config.json}: process {@code args}, the annotations, the host network
     * namespace when {@code hostNetwork}, a default-deny device list (what runc spec writes), no
     * cgroupsPath (the runtime's default, a cgroup named after the container id).
     */
    public Path bundle(Path dir, List<String> args, Map<String, String> annotations, boolean hostNetwork)
            throws IOException {
        return bundle(dir, args, annotations, hostNetwork, null);
    }

    /** As {@link #bundle(Path, List, Map, boolean)}, with {@code linux.cgroupsPath} set unless null. */
    public Path bundle(Path dir, List<String> args, Map<String, String> annotations, boolean hostNetwork,
                       String cgroupsPath) throws IOException {
        Files.createDirectories(dir);
        ObjectNode c = JSON.createObjectNode();
        c.put("ociVersion", "1.0.2-dev");
        ObjectNode proc = c.putObject("process");
        proc.put("terminal", false);
        proc.putObject("user").put("uid", 0).put("gid", 0);
        ArrayNode a = proc.putArray("args");
        args.forEach(a::add);
        proc.putArray("env").add("PATH=/bin:/usr/bin").add("HOME=/");
        proc.put("cwd", "/");
        ObjectNode caps = proc.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "permitted")) {
            caps.putArray(set).add("CAP_KILL").add("CAP_NET_BIND_SERVICE").add("CAP_AUDIT_WRITE");
        }
        proc.put("noNewPrivileges", true);
        c.putObject("root").put("path", rootfs.toString()).put("readonly", true);
        c.put("hostname", "cgbpf");
        ArrayNode mounts = c.putArray("mounts");
        mount(mounts, "/proc", "proc", "proc", List.of());
        mount(mounts, "/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k"));
        mount(mounts, "/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666",
                "mode=0620"));
        mount(mounts, "/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"));
        mount(mounts, "/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"));
        mount(mounts, "/tmp", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=1777"));
        if (hostUsr) {
            mount(mounts, "/usr", "bind", "/usr", List.of("rbind", "ro", "nosuid", "nodev"));
        }
        if (!annotations.isEmpty()) {
            ObjectNode an = c.putObject("annotations");
            annotations.forEach(an::put);
        }
        ObjectNode linux = c.putObject("linux");
        if (cgroupsPath != null) {
            linux.put("cgroupsPath", cgroupsPath);
        }
        linux.putObject("resources").putArray("devices").addObject().put("allow", false).put("access", "rwm");
        ArrayNode ns = linux.putArray("namespaces");
        for (String n : List.of("pid", "ipc", "uts", "mount")) {
            ns.addObject().put("type", n);
        }
        if (!hostNetwork) {
            ns.addObject().put("type", "network");
        }
        ArrayNode masked = linux.putArray("maskedPaths");
        List.of("/proc/kcore", "/proc/keys", "/proc/timer_list").forEach(masked::add);
        Files.write(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(c));
        return dir;
    }

    private static void mount(ArrayNode mounts, String dest, String type, String source, List<String> options) {
        ObjectNode m = mounts.addObject().put("destination", dest).put("type", type).put("source", source);
        ArrayNode o = m.putArray("options");
        options.forEach(o::add);
    }
}
