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

/**
 * Bundles for the end-to-end tests: a rootfs made here from the host's static busybox (plus the
 * host's /usr bind-mounted read-only, for python3, whose sockets show exactly where a bind or a
 * datagram went), and a config.json written from scratch in the shape {@code runc spec} gives.
 */
final class TestBundles {
    static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> APPLETS = List.of("sh", "echo", "cat", "head", "wc", "sleep", "true", "ls");

    private final Path rootfs;

    TestBundles(Path work) throws IOException {
        rootfs = work.resolve("rootfs");
        if (!Files.isRegularFile(BUSYBOX) || isDynamic(BUSYBOX)) {
            OciRuntime.missing(BUSYBOX + " is missing or not statically linked (apt-get install busybox-static)");
        }
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(BUSYBOX, rootfs.resolve("bin/busybox"));
        rootfs.resolve("bin/busybox").toFile().setExecutable(true, false);
        for (String a : APPLETS) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(a), Path.of("busybox"));
        }
        for (String d : List.of("proc", "dev", "sys", "tmp", "etc", "usr")) {
            Files.createDirectories(rootfs.resolve(d));
        }
        // merged-/usr hosts (Debian 12): the libraries python needs are under /usr
        for (String l : List.of("lib", "lib64")) {
            if (Files.isDirectory(Path.of("/usr", l))) {
                Files.createSymbolicLink(rootfs.resolve(l), Path.of("usr", l));
            }
        }
        Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
    }

    /** A dynamically linked ELF names its loader in a PT_INTERP segment: look for the loader's path. */
    private static boolean isDynamic(Path elf) throws IOException {
        byte[] head = Files.readAllBytes(elf);
        String s = new String(head, 0, Math.min(head.length, 4096), StandardCharsets.ISO_8859_1);
        return s.contains("/lib64/ld-linux") || s.contains("/lib/ld-linux");
    }

    /**
     * Writes {@code dir/config.json}: process {@code args}, the annotations, the host network
     * namespace when {@code hostNetwork}.
     */
    Path bundle(Path dir, List<String> args, Map<String, String> annotations, boolean hostNetwork) throws IOException {
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
        c.put("hostname", "cgbpf-e2e");
        ArrayNode mounts = c.putArray("mounts");
        mount(mounts, "/proc", "proc", "proc", List.of());
        mount(mounts, "/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k"));
        mount(mounts, "/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666",
                "mode=0620"));
        mount(mounts, "/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"));
        mount(mounts, "/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"));
        mount(mounts, "/tmp", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=1777"));
        mount(mounts, "/usr", "bind", "/usr", List.of("rbind", "ro", "nosuid", "nodev"));
        if (!annotations.isEmpty()) {
            ObjectNode an = c.putObject("annotations");
            annotations.forEach(an::put);
        }
        ObjectNode linux = c.putObject("linux");
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
