package dev.cgbpf.hook.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.jit.JitMode;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.ProgGetFdById;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every example scenario (examples/scenarios/*.jsonl) on both backends, compared with its
 * expected output (*.out, recorded on the kernel). The kernel half fails under
 * CGBPF_REQUIRE_KERNEL=1 when bpf(2) is unusable, and is skipped otherwise. Also checks that the
 * corpus's fixed ports cannot collide: none in the kernel's ephemeral range, none in two files.
 */
class ExamplesTest {
    /** Surefire runs in the module directory; the examples live at the repository root. */
    static final Path EXAMPLES = Path.of("..", "examples", "scenarios");

    static List<Path> scenarios() throws IOException {
        assertTrue(Files.isDirectory(EXAMPLES), "no " + EXAMPLES.toAbsolutePath());
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            List<Path> list = files.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
            assertFalse(list.isEmpty(), "no example scenarios in " + EXAMPLES);
            return list;
        }
    }

    @TestFactory
    Stream<DynamicTest> engine() throws IOException {
        return scenarios().stream().map(s -> DynamicTest.dynamicTest(s.getFileName() + " on the engine",
                () -> check(s, EngineBackend::new)));
    }

    /**
     * The same on an engine that compiles every program to JVM bytecode at load (issue 18): the
     * compiled code must give the kernel's recorded output as the interpreter does.
     */
    @TestFactory
    Stream<DynamicTest> engineCompiled() throws IOException {
        return scenarios().stream().map(s -> DynamicTest.dynamicTest(s.getFileName() + " on the engine, compiled", () -> {
            try (EngineBackend b = new EngineBackend()) {
                b.host().setJitMode(JitMode.ON);
                check(s, b);
                if (expectedOutput(s).contains("{\"op\":\"load\",\"ok\":true}")) {
                    assertTrue(b.host().jitStats().compiled() > 0, "no program was compiled");
                }
            }
        }));
    }

    /**
     * On the kernel each scenario must also leave nothing behind: its scenario root is gone and no
     * program it loaded still exists once the backend is closed.
     */
    @TestFactory
    Stream<DynamicTest> kernel() throws IOException {
        return scenarios().stream().map(s -> DynamicTest.dynamicTest(s.getFileName() + " on the kernel", () -> {
            KernelRequired.check();
            KernelBackend b = new KernelBackend();
            Path root;
            Set<Integer> progIds;
            try (b) {
                root = b.cgroupRoot();
                check(s, b);
                progIds = b.loadedProgIds();
            }
            if (expectedOutput(s).contains("{\"op\":\"load\",\"ok\":true}")) {
                assertFalse(progIds.isEmpty(), "the backend names no program ids: the leak check would be empty");
            }
            assertFalse(Files.exists(root), s.getFileName() + " left its cgroup root " + root);
            assertEquals(Set.of(), stillLoaded(progIds), s.getFileName() + " left programs (ids)");
        }));
    }

    @Test
    void theLeakCheckSeesALiveProgram() throws Exception {
        KernelRequired.check();
        Set<Integer> ids;
        try (KernelBackend b = new KernelBackend()) {
            new ScenarioRunner(b).run(List.of(
                    "{\"op\":\"mkdir\",\"path\":\"c\"}",
                    "{\"op\":\"load\",\"name\":\"p\",\"type\":\"cgroup_device\",\"insns\":[\"r0 = 1\",\"exit\"]}",
                    "{\"op\":\"attach\",\"cgroup\":\"c\",\"prog\":\"p\",\"attach\":\"cgroup_device\"}"),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            ids = b.loadedProgIds();
            assertEquals(1, ids.size());
            // the scenario closed its fd, but the attachment holds the program until the backend detaches it
            assertEquals(ids, stillLoadedNow(ids));
        }
        assertEquals(Set.of(), stillLoaded(ids));
    }

    /**
     * The ids that still name a program. A removed cgroup drops its programs from a kernel work
     * queue, after rmdir returns, so the check waits a little for them.
     */
    static Set<Integer> stillLoaded(Set<Integer> ids) throws InterruptedException {
        Set<Integer> left = stillLoadedNow(ids);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
            left = stillLoadedNow(left);
        }
        return left;
    }

    static Set<Integer> stillLoadedNow(Set<Integer> ids) {
        Set<Integer> live = new TreeSet<>();
        for (int id : ids) {
            try (Fd fd = ProgGetFdById.progGetFdById(id)) {
                live.add(id);
            } catch (BpfException e) {
                if (!e.errno().equals("ENOENT")) {
                    live.add(id); // cannot tell: count it as still there
                }
            }
        }
        return live;
    }

    /** The ephemeral range of this host (Linux's default when the file is missing). */
    static int[] localPortRange() throws IOException {
        Path f = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        if (!Files.exists(f)) {
            return new int[] {32768, 60999};
        }
        // a stream, not Files.readString: procfs reports size 0 and readString can come back short
        String text;
        try (var in = Files.newInputStream(f)) {
            text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
        String[] lo = text.strip().split("\\s+");
        return new int[] {Integer.parseInt(lo[0]), Integer.parseInt(lo[1])};
    }

    @Test
    void fixedPortsAreOutsideTheEphemeralRangeAndEachBelongsToOneScenario() throws IOException {
        int[] range = localPortRange();
        JsonMapper json = JsonMapper.builder().build();
        Map<Integer, String> owner = new TreeMap<>();
        List<String> problems = new ArrayList<>();
        for (Path s : scenarios()) {
            String name = s.getFileName().toString();
            for (String line : Files.readAllLines(s)) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#") || t.startsWith("//")) {
                    continue;
                }
                JsonNode port = json.readTree(t).get("port");
                if (port == null || !port.canConvertToInt() || port.intValue() == 0) {
                    continue;
                }
                int p = port.intValue();
                if (p >= range[0] && p <= range[1]) {
                    problems.add(name + ": port " + p + " is in the ephemeral range " + range[0] + "-" + range[1]);
                }
                String other = owner.putIfAbsent(p, name);
                if (other != null && !other.equals(name)) {
                    problems.add(name + ": port " + p + " is used by " + other + " too");
                }
            }
        }
        assertEquals(List.of(), problems);
    }

    private static void check(Path scenario, Supplier<Backend> backend) throws IOException {
        try (Backend b = backend.get()) {
            check(scenario, b);
        }
    }

    private static String expectedOutput(Path scenario) throws IOException {
        String name = scenario.getFileName().toString();
        Path expectedFile = scenario.resolveSibling(name.substring(0, name.length() - ".jsonl".length()) + ".out");
        assertTrue(Files.exists(expectedFile), "no expected output " + expectedFile);
        return Files.readString(expectedFile);
    }

    private static void check(Path scenario, Backend b) throws IOException {
        String name = scenario.getFileName().toString();
        String expected = expectedOutput(scenario);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit = new ScenarioRunner(b).run(Files.readAllLines(scenario), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertEquals(expected, bytes.toString(StandardCharsets.UTF_8), name);
        assertEquals(ScenarioRunner.EXIT_OK, exit, name);
    }
}
