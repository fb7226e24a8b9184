package dev.cgbpf.tools.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cgbpf.hook.oci.AttachRecord;
import dev.cgbpf.hook.oci.ContainerFiles;
import dev.cgbpf.hook.oci.HookStage;
import dev.cgbpf.hook.oci.StageRun;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.CgroupV2Mount;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code cgbpf-tools bench devices}: what a device policy of N rules costs, in the linear and the
 * maps shape, on the running kernel.
 *
 * <p>The policy is a host policy ceiling (an allow-all list with N deny exceptions, the shape
 * whose checks walk the whole chain): {@code deny c 0:i rwm} fillers, three wildcard exceptions
 * of block devices (so that the maps shape looks up all four key classes) and
 * {@code deny c 1:5 rwm} (/dev/zero), which sorts after every filler. The container has no device
 * rules of its own ({@code runtimeDefaults: none}), so {@code cgbpf_dev_host} is the only device
 * program. Per size and shape:
 * <ul>
 * <li><b>hook</b>: the createRuntime stage run in this JVM exactly as the daemon runs it
 *     ({@link StageRun}: host policy read and merged, programs compiled, the map made and filled,
 *     loaded, pinned, linked; the record written) against a scratch cgroup holding one sleeping
 *     process, then poststop; median of the runs after one warm-up;</li>
 * <li><b>size</b>: bytes_xlated and bytes_jited of the attached program, and the map's
 *     bytes_memlock (bpftool);</li>
 * <li><b>prog ns</b>: the program's own time per run from the kernel's statistics
 *     (kernel.bpf_stats_enabled set for the run, restored after), free of the open(2) around it;</li>
 * <li><b>opens</b>: a static C probe ({@code devprobe.c}, built with gcc) joins the container's
 *     cgroup and times open(2)+close(2) of /dev/null (allowed, no exception matches) and open(2)
 *     of /dev/zero (refused with EPERM): median of the rounds, ns per open. The same probe in a
 *     cgroup without programs gives the baseline.</li>
 * </ul>
 */
public final class DeviceBench {
    /** @param sizes device rules of the host policy; @param hookRuns timed hook runs per figure */
    public record Settings(List<Integer> sizes, int hookRuns, int rounds, int roundMs) {
        public static final Settings FULL = new Settings(List.of(10, 30, 100, 1_000, 10_000, 40_000), 5, 9, 100);
        public static final Settings QUICK = new Settings(List.of(10, 1_000), 1, 3, 20);
    }

    private static final String ALLOWED = "/dev/null";
    private static final String DENIED = "/dev/zero";
    private static final List<String> SHAPES = List.of("linear", "maps");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The kernel's per-program run statistics (run_time_ns, run_cnt), on for the run and restored after. */
    private static final Path STATS = Path.of("/proc/sys/kernel/bpf_stats_enabled");

    private final Settings settings;
    private final PrintStream out;
    private final Path work;
    private final String tag = "cgbpf-devbench-" + ProcessHandle.current().pid();
    private final Path pinBase = Path.of("/sys/fs/bpf").resolve(tag);
    private Path cgroupDir;
    private Path rootProcs;
    private String statsBefore;
    private Process sleeper;
    private int seq;

    private DeviceBench(Settings settings, PrintStream out, Path work) {
        this.settings = settings;
        this.out = out;
        this.work = work;
    }

    /** One row of the table. */
    record Row(int rules, String shape, double hookMs, double hookMinMs, long xlated, long jited, long mapBytes,
               double allowedNs, double deniedNs, double progAllowedNs, double progDeniedNs) {
    }

    public static void run(Settings settings, PrintStream out) throws IOException, InterruptedException {
        BpfAvailability a = BpfAvailability.probe();
        if (!a.usable()) {
            throw new IOException("bpf(2) is not usable (" + a.reason() + "): run the device benchmark as root");
        }
        Path work = Files.createTempDirectory("cgbpf-devbench-");
        DeviceBench b = new DeviceBench(settings, out, work);
        try {
            b.measure();
        } finally {
            b.cleanUp();
        }
    }

