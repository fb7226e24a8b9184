package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The {@code cgbpf doctor} report on this host, as text and as JSON. */
class HostReportTest {

    @Test
    void jsonStringsAreEscaped() {
        assertEquals("\"a\\\"b\\\\c\\n\\t\\u0001\\u2028é\"", Json.string("a\"b\\c\n\t\u0001\u2028é"));
        assertEquals("\"\"", Json.string(""));
    }

    @Test
    void thisHostSupportsEveryCgroupAttachType() throws Exception {
        KernelRequired.check();
        HostReport r = HostReport.collect();
        assertEquals(ProcFile.read(Path.of("/proc/sys/kernel/osrelease")).strip(), r.kernel());
        assertTrue(r.bpf().usable());
        CgroupV2Mount m = CgroupV2Mount.discover().orElseThrow();
        assertEquals(m.mountPoint(), r.cgroup2Mount());
        assertEquals(m.mode(), r.cgroupMode());
        assertEquals(AttachType.values().length, r.attachTypes().size());
        for (HostReport.AttachSupport a : r.attachTypes()) {
            assertEquals(a.type() != AttachType.LIRC_MODE2, a.supported(), a.toString());
        }
        // the scratch cgroup is gone again
        try (Stream<Path> s = Files.list(m.mountPoint())) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith("cgbpf-doctor-")));
        }
        String text = r.renderText();
        assertTrue(text.contains("cgroup mode   " + r.cgroupMode().label() + " (cgroup2 at " + m.mountPoint() + ")"), text);
        assertTrue(text.contains("  cgroup_device              supported"), text);
        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) new MiniJson(r.renderJson()).value();
        assertEquals(List.of("kernel", "bpf", "cgroup", "bpffs", "jit", "attach_types"), List.copyOf(json.keySet()));
        assertEquals(r.kernel(), json.get("kernel"));
        assertEquals(Map.of("usable", true), withoutNulls(json.get("bpf")));
        @SuppressWarnings("unchecked")
        List<Object> types = (List<Object>) json.get("attach_types");
        assertEquals(AttachType.values().length, types.size());
        assertEquals(Map.of("name", "cgroup_device", "supported", true, "detail", "attached and detached"),
                types.get(List.of(AttachType.values()).indexOf(AttachType.CGROUP_DEVICE)));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> withoutNulls(Object o) {
        Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) o);
        m.values().removeIf(v -> v == null);
        return m;
    }

    /** A strict JSON reader for the test (RFC 8259 values); fails on anything malformed. */
    static final class MiniJson {
        private final String s;
        private int i;

        MiniJson(String s) {
            this.s = s;
        }

        Object value() {
            Object v = read();
            ws();
            if (i != s.length()) {
                throw new AssertionError("trailing text at " + i + ": " + s);
            }
            return v;
        }

        private void ws() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
        }

        private void expect(char c) {
            ws();
            if (i >= s.length() || s.charAt(i) != c) {
                throw new AssertionError("expected '" + c + "' at " + i + ": " + s);
            }
            i++;
        }

        private Object read() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                ws();
                if (s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                do {
                    ws();
                    String k = str();
                    expect(':');
                    m.put(k, read());
                    ws();
                } while (s.charAt(i++) == ',');
                if (s.charAt(i - 1) != '}') {
                    throw new AssertionError("bad object at " + i);
                }
                return m;
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                ws();
                if (s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                do {
                    l.add(read());
                    ws();
                } while (s.charAt(i++) == ',');
                if (s.charAt(i - 1) != ']') {
                    throw new AssertionError("bad array at " + i);
                }
                return l;
            }
            if (c == '"') {
                return str();
            }
            for (String lit : new String[] {"true", "false", "null"}) {
                if (s.startsWith(lit, i)) {
                    i += lit.length();
                    return lit.equals("null") ? null : Boolean.valueOf(lit);
                }
            }
            int start = i;
            while (i < s.length() && "-+.eE0123456789".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            if (start == i) {
                throw new AssertionError("unexpected '" + c + "' at " + i);
            }
            return Double.valueOf(s.substring(start, i));
        }

        private String str() {
            if (s.charAt(i) != '"') {
                throw new AssertionError("expected a string at " + i);
            }
            StringBuilder b = new StringBuilder();
            i++;
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    throw new AssertionError("raw control character in a string at " + i);
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case '"', '\\', '/' -> b.append(e);
                        case 'n' -> b.append('\n');
                        case 't' -> b.append('\t');
                        case 'r' -> b.append('\r');
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'u' -> {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> throw new AssertionError("bad escape \\" + e);
                    }
                } else {
                    b.append(c);
                }
            }
        }
    }
}
