package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.hook.compile.DenialRules;
import dev.cgbpf.hook.compile.DeviceCompiler;
import dev.cgbpf.hook.compile.ProgramMap;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.CgroupV2Mount;
import dev.cgbpf.kernel.KernelRequired;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cgbpf update --devices} on the kernel: a container (a real cgroup holding a process that
 * opens device nodes) started through the hook, its device rules changed while it runs.
 *
 * <p>The policies: the host ceiling denies /dev/random (c 1:8); the container has runc's default
 * devices and its annotation denies /dev/full (c 1:7, rw). Update A = {@code deny c 1:5 rw; allow c
 * 1:7 rw} (zero refused, full opens), update B = {@code allow c 1:5 rw} (as at the start: zero
 * opens, full refused). /dev/null and /dev/urandom open under both, /dev/random under neither.
 */
class UpdateDevicesKernelTest {
    private static final Path SOURCE = Path.of("src/test/c/devloop.c");
    private static final Path BINARY = Path.of("target/devloop");
    private static final List<String> NODES = List.of("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom");
    private static final String A = "deny c 1:5 rw; allow c 1:7 rw";
    private static final String B = "allow c 1:5 rw";

    @TempDir
    Path tmp;

    @BeforeAll
    static void kernelAndProbe() throws Exception {
        KernelRequired.check();
        Files.createDirectories(BINARY.getParent());
        Process p = new ProcessBuilder("gcc", "-static", "-O1", "-Wall", "-Werror", "-o", BINARY.toString(), SOURCE.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "gcc did not finish");
        assertEquals(0, p.exitValue(), "gcc -static " + SOURCE + ": " + out);
    }

    @Test
    void mapsShapeThroughTheLinkAThousandUpdatesUnderAStreamOfOpens() throws Exception {
        run("maps", HookSettings.AttachMode.LINK, 1000);
    }

    @Test
    void linearShapeThroughTheLink() throws Exception {
        run("linear", HookSettings.AttachMode.LINK, 200);
    }

    @Test
    void multiAttachedProgramsAreReplacedInPlace() throws Exception {
        run("auto", HookSettings.AttachMode.ATTACH, 200);
    }