    private void measure() throws IOException, InterruptedException {
        Path probe = buildProbe();
        CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow(() -> new IOException("no cgroup v2 hierarchy is mounted"));
        rootProcs = v2.mountPoint().resolve("cgroup.procs");
        cgroupDir = v2.mountPoint().resolve(tag);
        Files.createDirectory(cgroupDir);
        sleeper = new ProcessBuilder("sleep", "3600").redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Files.writeString(cgroupDir.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
        Path bundle = work.resolve("bundle");
        Files.createDirectories(bundle);
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"linux\": {\"cgroupsPath\": \"/"
                + tag + "\"}}\n");
        printMethod();
        statsBefore = Files.readString(STATS).strip();
        Files.writeString(STATS, "1");
        double[] baseline = probe(probe, true, ALLOWED, "-");
        out.printf("baseline (no program): open of %s %.0f ns%n%n", ALLOWED, baseline[0]);
        out.printf("%7s %-6s %9s %9s %10s %10s %10s %11s %11s %9s %12s %11s%n", "rules", "shape", "hook ms", "(min)",
                "xlated B", "jited B", "map B", "allowed ns", "denied ns", "den/base", "prog ns: al.", "prog: den.");
        List<Row> rows = new ArrayList<>();
        for (int n : settings.sizes()) {
            for (String shape : SHAPES) {
                Row r = row(probe, bundle, n, shape);
                rows.add(r);
                out.printf("%7d %-6s %9.1f %9.1f %10d %10d %10s %11.0f %11.0f %8.1fx %12.0f %11.0f%n", r.rules(), r.shape(),
                        r.hookMs(), r.hookMinMs(), r.xlated(), r.jited(),
                        r.mapBytes() < 0 ? "-" : Long.toString(r.mapBytes()), r.allowedNs(), r.deniedNs(),
                        r.deniedNs() / baseline[0], r.progAllowedNs(), r.progDeniedNs());
            }
        }
        out.println();
        for (String shape : SHAPES) {
            List<Row> s = rows.stream().filter(r -> r.shape().equals(shape)).toList();
            Row first = s.get(0);
            Row last = s.get(s.size() - 1);
            out.printf("%s: %d -> %d rules: allowed open %.2fx, denied open %.2fx, program run %.2fx / %.2fx,"
                            + " hook %+.1f ms%n", shape, first.rules(), last.rules(), last.allowedNs() / first.allowedNs(),
                    last.deniedNs() / first.deniedNs(), last.progAllowedNs() / first.progAllowedNs(),
                    last.progDeniedNs() / first.progDeniedNs(), last.hookMs() - first.hookMs());
        }
    }

