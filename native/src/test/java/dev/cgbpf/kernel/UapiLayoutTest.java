package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@link UapiField} constant of this module against the C compiler's idea of the same
 * member: once against the system header {@code <linux/bpf.h>} (the uapi the distribution ships,
 * may be older than the kernel) and once against the running kernel's own types from its BTF.
 * A field the header does not have yet (e.g. log_true_size in 6.1 headers) must then be checked by
 * the BTF half.
 */
class UapiLayoutTest {
    private static final Pattern NO_MEMBER = Pattern.compile("has no member named ['\u2018]([A-Za-z0-9_]+)['\u2019]");

    /** Members this module uses that Linux 6.1's uapi header does not have yet; the BTF half checks them. */
    private static final Set<String> NEWER_THAN_6_1_HEADERS = Set.of("log_true_size");

    @TempDir
    Path dir;

    /** All public static UapiField constants of the main classes of this package. */
    static List<UapiField> declaredFields() throws IOException, URISyntaxException, ClassNotFoundException {
        Path classes = Path.of(UapiField.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/cgbpf/kernel");
        List<UapiField> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(classes)) {
            for (Path f : files.sorted().collect(Collectors.toList())) {
                String n = f.getFileName().toString();
                if (!n.endsWith(".class")) {
                    continue;
                }
                Class<?> c = Class.forName("dev.cgbpf.kernel." + n.substring(0, n.length() - 6));
                for (Field fld : c.getDeclaredFields()) {
                    if (fld.getType() == UapiField.class && Modifier.isStatic(fld.getModifiers())) {
                        fld.setAccessible(true);
                        try {
                            out.add((UapiField) fld.get(null));
                        } catch (IllegalAccessException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                }
            }
        }
        return out;
    }

    private static boolean haveGcc() {
        return Stream.of("/usr/bin/gcc", "/usr/local/bin/gcc").anyMatch(p -> Files.isExecutable(Path.of(p)));
    }

    /** Compiles and runs a program printing "type|member=offset size" per field; returns the map. */
    private Map<String, String> measure(String prelude, List<UapiField> fields, Set<String> missing)
            throws IOException, InterruptedException {
        List<UapiField> todo = new ArrayList<>(fields);
        for (int attempt = 0; attempt < 10; attempt++) {
            StringBuilder c = new StringBuilder(prelude).append("int main(void) {\n");
            for (UapiField f : todo) {
                c.append(String.format("  printf(\"%s|%s=%%zu %%zu\\n\", offsetof(%s, %s), sizeof(((%s *)0)->%s));%n",
                        f.type(), f.member(), f.type(), f.member(), f.type(), f.member()));
            }
            c.append("  return 0;\n}\n");
            Path src = dir.resolve("layout.c");
            Path exe = dir.resolve("layout");
            Files.writeString(src, c.toString());
            Run compile = run(List.of("gcc", "-w", "-o", exe.toString(), src.toString()));
            if (compile.status == 0) {
                Run r = run(List.of(exe.toString()));
                assertEquals(0, r.status, r.output);
                Map<String, String> m = new LinkedHashMap<>();
                for (String line : r.output.split("\n")) {
                    int eq = line.indexOf('=');
                    m.put(line.substring(0, eq), line.substring(eq + 1));
                }
                return m;
            }
            Matcher mm = NO_MEMBER.matcher(compile.output);
            Set<String> absent = new TreeSet<>();
            while (mm.find()) {
                absent.add(mm.group(1));
            }
            if (absent.isEmpty()) {
                fail("gcc failed:\n" + compile.output);
            }
            missing.addAll(absent);
            todo.removeIf(f -> absent.contains(lastName(f.member())));
        }
        throw new AssertionError("too many compile attempts");
    }

    private static String lastName(String member) {
        return member.substring(member.lastIndexOf('.') + 1);
    }

    private static void compare(List<UapiField> fields, Map<String, String> measured, Set<String> missing) {
        List<String> wrong = new ArrayList<>();
        for (UapiField f : fields) {
            String got = measured.get(f.type() + "|" + f.member());
            if (got == null) {
                assertTrue(missing.contains(lastName(f.member())), f + " not measured");
                continue;
            }
            String want = f.offset() + " " + f.size();
            if (!got.equals(want)) {
                wrong.add(f.type() + " " + f.member() + ": C says offset/size " + got + ", Java " + want);
            }
        }
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    @Test
    void matchesTheSystemUapiHeader() throws Exception {
        Assumptions.assumeTrue(haveGcc(), "gcc is not installed");
        List<UapiField> fields = declaredFields();
        assertTrue(fields.size() > 30, "found only " + fields.size() + " fields");
        Set<String> missing = new TreeSet<>();
        Map<String, String> measured = measure("#include <stdio.h>\n#include <stddef.h>\n#include <linux/bpf.h>\n",
                fields, missing);
        compare(fields, measured, missing);
        // only fields known to be newer than the oldest supported header (Linux 6.1 uapi) may be absent
        assertTrue(NEWER_THAN_6_1_HEADERS.containsAll(missing), "the header lacks " + missing);
    }

    @Test
    void matchesTheRunningKernelsBtf() throws Exception {
        Assumptions.assumeTrue(haveGcc(), "gcc is not installed");
        Path btf = Path.of("/sys/kernel/btf/vmlinux");
        Path bpftool = Stream.of("/usr/sbin/bpftool", "/usr/bin/bpftool", "/usr/local/sbin/bpftool")
                .map(Path::of).filter(Files::isExecutable).findFirst().orElse(null);
        Assumptions.assumeTrue(Files.isReadable(btf) && bpftool != null, "no kernel BTF or no bpftool");
        Path vmlinuxH = dir.resolve("vmlinux.h");
        Run dump = run(List.of(bpftool.toString(), "btf", "dump", "file", btf.toString(), "format", "c"));
        assertEquals(0, dump.status, "bpftool failed");
        Files.writeString(vmlinuxH, dump.output);
        List<UapiField> fields = declaredFields();
        Set<String> missing = new TreeSet<>();
        // vmlinux.h defines the kernel's own types and clashes with libc headers: declare the two we need
        Map<String, String> measured = measure("#include \"" + vmlinuxH + "\"\n"
                + "int printf(const char *, ...);\n#define offsetof(t, m) __builtin_offsetof(t, m)\n", fields, missing);
        assertTrue(missing.isEmpty(), "the running kernel lacks " + missing);
        compare(fields, measured, missing);
    }

    private record Run(int status, String output) {
    }

    private static Run run(List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("LC_ALL", "C"); // plain ASCII quotes in gcc's messages
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timeout: " + cmd);
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
