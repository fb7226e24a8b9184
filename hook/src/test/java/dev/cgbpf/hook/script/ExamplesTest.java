package dev.cgbpf.hook.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.kernel.KernelRequired;
import dev.cgbpf.kernel.KernelBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every example scenario (examples/scenarios/*.jsonl) on both backends, compared with its
 * expected output (*.out, recorded on the kernel). The kernel half fails under
 * CGBPF_REQUIRE_KERNEL=1 when bpf(2) is unusable, and is skipped otherwise.
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

    @TestFactory
    Stream<DynamicTest> kernel() throws IOException {
        return scenarios().stream().map(s -> DynamicTest.dynamicTest(s.getFileName() + " on the kernel", () -> {
            KernelRequired.check();
            check(s, KernelBackend::new);
        }));
    }

    private static void check(Path scenario, Supplier<Backend> backend) throws IOException {
        String name = scenario.getFileName().toString();
        Path expectedFile = scenario.resolveSibling(name.substring(0, name.length() - ".jsonl".length()) + ".out");
        assertTrue(Files.exists(expectedFile), "no expected output " + expectedFile);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit;
        try (Backend b = backend.get()) {
            exit = new ScenarioRunner(b).run(Files.readAllLines(scenario), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        }
        assertEquals(Files.readString(expectedFile), bytes.toString(StandardCharsets.UTF_8), name);
        assertEquals(ScenarioRunner.EXIT_OK, exit, name);
    }
}
