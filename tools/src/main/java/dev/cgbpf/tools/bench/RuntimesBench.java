package dev.cgbpf.tools.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.hook.oci.BusyboxBundles;
import dev.cgbpf.hook.oci.HookStage;
import dev.cgbpf.hook.oci.OciHooksFile;
import dev.cgbpf.hook.policy.AppliesTo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code cgbpf-tools bench runtimes}: what cgbpf adds to a container start under each engine.
 * The engines run privately (as in RuntimesEndToEndTest: containerd and dockerd started here on
 * sockets and state directories of a temporary directory, podman with its own root), a busybox
 * container running {@code true}; per engine, the start without cgbpf, through the shim without
 * settings (Docker, containerd: its pass-through cost) and with a device setting (the hook's
 * createRuntime and poststop). Wall time of the whole client command ({@code podman run --rm},
 * {@code ctr run --rm}, {@code docker run --rm}), median of N, the rows interleaved. The hook
 * and the shim run with the CGBPF_* settings of this environment (a daemon answering at
 * CGBPF_SOCKET makes the figures the daemon's; without one, the JVM's).
 */
public final class RuntimesBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SETTING = "dev.cgbpf.devices=deny c 1:5 w";

    /** @param runs starts per row; @param shim cgbpf-runtime (its directory also has cgbpf-hook) */
    public record Settings(int runs, Path shim) {
    }

    private RuntimesBench() {
    }

    public static void run(Settings s, PrintStream out) throws IOException, InterruptedException {
        // short: podman refuses a runroot path longer than 50 characters
        Path work = Files.createTempDirectory("cgbpf-rb");
        List<Process> services = new ArrayList<>();
        try {
            Path rootfs = new BusyboxBundles(work, false).rootfs();
            Map<String, List<String>> rows = new LinkedHashMap<>();
            Map<String, String> skipped = new LinkedHashMap<>();
            if (installed("podman") && installed("runc")) {
                Path hooks = hooksDir(work, s.shim().resolveSibling("cgbpf-hook"));
                List<String> p = List.of("podman", "--root", work + "/p/root", "--runroot", work + "/p/run",
                        "--tmpdir", work + "/p/tmp", "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                        "--events-backend", "file", "--runtime", "runc", "--hooks-dir", hooks.toString());
                Path tar = work.resolve("image.tar");
                ok(List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."));
                ok(cat(p, "import", tar.toString(), "localhost/cgbpf-bench:1"));
                List<String> run = cat(p, "run", "--rm", "--network", "host", "--ulimit", "nofile=20000:20000",
                        "--ulimit", "nproc=32768:32768");
                rows.put("podman+runc, no settings", cat(run, "localhost/cgbpf-bench:1", "true"));
                rows.put("podman+runc, cgbpf (hooks.d)", cat(run, "--annotation", SETTING, "localhost/cgbpf-bench:1",
                        "true"));
            } else {
                skipped.put("podman", "podman or runc not installed");
            }
            if (installed("containerd") && installed("ctr")) {
                Path dir = Files.createDirectories(work.resolve("containerd"));
                Files.writeString(dir.resolve("config.toml"), """
                        version = 2
                        root = "%1$s/root"
                        state = "%1$s/state"
                        disabled_plugins = ["io.containerd.grpc.v1.cri"]
                        [grpc]
                          address = "%1$s/c.sock"
                        [ttrpc]
                          address = "%1$s/c.sock.ttrpc"
                        [debug]
                          address = ""
                        [plugins."io.containerd.internal.v1.opt"]
                          path = "%1$s/opt"
                        """.formatted(dir));
                services.add(start(List.of("containerd", "--config", dir.resolve("config.toml").toString()),
                        dir.resolve("log"), dir.resolve("c.sock")));
                List<String> ctr = List.of("ctr", "--address", dir.resolve("c.sock").toString(), "--namespace",
                        "cgbpf-bench", "run", "--rm", "--rootfs", "--env", "PATH=/bin");
                rows.put("ctr run, runc", cat(ctr, "--net-host", rootfs.toString(), "ctr-$N", "true"));
                rows.put("ctr run, cgbpf-runtime, no settings", cat(ctr, "--runc-binary", s.shim().toString(),
                        "--net-host", rootfs.toString(), "ctr-$N", "true"));
                rows.put("ctr run, cgbpf-runtime, cgbpf", cat(ctr, "--runc-binary", s.shim().toString(), "--net-host",
                        "--annotation", SETTING, rootfs.toString(), "ctr-$N", "true"));
            } else {
                skipped.put("containerd", "containerd or ctr not installed");
            }
            if (installed("dockerd") && Files.isExecutable(Path.of("/usr/bin/docker"))) {
                Path dir = Files.createDirectories(work.resolve("docker"));
                String host = "unix://" + dir.resolve("d.sock");
                services.add(start(List.of("dockerd", "-H", host, "--data-root", dir + "/data", "--exec-root",
                        dir + "/exec", "--pidfile", dir + "/pid", "--bridge=none", "--iptables=false",
                        "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--storage-driver", "vfs",
                        "--exec-opt", "native.cgroupdriver=cgroupfs", "--add-runtime", "cgbpf=" + s.shim()),
                        dir.resolve("log"), dir.resolve("d.sock")));
                List<String> docker = List.of("/usr/bin/docker", "-H", host);
                waitFor(cat(docker, "version"));
                Path tar = work.resolve("image.tar");
                if (!Files.exists(tar)) {
                    ok(List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."));
                }
                ok(cat(docker, "import", tar.toString(), "cgbpf-bench:1"));
                List<String> run = cat(docker, "run", "--rm", "--network", "host");
                rows.put("docker run, runc", cat(run, "cgbpf-bench:1", "true"));
                rows.put("docker run, cgbpf-runtime, no settings", cat(run, "--runtime", "cgbpf", "cgbpf-bench:1",
                        "true"));
                rows.put("docker run, cgbpf-runtime, cgbpf", cat(run, "--runtime", "cgbpf", "-e", SETTING,
                        "cgbpf-bench:1", "true"));
            } else {
                skipped.put("docker", "dockerd or /usr/bin/docker not installed");
            }
            measure(rows, s.runs(), out);
            skipped.forEach((k, v) -> out.printf("%-40s skipped: %s%n", k, v));
        } finally {
            for (Process p : services) {
                p.destroy();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
            // dockerd leaves its exec root's netns/default (an nsfs bind mount) behind when it stops
            List<String> mounts = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String mountPoint = line.split(" ")[4];
                if (mountPoint.startsWith(work + "/")) {
                    mounts.add(mountPoint);
                }
            }
            mounts.sort(Comparator.reverseOrder());
            for (String m : mounts) {
                new ProcessBuilder("umount", "-l", m).start().waitFor(30, TimeUnit.SECONDS);
            }
            try (Stream<Path> all = Files.walk(work)) {
                all.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static void measure(Map<String, List<String>> rows, int runs, PrintStream out)
            throws IOException, InterruptedException {
        Map<String, List<Double>> ms = new LinkedHashMap<>();
        for (List<String> cmd : rows.values()) {
            ok(number(cmd, 0)); // warm-up: page cache, the daemon's JIT
        }
        for (int i = 1; i <= runs; i++) {
            for (Map.Entry<String, List<String>> r : rows.entrySet()) {
                long t0 = System.nanoTime();
                ok(number(r.getValue(), i));
                ms.computeIfAbsent(r.getKey(), k -> new ArrayList<>()).add((System.nanoTime() - t0) / 1e6);
            }
        }
        out.printf("%-40s %10s %10s %10s   (%d runs, interleaved)%n", "start of `true`", "median ms", "min ms",
                "max ms", runs);
        ms.forEach((row, xs) -> {
            xs.sort(null);
            out.printf("%-40s %10.0f %10.0f %10.0f%n", row, xs.get(xs.size() / 2), xs.get(0), xs.get(xs.size() - 1));
        });
    }

    /** podman's hooks directory: cgbpf's two oci-hooks(5) files, the client with this environment's CGBPF_* settings. */
    private static Path hooksDir(Path work, Path client) throws IOException {
        Path dir = Files.createDirectories(work.resolve("hooks.d"));
        for (HookStage st : List.of(HookStage.CREATE_RUNTIME, HookStage.POSTSTOP)) {
            ObjectNode doc = (ObjectNode) JSON.readTree(OciHooksFile.render(client.toString(), st, AppliesTo.ANNOTATED));
            ArrayNode env = ((ObjectNode) doc.get("hook")).putArray("env");
            System.getenv().forEach((k, v) -> {
                if (k.startsWith("CGBPF_")) {
                    env.add(k + "=" + v);
                }
            });
            Files.writeString(dir.resolve("cgbpf-" + st.specName() + ".json"), JSON.writeValueAsString(doc));
        }
        return dir;
    }

    private static List<String> cat(List<String> a, String... more) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(more));
        return out;
    }

    private static List<String> number(List<String> cmd, int i) {
        return cmd.stream().map(w -> w.replace("$N", ProcessHandle.current().pid() + "-" + i)).toList();
    }

    private static boolean installed(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    private static void ok(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                Path.of("/dev/null").toFile())).start();
        String text = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + text.strip());
        }
    }

    private static void waitFor(List<String> cmd) throws IOException, InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                ok(cmd);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > end) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    private static Process start(List<String> cmd, Path log, Path socket) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > end) {
                p.destroyForcibly();
                throw new IOException(cmd.get(0) + " did not start: see " + log);
            }
            Thread.sleep(100);
        }
        return p;
    }
}