    private Row row(Path probe, Path bundle, int rules, String shape) throws IOException, InterruptedException {
        Path policy = work.resolve("policy.json");
        Files.writeString(policy, policyJson(rules, shape));
        List<Long> times = new ArrayList<>();
        // the rows share this JVM: a full collection first, so that a row does not pay for the
        // garbage of the one before (the linear shape at 40,000 rules leaves hundreds of MB)
        System.gc();
        for (int i = 0; i <= settings.hookRuns(); i++) {
            String id = tag + "-" + (++seq);
            Files.writeString(cgroupDir.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
            long t0 = System.nanoTime();
            stage(HookStage.CREATE_RUNTIME, state(id, sleeper.pid(), bundle));
            long dt = System.nanoTime() - t0;
            if (i > 0) {
                times.add(dt); // run 0 warms the JVM up for this policy's code paths
            }
            boolean last = i == settings.hookRuns();
            double[] opens = null;
            long[] size = null;
            if (last) {
                size = sizes();
                long[] s0 = runStats(size[3]);
                double allowed = probe(probe, false, ALLOWED, "-")[0];
                long[] s1 = runStats(size[3]);
                double denied = probe(probe, false, "-", DENIED)[1];
                long[] s2 = runStats(size[3]);
                opens = new double[] {allowed, denied, (double) (s1[0] - s0[0]) / (s1[1] - s0[1]),
                        (double) (s2[0] - s1[0]) / (s2[1] - s1[1])};
            }
            Files.writeString(rootProcs, Long.toString(sleeper.pid()));
            stage(HookStage.POSTSTOP, state(id, null, bundle));
            try (Stream<Path> left = Files.list(pinBase)) {
                if (left.findAny().isPresent()) {
                    throw new IOException("poststop of " + id + " left pins in " + pinBase);
                }
            }
            if (last) {
                Collections.sort(times);
                return new Row(rules, shape, times.get(times.size() / 2) / 1e6, times.get(0) / 1e6, size[0], size[1],
                        size[2], opens[0], opens[1], opens[2], opens[3]);
            }
        }
        throw new IllegalStateException("unreachable");
    }

    /**
     * bytes_xlated, bytes_jited of cgbpf_dev_host, bytes_memlock of its map (-1 without one) and
     * the program's id, from bpftool.
     */
    private long[] sizes() throws IOException, InterruptedException {
        Path runDir = work.resolve("run");
        AttachRecord.Program host;
        try (Stream<Path> dirs = Files.list(runDir)) {
            Path rec = dirs.map(d -> d.resolve("state.json")).filter(Files::exists).findFirst()
                    .orElseThrow(() -> new IOException("no record in " + runDir));
            JsonNode r = JSON.readTree(rec.toFile());
            JsonNode p = null;
            for (JsonNode x : r.get("programs")) {
                if (x.get("name").asText().equals("cgbpf_dev_host")) {
                    p = x;
                }
            }
            if (p == null) {
                throw new IOException("the record has no cgbpf_dev_host: " + r);
            }
            host = new AttachRecord.Program(p.get("name").asText(), null, p.get("progId").asInt(), p.get("insns").asInt(),
                    p.get("tag").asText());
        }
        JsonNode prog = JSON.readTree(run("bpftool", "-j", "prog", "show", "id", Integer.toString(host.progId())));
        long mapBytes = -1;
        JsonNode mapIds = prog.get("map_ids");
        if (mapIds != null) {
            for (JsonNode id : mapIds) {
                JsonNode m = JSON.readTree(run("bpftool", "-j", "map", "show", "id", id.asText()));
                if (m.get("name").asText().equals("cgbpf_dev_host")) {
                    mapBytes = m.get("bytes_memlock").asLong();
                }
            }
        }
        return new long[] {prog.get("bytes_xlated").asLong(), prog.get("bytes_jited").asLong(), mapBytes, host.progId()};
    }

    /** run_time_ns and run_cnt of program {@code id}: the kernel counts them while kernel.bpf_stats_enabled is 1. */
    private static long[] runStats(long id) throws IOException, InterruptedException {
        JsonNode prog = JSON.readTree(run("bpftool", "-j", "prog", "show", "id", Long.toString(id)));
        if (prog.get("run_cnt") == null) {
            return new long[] {0, 0};
        }
        return new long[] {prog.get("run_time_ns").asLong(), prog.get("run_cnt").asLong()};
    }

    private double[] probe(Path probe, boolean baseline, String allowed, String denied)
            throws IOException, InterruptedException {
        Path procs;
        if (baseline) {
            procs = cgroupDir.resolve("baseline");
            Files.createDirectories(procs);
            procs = procs.resolve("cgroup.procs");
        } else {
            procs = cgroupDir.resolve("cgroup.procs");
        }
        String text = run(probe.toString(), procs.toString(), allowed, denied,
                Integer.toString(settings.rounds()), Integer.toString(settings.roundMs()));
        Map<String, Double> v = new LinkedHashMap<>();
        for (String line : text.strip().split("\n")) {
            String[] f = line.split(" ");
            v.put(f[0], Double.parseDouble(f[1]));
        }
        if (baseline) {
            Files.delete(cgroupDir.resolve("baseline"));
        }
        return new double[] {v.get("allowed"), v.get("denied")};
    }

    private void stage(HookStage stage, byte[] state) throws IOException {
        Map<String, String> env = Map.of("CGBPF_POLICY", work.resolve("policy.json").toString(),
                "CGBPF_RUN_DIR", work.resolve("run").toString(), "CGBPF_PIN_DIR", pinBase.toString(),
                "CGBPF_LOG_FILE", "-");
        StageRun.Result r = StageRun.run(stage, false, env, () -> state, () -> true);
        if (r.status() != 0) {
            throw new IOException(stage.specName() + " failed: " + r.error());
        }
    }

    /**
     * The host policy: N device rules, deny exceptions of an allow-all ceiling; /dev/zero's rule
     * last in the linear chain (exceptions are sorted by major), /dev/null matching none.
     */
    static String policyJson(int rules, String shape) {
        StringBuilder b = new StringBuilder("{\"appliesTo\": \"all\", \"runtimeDefaults\": \"none\", \"deviceProgram\": \"")
                .append(shape).append("\", \"limits\": {\"deviceRules\": 200000}, \"devices\": [\n");
        List<String> r = new ArrayList<>();
        r.add("{\"allow\": false, \"type\": \"b\", \"major\": 7, \"access\": \"rwm\"}");
        r.add("{\"allow\": false, \"type\": \"b\", \"minor\": 7, \"access\": \"rwm\"}");
        r.add("{\"allow\": false, \"type\": \"b\", \"access\": \"m\"}");
        for (int i = 0; r.size() < rules - 1; i++) {
            r.add("{\"allow\": false, \"type\": \"c\", \"major\": 0, \"minor\": " + (i + 1) + ", \"access\": \"rwm\"}");
        }
        r.add("{\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 5, \"access\": \"rwm\"}");
        b.append(String.join(",\n", r)).append("]}\n");
        return b.toString();
    }

    private static byte[] state(String id, Long pid, Path bundle) {
        return ("{\"ociVersion\": \"1.0.2\", \"id\": \"" + id + "\", \"status\": \"" + (pid == null ? "stopped" : "creating")
                + "\", " + (pid == null ? "" : "\"pid\": " + pid + ", ") + "\"bundle\": \"" + bundle + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private Path buildProbe() throws IOException, InterruptedException {
        Path src = work.resolve("devprobe.c");
        try (InputStream in = DeviceBench.class.getResourceAsStream("devprobe.c")) {
            if (in == null) {
                throw new IOException("devprobe.c is missing from the tools jar");
            }
            Files.copy(in, src);
        }
        Path bin = work.resolve("devprobe");
        try {
            run("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", bin.toString(), src.toString());
        } catch (IOException e) {
            throw new IOException("cannot build the C probe with gcc (apt-get install gcc libc6-dev): " + e.getMessage());
        }
        return bin;
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + text.strip());
        }
        return text;
    }

    private void printMethod() throws IOException {
        out.println("cgbpf-tools bench devices: a host policy of N device rules (deny exceptions of an allow-all"
                + " ceiling), linear vs maps");
        out.println("  hook     = createRuntime in this JVM, as the daemon runs it (merge, compile, map, load, pin, link),"
                + " median of " + settings.hookRuns() + " after a warm-up (and a System.gc() per row)");
        out.println("  xlated/jited = the program's bytes (bpftool); map = the map's bytes_memlock");
        out.println("  allowed  = open+close of " + ALLOWED + " (no exception matches), denied = open of " + DENIED
                + " (EPERM; its exception sorts last): median of " + settings.rounds() + " rounds of ~"
                + settings.roundMs() + " ms, ns per open, from a static C probe in the container's cgroup");
        out.println("  prog ns  = the device program's own time per run, run_time_ns / run_cnt of the kernel's"
                + " statistics (kernel.bpf_stats_enabled on for the run), over the same opens");
        out.println("  host: " + Runtime.getRuntime().availableProcessors() + " cpus, Linux " + System.getProperty("os.version")
                + ", bpf_jit_enable=" + Files.readString(Path.of("/proc/sys/net/core/bpf_jit_enable")).strip());
        out.println();
    }

    private void cleanUp() throws IOException {
        if (statsBefore != null) {
            Files.writeString(STATS, statsBefore);
        }
        if (sleeper != null) {
            sleeper.destroyForcibly();
            try {
                sleeper.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (cgroupDir != null) {
            try {
                Files.deleteIfExists(cgroupDir.resolve("baseline"));
                Files.deleteIfExists(cgroupDir);
            } catch (IOException e) {
                out.println("cgbpf-tools bench devices: cannot remove " + cgroupDir + ": " + e.getMessage());
            }
        }
        if (Files.isDirectory(pinBase)) {
            // the host's event ring the first attach pinned in this benchmark's pin root: ours to remove
            Files.deleteIfExists(pinBase.resolve(ContainerFiles.EVENTS));
            try (Stream<Path> s = Files.list(pinBase)) {
                if (s.findAny().isEmpty()) {
                    Files.delete(pinBase);
                }
            }
        }
        try (Stream<Path> s = Files.walk(work)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