    /** A container without device rules of its own has only the ceiling; an update attaches its program. */
    @Test
    void aContainerWithoutItsOwnDeviceProgramGetsOne() throws Exception {
        CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow();
        String tag = "cgbpf-update-" + ProcessHandle.current().pid() + "-new";
        Path cg = v2.mountPoint().resolve(tag);
        Path pins = Path.of("/sys/fs/bpf").resolve(tag);
        Path bundle = Files.createDirectories(tmp.resolve("bundle"));
        Files.writeString(tmp.resolve("policy.json"), "{\"appliesTo\": \"all\", \"runtimeDefaults\": \"none\","
                + " \"devices\": [{\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 8, \"access\": \"rwm\"}]}");
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"linux\": {\"cgroupsPath\": \"/"
                + tag + "\"}}");
        HookSettings settings = new HookSettings(tmp.resolve("policy.json"), tmp.resolve("run"), pins,
                tmp.resolve("hook.log"), HookSettings.BackendMode.KERNEL, HookSettings.AttachMode.LINK, Path.of("/proc"));
        Files.createDirectory(cg);
        Process idle = null;
        try {
            idle = loop(cg);
            OciHook hook = new OciHook(settings, log(), BpfAvailability::probe, CgroupV2Mount::discover);
            hook.run(HookStage.CREATE_RUNTIME, state("upd2", idle.pid(), bundle));
            ContainerFiles files = settings.files(ContainerCgroup.idOf(cg));
            assertEquals(List.of(DeviceCompiler.HOST_NAME), AttachRecord.read(files).programs().stream()
                    .map(AttachRecord.Program::name).toList());
            assertTrue(once(cg).get("/dev/zero"));
            DenialRules.Rule ceiling = new DenialRules.Rule("device", DenialRules.DEVICE_HOST,
                    "policy.json devices[0] (deny c 1:8 rwm)");
            assertEquals(List.of(ceiling), AttachRecord.read(files).rules());
            UpdateDevices.Outcome u = UpdateDevices.run(settings, "upd2", "allow a *:* rwm; deny c 1:5 rw", log());
            // the record names the new program's rule indices (its events read right)
            assertEquals(List.of(ceiling, new DenialRules.Rule("device", 0, "update --devices rule 2 (deny c 1:5 rw)")),
                    AttachRecord.read(files).rules());
            assertEquals(0, u.oldProgId());
            assertEquals(Map.of("/dev/null", true, "/dev/zero", false, "/dev/full", true, "/dev/random", false,
                    "/dev/urandom", true), once(cg));
            assertEquals(List.of(DeviceCompiler.HOST_NAME, DeviceCompiler.NAME), AttachRecord.read(files).programs()
                    .stream().map(AttachRecord.Program::name).toList());
            assertTrue(OciHookTest.status(settings, "upd2").attached().values().stream().allMatch(x -> x));
            idle.getOutputStream().write("go\n".getBytes(StandardCharsets.UTF_8));
            assertEquals(0, finish(idle).get("/dev/random")[0]);
            idle = null;
            hook.run(HookStage.POSTSTOP, state("upd2", null, bundle));
            assertFalse(Files.exists(files.pinDir()), "pins left: " + files.pinDir());
        } finally {
            if (idle != null) {
                idle.destroyForcibly();
                idle.waitFor(10, TimeUnit.SECONDS);
            }
            removeCgroup(cg);
            if (Files.isDirectory(pins)) {
                try (Stream<Path> s = Files.walk(pins)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    /** A container in a scratch cgroup, attached by createRuntime, updated, then removed by poststop. */
    private void run(String shape, HookSettings.AttachMode mode, int updates) throws Exception {
        CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow();
        String tag = "cgbpf-update-" + ProcessHandle.current().pid() + "-" + shape + "-" + mode.name().toLowerCase();
        Path cg = v2.mountPoint().resolve(tag);
        Path pins = Path.of("/sys/fs/bpf").resolve(tag);
        Path bundle = Files.createDirectories(tmp.resolve("bundle"));
        Files.writeString(tmp.resolve("policy.json"), "{\"deviceProgram\": \"" + shape + "\", \"devices\": [{\"allow\":"
                + " false, \"type\": \"c\", \"major\": 1, \"minor\": 8, \"access\": \"rwm\"}]}");
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"annotations\":"
                + " {\"dev.cgbpf.devices\": \"deny c 1:7 rw\"}, \"linux\": {\"cgroupsPath\": \"/" + tag + "\"}}");
        HookSettings settings = new HookSettings(tmp.resolve("policy.json"), tmp.resolve("run"), pins,
                tmp.resolve("hook.log"), HookSettings.BackendMode.KERNEL, mode, Path.of("/proc"));
        String id = "upd1";
        Files.createDirectory(cg);
        Process stream = null;
        try {
            stream = loop(cg);
            OciHook hook = new OciHook(settings, new HookLog(settings.logFile()), BpfAvailability::probe,
                    CgroupV2Mount::discover);
            hook.run(HookStage.CREATE_RUNTIME, state(id, stream.pid(), bundle));
            ContainerFiles files = settings.files(ContainerCgroup.idOf(cg));
            AttachRecord started = AttachRecord.read(files);
            int devIdBefore = program(started).progId();

            // one update, each direction, seen by the next open
            assertEquals(Map.of("/dev/null", true, "/dev/zero", true, "/dev/full", false, "/dev/random", false,
                    "/dev/urandom", true), once(cg));
            UpdateDevices.Outcome a = UpdateDevices.run(settings, id, A, log());
            assertEquals(devIdBefore, a.oldProgId());
            assertEquals(Map.of("/dev/null", true, "/dev/zero", false, "/dev/full", true, "/dev/random", false,
                    "/dev/urandom", true), once(cg));
            UpdateDevices.Outcome b = UpdateDevices.run(settings, id, B, log());
            assertEquals(a.program().progId(), b.oldProgId());
            assertEquals(Map.of("/dev/null", true, "/dev/zero", true, "/dev/full", false, "/dev/random", false,
                    "/dev/urandom", true), once(cg));
            // the ceiling holds: asking for /dev/random is a warning and changes nothing for it
            UpdateDevices.Outcome c = UpdateDevices.run(settings, id, "allow c 1:8 rwm; " + B, log());
            assertEquals(1, c.warnings().size(), c.warnings().toString());
            assertTrue(c.warnings().get(0).contains("'allow c 1:8 rwm' asks for more than the host policy allows"),
                    c.warnings().get(0));
            assertFalse(once(cg).get("/dev/random"));
            // refused updates change nothing
            assertTrue(assertThrows(HookException.class, () -> UpdateDevices.run(settings, id, "deny c 1:3 rw",
                    log())).getMessage().contains("denies read-write access to /dev/null"));
            assertTrue(assertThrows(HookException.class, () -> UpdateDevices.run(settings, id, "allow q 1:3 rwm",
                    log())).getMessage().startsWith("update --devices rule 1: "));
            assertEquals("no cgbpf record for container nosuch in " + settings.runDir()
                            + " (not started with the hook, no policy applied, or already stopped)",
                    assertThrows(HookException.class, () -> UpdateDevices.run(settings, "nosuch", B,
                            log())).getMessage());
            assertEquals(3, AttachRecord.read(files).deviceUpdate().count());

            // a stream of opens during many updates sees only A's or B's decisions
            stream.getOutputStream().write("go\n".getBytes(StandardCharsets.UTF_8));
            stream.getOutputStream().flush();
            long t0 = System.nanoTime();
            for (int i = 0; i < updates; i++) {
                UpdateDevices.run(settings, id, i % 2 == 0 ? A : B, log());
            }
            double ms = (System.nanoTime() - t0) / 1e6 / updates;
            Map<String, long[]> counts = finish(stream);
            stream = null;
            System.out.printf("%s/%s: %d updates, %.1f ms each; opened/refused %s%n", shape, mode, updates, ms,
                    counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()[0] + "/" + e.getValue()[1]).toList());
            for (String always : List.of("/dev/null", "/dev/urandom")) {
                assertEquals(0, counts.get(always)[1], always + " was refused during the updates");
                assertTrue(counts.get(always)[0] > 0, always);
            }
            assertEquals(0, counts.get("/dev/random")[0], "/dev/random opened during the updates");
            for (String either : List.of("/dev/zero", "/dev/full")) {
                assertTrue(counts.get(either)[0] > 0 && counts.get(either)[1] > 0,
                        either + " should have been seen both ways: " + counts.get(either)[0] + "/" + counts.get(either)[1]);
            }

            AttachRecord now = AttachRecord.read(files);
            assertEquals(3 + updates, now.deviceUpdate().count());
            assertEquals(updates % 2 == 0 ? B : A, now.deviceUpdate().devices());
            AttachRecord.Program dev = program(now);
            assertNotEquals(devIdBefore, dev.progId());
            assertEquals(started.programs().size(), now.programs().size());
            Path mapPin = files.pinDir().resolve(DeviceCompiler.NAME + ProgramMap.PIN_SUFFIX);
            if (shape.equals("maps")) {
                assertNotNull(dev.mapEntries());
                assertTrue(Files.exists(mapPin));
            } else {
                assertNull(dev.mapEntries());
                assertFalse(Files.exists(mapPin));
            }
            ContainerStatus status = OciHookTest.status(settings, id);
            assertTrue(status.attached().values().stream().allMatch(x -> x), status.attached().toString());
            assertTrue(status.text().contains("devices updated: " + (3 + updates) + " times"), status.text());

            // poststop removes the updated objects as it would the first ones
            hook.run(HookStage.POSTSTOP, state(id, null, bundle));
            assertFalse(Files.exists(files.pinDir()), "pins left: " + files.pinDir());
            assertFalse(Files.exists(files.recordDir()));
        } finally {
            if (stream != null) {
                stream.destroyForcibly();
                stream.waitFor(10, TimeUnit.SECONDS);
            }
            removeCgroup(cg);
            if (Files.isDirectory(pins)) {
                try (Stream<Path> s = Files.walk(pins)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    /** Removes the scratch cgroup once the probes in it have exited (a failed test may leave one running). */
    private static void removeCgroup(Path cg) throws Exception {
        if (!Files.isDirectory(cg)) {
            return;
        }
        for (String pid : Files.readString(cg.resolve("cgroup.procs")).split("\n")) {
            if (!pid.isBlank()) {
                ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(cg.resolve("cgroup.procs")).isBlank() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Files.delete(cg);
    }

    private HookLog log() {
        return new HookLog(tmp.resolve("update.log"));
    }

    private static AttachRecord.Program program(AttachRecord r) {
        return r.programs().stream().filter(p -> p.name().equals(DeviceCompiler.NAME)).findFirst().orElseThrow();
    }

    /** The probe, waiting in cgroup {@code cg} for its start line. */
    private static Process loop(Path cg) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of("/bin/sh", "-c", "echo $$ > \"$0\" && exec \"$@\"",
                cg.resolve("cgroup.procs").toString(), BINARY.toAbsolutePath().toString()));
        cmd.addAll(NODES);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!List.of(Files.readString(cg.resolve("cgroup.procs")).split("\n")).contains(Long.toString(p.pid()))) {
            assertTrue(System.nanoTime() < deadline, "the probe did not join " + cg);
            Thread.onSpinWait();
        }
        return p;
    }

    /** One short run of the probe in {@code cg} (64 opens of each node): which nodes opened. */
    private static Map<String, Boolean> once(Path cg) throws Exception {
        Process p = loop(cg);
        try (OutputStream in = p.getOutputStream()) {
            in.write("go\n".getBytes(StandardCharsets.UTF_8));
        }
        Map<String, Boolean> out = new LinkedHashMap<>();
        finish(p).forEach((node, c) -> {
            assertTrue(c[0] == 0 || c[1] == 0, node + " both opened and refused with no update running");
            out.put(node, c[0] > 0);
        });
        return out;
    }

    /** Closes the probe's stdin and reads its counts: node -> {opened, refused}. */
    private static Map<String, long[]> finish(Process p) throws Exception {
        p.getOutputStream().close();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "devloop: " + text);
        Map<String, long[]> out = new LinkedHashMap<>();
        for (String line : text.strip().split("\n")) {
            String[] f = line.split(" ");
            out.put(f[0], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
        }
        assertEquals(NODES, List.copyOf(out.keySet()));
        return out;
    }

    private static byte[] state(String id, Long pid, Path bundle) {
        return ("{\"ociVersion\": \"1.0.2\", \"id\": \"" + id + "\", \"status\": \"" + (pid == null ? "stopped" : "running")
                + "\", " + (pid == null ? "" : "\"pid\": " + pid + ", ") + "\"bundle\": \"" + bundle + "\"}")
                .getBytes(StandardCharsets.UTF_8);
    }
}
