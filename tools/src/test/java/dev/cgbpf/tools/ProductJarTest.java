package dev.cgbpf.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The product jar ({@code hook/target/cgbpf.jar}) holds no fuzzer, no benchmark and no test
 * fixture: they live in tools/ and in the modules' test code. It runs here because tools/ is built
 * after hook/ is packaged, so the jar exists ({@code cgbpf.productJar}, set by tools/pom.xml).
 */
class ProductJarTest {
    /** What {@code unzip -l cgbpf.jar | grep -iE 'bench|fuzz|busybox'} must not find. */
    private static final Pattern TOOL_NAMES = Pattern.compile("(?i).*(bench|fuzz|busybox).*");

    private static Path root;
    private static Set<String> entries;

    @BeforeAll
    static void readJar() throws IOException {
        Path jar = Path.of(System.getProperty("cgbpf.productJar", "../hook/target/cgbpf.jar"));
        root = Path.of(System.getProperty("cgbpf.root", "..")).toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(jar), jar + " is missing: build it first (mvn package; the reactor does it"
                + " before tools/'s tests)");
        entries = new TreeSet<>();
        try (ZipFile z = new ZipFile(jar.toFile())) {
            for (Enumeration<? extends ZipEntry> e = z.entries(); e.hasMoreElements(); ) {
                entries.add(e.nextElement().getName());
            }
        }
        // not vacuous: this is the shaded product jar, hook's command line and its backends in it
        for (String must : List.of("dev/cgbpf/hook/cli/Main.class", "dev/cgbpf/hook/oci/OciHook.class",
                "dev/cgbpf/kernel/KernelBackend.class", "dev/cgbpf/engine/verifier/Verifier.class",
                "com/sun/jna/Native.class")) {
            assertTrue(entries.contains(must), jar + " lacks " + must);
        }
    }

    @Test
    void noFuzzerBenchmarkOrFixtureByName() {
        List<String> found = entries.stream().filter(n -> TOOL_NAMES.matcher(n).matches()
                || n.startsWith("dev/cgbpf/tools/")).toList();
        assertEquals(List.of(), found, "developer tools in the product jar");
    }

    /** Nothing tools/ compiles (the fuzzer, the benchmarks, cgbpf-tools' commands) is in the product. */
    @Test
    void noClassOfTheToolsModule() throws IOException {
        Set<String> tools = classesUnder(root.resolve("tools/target/classes"));
        assertTrue(tools.contains("dev/cgbpf/tools/fuzz/Fuzz.class") && tools.contains("dev/cgbpf/tools/bench/HookBench.class"),
                "tools/target/classes is not built: " + tools);
        assertEquals(List.of(), tools.stream().filter(entries::contains).toList());
    }

    /** No test and no test fixture of any module (their test-classes) is in the product. */
    @Test
    void noTestClass() throws IOException {
        Set<String> tests = new TreeSet<>();
        for (String module : List.of("engine", "native", "hook", "tools")) {
            Set<String> classes = classesUnder(root.resolve(module).resolve("target/test-classes"));
            assertTrue(!classes.isEmpty(), module + "/target/test-classes is not built");
            tests.addAll(classes);
        }
        assertTrue(tests.contains("dev/cgbpf/hook/oci/BusyboxBundles.class"), "BusyboxBundles is not a test fixture");
        assertEquals(List.of(), tests.stream().filter(entries::contains).toList());
    }

    private static Set<String> classesUnder(Path dir) throws IOException {
        Set<String> out = new TreeSet<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(p -> p.toString().endsWith(".class")).forEach(files::add);
        }
        for (Path p : files) {
            out.add(dir.relativize(p).toString().replace('\\', '/'));
        }
        return out;
    }
}
