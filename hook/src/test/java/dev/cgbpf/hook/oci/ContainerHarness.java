package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.cli.Console;
import dev.cgbpf.hook.cli.Main;
import dev.cgbpf.kernel.CgroupMode;
import dev.cgbpf.kernel.CgroupV2Mount;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.ObjGetNextId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * What the runc/crun test classes share: a private work directory with a busybox rootfs, a
 * launcher that runs the cgbpf command line in a JVM of its own (as the runtime runs the hook),
 * a private run dir, pin dir and hook log, bundles with the hook installed through
 * {@code cgbpf hook install}, and on a hybrid host the controller detour crun needs. One per test
 * class; {@link #close()} undoes all of it.
 */
public final class ContainerHarness implements AutoCloseable {
    public final Path work;
    public final Path launcher;
    public final Path runDir;
    public final Path pinDir;
    public final Path hookLog;
    public final BusyboxBundles bundles;
    private final String tag;
    private final HybridControllers detour;
    private final AtomicInteger seq = new AtomicInteger();

    private ContainerHarness(String tag, Path work, BusyboxBundles bundles, HybridControllers detour) {
        this.tag = tag;
        this.work = work;
        this.bundles = bundles;
        this.detour = detour;
        this.runDir = work.resolve("run");
        this.pinDir = Path.of("/sys/fs/bpf/cgbpf-" + tag + "-" + ProcessHandle.current().pid());
        this.hookLog = work.resolve("hook.log");
        this.launcher = work.resolve("cgbpf");
    }

    /**
     * Sets everything up for a test class whose containers and files are named after {@code tag};
     * needs the kernel (see {@link KernelRequired}) and a static busybox.
     */
    public static ContainerHarness open(String tag) throws Exception {
        KernelRequired.check();
        Path work = Files.createTempDirectory("cgbpf-" + tag + "-");
        HybridControllers detour = null;
        try {
            BusyboxBundles.unavailable().ifPresent(OciRuntime::missing);
            BusyboxBundles bundles = new BusyboxBundles(work, true);
            CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow();
            if (v2.mode() == CgroupMode.HYBRID) {
                detour = HybridControllers.detour(v2.mountPoint(), work);
            }
            ContainerHarness h = new ContainerHarness(tag, work, bundles, detour);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Files.writeString(h.launcher, "#!/bin/sh\nexec " + java + " -XX:TieredStopAtLevel=1 -cp '"
                    + System.getProperty("java.class.path") + "' dev.cgbpf.hook.cli.Main \"$@\"\n");
            h.launcher.toFile().setExecutable(true);
            return h;
        } catch (Exception | Error e) {
            if (detour != null) {
                detour.close();
            }
            deleteTree(work);
            throw e;
        }
    }

    /** A container id unique to this test class, naming the runtime. */
    String newId(String runtime) {
        return "cgbpf-" + tag + "-" + runtime + "-" + ProcessHandle.current().pid() + "-" + seq.incrementAndGet();
    }

    OciRuntime runtime(String name) {
        return OciRuntime.find(name, work);
    }

    /**
     * A bundle in {@code work/bundles/ID}: config.json from {@link BusyboxBundles}, the hook
     * installed with the private run dir, pin dir and log and host policy {@code policy}.
     */
    Path bundle(String id, List<String> args, Map<String, String> annotations, boolean hostNet, Path policy)
            throws IOException {
        Path b = bundles.bundle(work.resolve("bundles").resolve(id), args, annotations, hostNet);
        install(b, policy, launcher, runDir);
        return b;
    }

    /** {@code cgbpf hook install} on {@code bundle}, registering {@code hookPath} as the hook's executable. */
    void install(Path bundle, Path policy, Path hookPath, Path runDirectory) {
        install(bundle, policy, hookPath, runDirectory, List.of());
    }

    /** The same, with {@code KEY=VALUE} entries {@code extraEnv} added to the hook's environment. */
    void install(Path bundle, Path policy, Path hookPath, Path runDirectory, List<String> extraEnv) {
        List<String> args = new ArrayList<>(List.of("hook", "install", "--bundle", bundle.toString(), "--path",
                hookPath.toString(), "--policy", policy.toString(), "--env", "CGBPF_RUN_DIR=" + runDirectory, "--env",
                "CGBPF_PIN_DIR=" + pinDir, "--env", "CGBPF_LOG_FILE=" + hookLog));
        for (String e : extraEnv) {
            args.add("--env");
            args.add(e);
        }
        String[] argv = args.toArray(String[]::new);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = Main.run(argv, new Console(new ByteArrayInputStream(new byte[0]), new PrintStream(out),
                new PrintStream(out)));
        assertEquals(0, rc, out.toString(StandardCharsets.UTF_8));
    }

    /**
     * What this class's hooks keep on disk now: every path below the private run dir and pin dir
     * ("run/…", "pin/…"), directories included. Records and pins are compared as listings,
     * whatever they are named after (the container id or its cgroup).
     */
    public Set<String> files() throws IOException {
        Set<String> out = new TreeSet<>();
        list(runDir, "run", out);
        list(pinDir, "pin", out);
        return out;
    }

    static void list(Path dir, String prefix, Set<String> out) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            // the host's denial event ring buffer is no container's: it stays after the last one
            s.filter(p -> !p.equals(dir) && !p.getFileName().toString().equals(RunDir.LOCK)
                            && !p.equals(dir.resolve(ContainerFiles.EVENTS)))
                    .forEach(p -> out.add(prefix + "/" + dir.relativize(p)));
        }
    }

    /**
     * The ids of the programs the hook attached for container {@code id}, from its log lines
     * ("attached cgbpf_dev (prog id 123) at ..."): what a leak check may count, since other
     * cgbpf containers may come and go on the host meanwhile.
     */
    public Set<Integer> progIdsOf(String id) throws IOException {
        Set<Integer> out = new TreeSet<>();
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(" attached cgbpf_\\w+ \\(prog id (\\d+)\\)");
        for (String line : hookLogLines(" " + id + " ")) {
            java.util.regex.Matcher m = p.matcher(line);
            if (m.find()) {
                out.add(Integer.parseInt(m.group(1)));
            }
        }
        return out;
    }

    /** Of {@code ids}, the programs that still exist in the kernel. */
    public static Set<Integer> stillLoaded(Set<Integer> ids) throws BpfException {
        Set<Integer> out = new TreeSet<>();
        for (int live : ObjGetNextId.progIds()) {
            if (ids.contains(live)) {
                out.add(live);
            }
        }
        return out;
    }

    /** The hook log's lines that mention {@code text} (a container id, typically). */
    public List<String> hookLogLines(String text) throws IOException {
        if (!Files.exists(hookLog)) {
            return List.of();
        }
        return Files.readAllLines(hookLog).stream().filter(l -> l.contains(text)).toList();
    }

    @Override
    public void close() throws IOException {
        if (detour != null) {
            detour.close();
        }
        deleteTree(pinDir);
        deleteTree(work);
    }

    public static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(all::add);
        }
        for (Path p : all) {
            p.toFile().delete();
        }
    }
}
