package dev.cgbpf.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The project's shape, checked on the compiled classes of every module (jdeps, from the JDK that
 * runs the tests): packages depend on each other without cycles, the hook reaches the kernel only
 * through {@code Backend} (no class of hook's main code uses native's raw bpf(2) wrappers), and a
 * main class longer than about 600 lines says why. Runs in tools/ because tools is built last.
 */
class ArchitectureTest {
    private static final List<String> MODULES = List.of("engine", "native", "hook", "tools");
    /** native's wrappers of single bpf(2) commands and fds: the hook goes through Backend instead. */
    private static final Set<String> RAW = Set.of("BpfSyscall", "BpfAttr", "BpfCmd", "ProgLoad", "ProgAttach",
            "ProgQuery", "ProgTestRun", "ProgGetFdById", "LinkCreate", "LinkUpdate", "LinkDetach", "ObjPin",
            "ObjGetInfoByFd", "ObjGetNextId", "MapCreate", "MapElem", "CgroupDir", "Fd");
    private static final Pattern EDGE = Pattern.compile("\\s+(\\S+)\\s+->\\s+(\\S+)\\s");
    private static Path root;
    /** class (outer name) -> the dev.cgbpf classes it uses, per module's main code. */
    private static final Map<String, Set<String>> USES = new TreeMap<>();

    @BeforeAll
    static void dependencies() throws Exception {
        root = Path.of(System.getProperty("cgbpf.root", "..")).toAbsolutePath().normalize();
        String jdeps = Path.of(System.getProperty("java.home"), "bin", "jdeps").toString();
        for (String m : MODULES) {
            Path classes = root.resolve(m).resolve("target").resolve("classes");
            assertTrue(Files.isDirectory(classes), classes + " is missing: build the reactor first");
            Process p = new ProcessBuilder(jdeps, "-verbose:class", "-filter:none", classes.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0, "jdeps failed: " + out);
            for (String line : out.split("\n")) {
                Matcher e = EDGE.matcher(line);
                if (e.lookingAt() && e.group(2).startsWith("dev.cgbpf.")) {
                    USES.computeIfAbsent(outer(e.group(1)), k -> new TreeSet<>()).add(outer(e.group(2)));
                }
            }
        }
        assertTrue(USES.size() > 200, "jdeps saw only " + USES.size() + " classes");
    }

    private static String outer(String cls) {
        int d = cls.indexOf('$');
        return d < 0 ? cls : cls.substring(0, d);
    }

    private static String pkg(String cls) {
        return cls.substring(0, cls.lastIndexOf('.'));
    }

    @Test
    void packagesHaveNoCycles() {
        Map<String, Set<String>> graph = new TreeMap<>();
        Map<String, String> example = new HashMap<>();
        USES.forEach((from, tos) -> {
            for (String to : tos) {
                if (!pkg(from).equals(pkg(to))) {
                    graph.computeIfAbsent(pkg(from), k -> new TreeSet<>()).add(pkg(to));
                    example.putIfAbsent(pkg(from) + " -> " + pkg(to), from + " -> " + to);
                }
            }
        });
        List<String> cycles = new ArrayList<>();
        for (String start : graph.keySet()) {
            // a path back to start through packages that sort after it finds each cycle once
            Deque<List<String>> todo = new ArrayDeque<>();
            todo.add(List.of(start));
            Set<String> seen = new TreeSet<>();
            while (!todo.isEmpty()) {
                List<String> path = todo.poll();
                for (String next : graph.getOrDefault(path.get(path.size() - 1), Set.of())) {
                    if (next.equals(start)) {
                        List<String> why = new ArrayList<>();
                        for (int i = 0; i < path.size(); i++) {
                            why.add(example.get(path.get(i) + " -> " + (i + 1 < path.size() ? path.get(i + 1) : start)));
                        }
                        cycles.add(String.join(" -> ", path) + " -> " + start + " " + why);
                    } else if (next.compareTo(start) > 0 && seen.add(next)) {
                        List<String> longer = new ArrayList<>(path);
                        longer.add(next);
                        todo.add(longer);
                    }
                }
            }
        }
        assertEquals(List.of(), cycles, "package cycles");
    }

    @Test
    void theHookReachesTheKernelOnlyThroughBackend() {
        List<String> raw = new ArrayList<>();
        USES.forEach((from, tos) -> {
            if (from.startsWith("dev.cgbpf.hook.")) {
                for (String to : tos) {
                    if (to.startsWith("dev.cgbpf.kernel.") && RAW.contains(to.substring(to.lastIndexOf('.') + 1))) {
                        raw.add(from + " -> " + to);
                    }
                }
            }
        });
        assertEquals(List.of(), raw, "hook classes using native's bpf(2) wrappers");
    }

    @Test
    void longMainClassesSayWhy() throws IOException {
        List<String> unexplained = new ArrayList<>();
        for (String m : MODULES) {
            try (Stream<Path> s = Files.walk(root.resolve(m).resolve("src").resolve("main").resolve("java"))) {
                for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String text = Files.readString(f);
                    long lines = text.lines().count();
                    if (lines > 650 && !text.contains("Why one long class")) {
                        unexplained.add(root.relativize(f) + " (" + lines + " lines)");
                    }
                }
            }
        }
        assertEquals(List.of(), unexplained, "main classes over ~600 lines without a stated reason");
    }
}
