package dev.cgbpf.hook.script;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.backend.TestRun;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The runner's contract (docs/SCENARIOS.md) on the engine: results, line errors, exit status. */
class ScenarioRunnerTest {
    static final String PKT = "ffffffffffff0200000000010800450000200001000040117cc87f0000017f000001d4310035000c0000deadbeef";
    static final String LOAD_42 = "{\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\",\"insns\":[\"r0 = 42\",\"exit\"]}";

    record Outcome(int exit, List<String> lines) {
    }

    static Outcome run(Backend backend, String... lines) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int exit = new ScenarioRunner(backend).run(List.of(lines), out);
        return new Outcome(exit, bytes.toString(StandardCharsets.UTF_8).lines().toList());
    }

    static Outcome run(String... lines) {
        try (Backend engine = new EngineBackend()) {
            return run(engine, lines);
        }
    }

    @Test
    void resultsInOrderWithKeysInTheFormatsOrder() {
        Outcome o = run(
                "# comment",
                "",
                "// another comment",
                "{\"op\":\"map\",\"name\":\"m\",\"type\":\"array\",\"key_size\":4,\"value_size\":4,\"max_entries\":2}",
                "{\"op\":\"update\",\"map\":\"m\",\"key\":\"01000000\",\"value\":\"0A0b0C0d\"}",
                "{\"key\":\"01000000\",\"map\":\"m\",\"op\":\"lookup\"}",
                "{\"op\":\"lookup\",\"map\":\"m\",\"key\":\"05000000\"}",
                LOAD_42,
                "{\"op\":\"run\",\"prog\":\"p\",\"ctx\":{\"data\":\"" + PKT + "\"}}");
        assertEquals(List.of(
                "{\"op\":\"map\",\"ok\":true}",
                "{\"op\":\"update\",\"ok\":true}",
                "{\"op\":\"lookup\",\"ok\":true,\"value\":\"0a0b0c0d\"}",
                "{\"op\":\"lookup\",\"errno\":\"ENOENT\"}",
                "{\"op\":\"load\",\"ok\":true}",
                "{\"op\":\"run\",\"ok\":true,\"retval\":42}"), o.lines());
        assertEquals(ScenarioRunner.EXIT_OK, o.exit(), "an errno is a result, not a malformed line");
    }

    /** update's flags (BPF_NOEXIST 1, BPF_EXIST 2, others EINVAL) and delete, as the hash map answers them. */
    @Test
    void updateFlagsAndDelete() {
        String key = "\"key\":\"01000000\"";
        Outcome o = run(
                "{\"op\":\"map\",\"name\":\"h\",\"type\":\"hash\",\"key_size\":4,\"value_size\":4,\"max_entries\":2}",
                "{\"op\":\"update\",\"map\":\"h\"," + key + ",\"value\":\"01000000\",\"flags\":2}",
                "{\"op\":\"update\",\"map\":\"h\"," + key + ",\"value\":\"01000000\",\"flags\":1}",
                "{\"op\":\"update\",\"map\":\"h\"," + key + ",\"value\":\"02000000\",\"flags\":1}",
                "{\"op\":\"update\",\"map\":\"h\"," + key + ",\"value\":\"03000000\",\"flags\":3}",
                "{\"op\":\"lookup\",\"map\":\"h\"," + key + "}",
                "{\"op\":\"delete\",\"map\":\"h\"," + key + "}",
                "{\"op\":\"delete\",\"map\":\"h\"," + key + "}",
                "{\"op\":\"lookup\",\"map\":\"h\"," + key + "}");
        assertEquals(List.of("{\"op\":\"map\",\"ok\":true}", "{\"op\":\"update\",\"errno\":\"ENOENT\"}",
                "{\"op\":\"update\",\"ok\":true}", "{\"op\":\"update\",\"errno\":\"EEXIST\"}",
                "{\"op\":\"update\",\"errno\":\"EINVAL\"}", "{\"op\":\"lookup\",\"ok\":true,\"value\":\"01000000\"}",
                "{\"op\":\"delete\",\"ok\":true}", "{\"op\":\"delete\",\"errno\":\"ENOENT\"}",
                "{\"op\":\"lookup\",\"errno\":\"ENOENT\"}"), o.lines());
    }

    @Test
    void blankAndCommentLinesCountForLineNumbers() {
        Outcome o = run("", "  # indented comment", "// c", "{\"op\":\"nope\"}");
        assertEquals(List.of("{\"line\":4,\"error\":\"unknown op 'nope'\"}"), o.lines());
        assertEquals(ScenarioRunner.EXIT_MALFORMED, o.exit());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "not json                 | {op:               | invalid JSON: ",
            "not an object            | [1,2]              | a scenario line must be a JSON object",
            "trailing garbage         | {\"op\":\"mkdir\",\"path\":\"a\"} x | invalid JSON: ",
            "duplicate key            | {\"op\":\"mkdir\",\"op\":\"rmdir\",\"path\":\"a\"} | invalid JSON: Duplicate field 'op'",
            "no op                    | {\"path\":\"a\"}     | missing field 'op'",
            "op not a string          | {\"op\":5}           | field 'op' must be a string",
            "unknown op               | {\"op\":\"frobnicate\"} | unknown op 'frobnicate'",
            "unknown field            | {\"op\":\"mkdir\",\"path\":\"a\",\"mode\":1} | op 'mkdir' has no field 'mode'",
            "missing field            | {\"op\":\"attach\",\"cgroup\":\"a\",\"prog\":\"p\"} | op 'attach' needs field 'attach'",
            "absolute path            | {\"op\":\"mkdir\",\"path\":\"/sys\"} | path '/sys' is absolute; paths are relative to the scenario root",
            "dot-dot path             | {\"op\":\"mkdir\",\"path\":\"a/../../b\"} | path 'a/../../b' uses '..'; it may not leave the scenario root",
            "non-loopback address     | {\"op\":\"listen\",\"addr\":\"10.0.0.1\",\"port\":80,\"proto\":\"tcp\"} | address 10.0.0.1 is not a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)",
            "host name                | {\"op\":\"listen\",\"addr\":\"localhost\",\"port\":80,\"proto\":\"tcp\"} | 'localhost' is not an IPv4 or IPv6 address literal",
            "negative size            | {\"op\":\"map\",\"name\":\"m\",\"type\":\"array\",\"key_size\":-4,\"value_size\":4,\"max_entries\":1} | field 'key_size' must be an integer from 0 to 2147483647",
            "fractional size          | {\"op\":\"map\",\"name\":\"m\",\"type\":\"array\",\"key_size\":4.5,\"value_size\":4,\"max_entries\":1} | field 'key_size' must be an integer from 0 to 2147483647",
            "empty name               | {\"op\":\"map\",\"name\":\"\",\"type\":\"array\",\"key_size\":4,\"value_size\":4,\"max_entries\":1} | field 'name' must not be empty",
            "unknown map type         | {\"op\":\"map\",\"name\":\"m\",\"type\":\"tree\",\"key_size\":4,\"value_size\":4,\"max_entries\":1} | unknown map type 'tree'",
            "unknown prog type        | {\"op\":\"load\",\"name\":\"p\",\"type\":\"xdp\",\"insns\":[\"exit\"]} | unknown program type 'xdp'",
            "unknown attach type      | {\"op\":\"load\",\"name\":\"p\",\"type\":\"cgroup_sock\",\"expected_attach\":\"nope\",\"insns\":[\"exit\"]} | unknown attach type 'nope'",
            "insns and hex            | {\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\",\"insns\":[\"exit\"],\"hex\":\"9500000000000000\"} | load needs exactly one of 'insns' (assembly) and 'hex' (raw bytes)",
            "neither insns nor hex    | {\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\"} | load needs exactly one of 'insns' (assembly) and 'hex' (raw bytes)",
            "insns not strings        | {\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\",\"insns\":[1]} | field 'insns' must be an array of strings",
            "bad hex digits           | {\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\",\"hex\":\"95zz\"} | field 'hex' is not hex bytes: '95zz'",
            "odd hex                  | {\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\",\"hex\":\"950\"} | field 'hex' is not hex bytes: '950'",
            "hex not whole slots      | {\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\",\"hex\":\"9500000000\"} | hex must be a multiple of 8 bytes (one instruction slot); got 5",
            "unknown prog             | {\"op\":\"run\",\"prog\":\"ghost\",\"ctx\":{\"data\":\"00\"}} | no prog named 'ghost' was loaded before this line",
            "unknown map              | {\"op\":\"lookup\",\"map\":\"ghost\",\"key\":\"00\"} | no map named 'ghost' was created before this line",
            "unknown perf event       | {\"op\":\"perf_read\",\"perf_events\":[\"ghost\"]} | no perf event named 'ghost' was opened before this line",
            "pin on another CPU       | {\"op\":\"pin\",\"cpu\":1} | the engine runs on CPU 0 only: pin takes cpu 0",
    })
    void malformedLines(String what, String line, String error) {
        Outcome o = run(line.strip());
        assertEquals(1, o.lines().size(), o.lines().toString());
        String out = o.lines().get(0);
        assertTrue(out.startsWith("{\"line\":1,\"error\":\"" + error.strip().replace("\"", "\\\"")), what + ": " + out);
        assertTrue(out.endsWith("\"}"), out);
        assertEquals(ScenarioRunner.EXIT_MALFORMED, o.exit(), what);
    }

    @Test
    void assemblyErrorsNameTheInsnLineAndColumn() {
        Outcome o = run("{\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\",\"insns\":[\"r0 = 1\",\"r0 +== 2\",\"exit\"]}");
        assertTrue(o.lines().get(0).startsWith("{\"line\":1,\"error\":\"insns line 2 col "), o.lines().get(0));
    }

    @Test
    void mapNamesInAssemblyMustBeDeclaredEarlier() {
        Outcome o = run("{\"op\":\"load\",\"name\":\"p\",\"type\":\"socket_filter\",\"insns\":[\"r1 = map[later]\",\"r0 = 0\",\"exit\"]}",
                "{\"op\":\"map\",\"name\":\"later\",\"type\":\"array\",\"key_size\":4,\"value_size\":4,\"max_entries\":1}");
        assertTrue(o.lines().get(0).startsWith("{\"line\":1,\"error\":\"insns line 1 col "), o.lines().get(0));
        assertEquals("{\"op\":\"map\",\"ok\":true}", o.lines().get(1));
    }

    @Test
    void duplicateNamesAreMalformedButProgsAndMapsHaveSeparateNames() {
        Outcome o = run(LOAD_42, LOAD_42,
                "{\"op\":\"map\",\"name\":\"p\",\"type\":\"hash\",\"key_size\":4,\"value_size\":4,\"max_entries\":1}",
                "{\"op\":\"map\",\"name\":\"p\",\"type\":\"hash\",\"key_size\":4,\"value_size\":4,\"max_entries\":1}");
        assertEquals(List.of(
                "{\"op\":\"load\",\"ok\":true}",
                "{\"line\":2,\"error\":\"a prog named 'p' already exists\"}",
                "{\"op\":\"map\",\"ok\":true}",
                "{\"line\":4,\"error\":\"a map named 'p' already exists\"}"), o.lines());
    }

    @Test
    void perfEventNamesAreTheirOwnAndAnUpdateTakesOneValueKind() {
        Outcome o = run("{\"op\":\"map\",\"name\":\"e\",\"type\":\"perf_event_array\",\"key_size\":4,\"value_size\":4,\"max_entries\":1}",
                "{\"op\":\"perf_event\",\"name\":\"e\",\"cpu\":0}",
                "{\"op\":\"perf_event\",\"name\":\"e\",\"cpu\":0}",
                "{\"op\":\"update\",\"map\":\"e\",\"key\":\"00000000\",\"perf_event\":\"e\",\"value\":\"00000000\"}",
                "{\"op\":\"update\",\"map\":\"e\",\"key\":\"00000000\",\"perf_event\":\"e\"}",
                "{\"op\":\"perf_read\",\"perf_events\":[\"e\"]}");
        assertEquals(List.of(
                "{\"op\":\"map\",\"ok\":true}",
                "{\"op\":\"perf_event\",\"ok\":true}",
                "{\"line\":3,\"error\":\"a perf event named 'e' already exists\"}",
                "{\"line\":4,\"error\":\"update needs exactly one of value, prog, cgroup, listener and perf_event\"}",
                "{\"op\":\"update\",\"ok\":true}",
                "{\"op\":\"perf_read\",\"ok\":true,\"records\":[]}"), o.lines());
    }

    @Test
    void aFailedCreateLeavesTheNameFree() {
        Outcome o = run(
                "{\"op\":\"map\",\"name\":\"m\",\"type\":\"array\",\"key_size\":8,\"value_size\":4,\"max_entries\":1}",
                "{\"op\":\"map\",\"name\":\"m\",\"type\":\"array\",\"key_size\":4,\"value_size\":4,\"max_entries\":1}",
                "{\"op\":\"lookup\",\"map\":\"m\",\"key\":\"00000000\"}");
        assertEquals(List.of(
                "{\"op\":\"map\",\"errno\":\"EINVAL\"}",
                "{\"op\":\"map\",\"ok\":true}",
                "{\"op\":\"lookup\",\"ok\":true,\"value\":\"00000000\"}"), o.lines());
        assertEquals(ScenarioRunner.EXIT_OK, o.exit());
    }

    @Test
    void keysAndValuesMustHaveTheMapsSizes() {
        Outcome o = run(
                "{\"op\":\"map\",\"name\":\"m\",\"type\":\"hash\",\"key_size\":4,\"value_size\":2,\"max_entries\":1}",
                "{\"op\":\"update\",\"map\":\"m\",\"key\":\"0000\",\"value\":\"0000\"}",
                "{\"op\":\"update\",\"map\":\"m\",\"key\":\"00000000\",\"value\":\"000000\"}",
                "{\"op\":\"lookup\",\"map\":\"m\",\"key\":\"0000000000\"}");
        assertEquals(List.of(
                "{\"op\":\"map\",\"ok\":true}",
                "{\"line\":2,\"error\":\"key is 2 bytes; map 'm' has key_size 4\"}",
                "{\"line\":3,\"error\":\"value is 3 bytes; map 'm' has value_size 2\"}",
                "{\"line\":4,\"error\":\"key is 5 bytes; map 'm' has key_size 4\"}"), o.lines());
    }

    @Test
    void anUpdateTakesExactlyOneOfValueProgCgroupListenerAndPerfEvent() {
        Outcome o = run(
                "{\"op\":\"map\",\"name\":\"jmp\",\"type\":\"prog_array\",\"key_size\":4,\"value_size\":4,\"max_entries\":2}",
                "{\"op\":\"update\",\"map\":\"jmp\",\"key\":\"00000000\"}",
                "{\"op\":\"update\",\"map\":\"jmp\",\"key\":\"00000000\",\"value\":\"03000000\",\"prog\":\"p\"}",
                "{\"op\":\"update\",\"map\":\"jmp\",\"key\":\"00000000\",\"prog\":\"p\",\"cgroup\":\"a\"}",
                "{\"op\":\"update\",\"map\":\"jmp\",\"key\":\"00000000\",\"prog\":\"p\"}",
                "{\"op\":\"update\",\"map\":\"jmp\",\"key\":\"00000000\",\"prog\":\"p\",\"listener\":\"127.0.0.1\"}",
                "{\"op\":\"update\",\"map\":\"jmp\",\"key\":\"00000000\",\"listener\":\"127.0.0.1\",\"port\":62704,"
                        + "\"proto\":\"tcp\"}",
                "{\"op\":\"map\",\"name\":\"sm\",\"type\":\"sockmap\",\"key_size\":4,\"value_size\":4,\"max_entries\":2}",
                "{\"op\":\"update\",\"map\":\"sm\",\"key\":\"00000000\",\"listener\":\"127.0.0.1\",\"proto\":\"tcp\"}",
                "{\"op\":\"update\",\"map\":\"sm\",\"key\":\"00000000\",\"value\":\"03000000\",\"port\":62704}",
                "{\"op\":\"update\",\"map\":\"sm\",\"key\":\"00000000\",\"listener\":\"127.0.0.1\",\"port\":62704,"
                        + "\"proto\":\"tcp\"}",
                "{\"op\":\"map\",\"name\":\"pe\",\"type\":\"perf_event_array\",\"key_size\":4,\"value_size\":4,"
                        + "\"max_entries\":1}",
                "{\"op\":\"update\",\"map\":\"pe\",\"key\":\"00000000\",\"perf_event\":\"e\",\"port\":62704}");
        String one = "update needs exactly one of value, prog, cgroup, listener and perf_event";
        assertEquals(List.of(
                "{\"op\":\"map\",\"ok\":true}",
                "{\"line\":2,\"error\":\"" + one + "\"}",
                "{\"line\":3,\"error\":\"" + one + "\"}",
                "{\"line\":4,\"error\":\"" + one + "\"}",
                "{\"line\":5,\"error\":\"no prog named 'p' was loaded before this line\"}",
                "{\"line\":6,\"error\":\"" + one + "\"}",
                "{\"line\":7,\"error\":\"listener is the value of a sockmap or sockhash, not of a prog_array\"}",
                "{\"op\":\"map\",\"ok\":true}",
                "{\"line\":9,\"error\":\"listener needs its port and proto\"}",
                "{\"line\":10,\"error\":\"port and proto go with listener\"}",
                "{\"line\":11,\"error\":\"no listen of 127.0.0.1 port 62704 tcp before this line\"}",
                "{\"op\":\"map\",\"ok\":true}",
                "{\"line\":13,\"error\":\"port and proto go with listener\"}"), o.lines());
    }

    @Test
    void runTakesThePacketOnlyForPacketTypes() {
        Outcome o = run(LOAD_42,
                "{\"op\":\"run\",\"prog\":\"p\",\"ctx\":{}}",
                "{\"op\":\"run\",\"prog\":\"p\",\"ctx\":{\"data\":\"" + PKT + "\",\"mark\":1}}",
                "{\"op\":\"run\",\"prog\":\"p\",\"ctx\":{\"data\":\"abc\"}}",
                "{\"op\":\"load\",\"name\":\"dev\",\"type\":\"cgroup_device\",\"insns\":[\"r0 = 1\",\"exit\"]}",
                "{\"op\":\"run\",\"prog\":\"dev\",\"ctx\":{\"major\":1}}",
                // the kernel has no test run for device programs: the answer is its errno
                "{\"op\":\"run\",\"prog\":\"dev\",\"ctx\":{}}");
        assertEquals(List.of(
                "{\"op\":\"load\",\"ok\":true}",
                "{\"line\":2,\"error\":\"the ctx of a socket_filter run needs 'data' (packet bytes as hex)\"}",
                "{\"line\":3,\"error\":\"the ctx of a socket_filter run has no field 'mark' (only 'data')\"}",
                "{\"line\":4,\"error\":\"field 'ctx.data' is not hex bytes: 'abc'\"}",
                "{\"op\":\"load\",\"ok\":true}",
                "{\"line\":6,\"error\":\"the ctx of a cgroup_device run must be {} (BPF_PROG_TEST_RUN takes no context for it)\"}",
                "{\"op\":\"run\",\"errno\":\"ENOTSUPP\"}"),
                o.lines());
    }

    @Test
    void loopbackAddressesPassTheCheck() throws MalformedLineException {
        assertEquals("127.0.0.1", LoopbackAddress.parse("127.0.0.1").toString());
        assertEquals("127.255.3.4", LoopbackAddress.parse("127.255.3.4").toString());
        assertEquals("::1", LoopbackAddress.parse("::1").toString());
        assertEquals("::1", LoopbackAddress.parse("0:0:0:0:0:0:0:1").toString());
        assertEquals("::ffff:127.0.0.2", LoopbackAddress.parse("::FFFF:7f00:2").toString());
        assertEquals("::", LoopbackAddress.parseBindable("::").toString());
        assertEquals("0.0.0.0", LoopbackAddress.parseBindable("0.0.0.0").toString());
        for (String bad : List.of("128.0.0.1", "127.0.0.256", "::2", "::ffff:128.0.0.1", "0.0.0.0", "::", "127.1",
                "::127.0.0.1", "[::1]", "::1%lo", "1.2.3.4.5")) {
            try {
                LoopbackAddress.parse(bad);
                throw new AssertionError(bad + " accepted");
            } catch (MalformedLineException expected) {
                // refused, as it must be
            }
        }
    }

    @Test
    void pathsStayInsideTheRoot() throws MalformedLineException {
        assertTrue(ScenarioPath.parse("").isRoot());
        assertTrue(ScenarioPath.parse(".").isRoot());
        assertEquals(List.of("a", "b"), ScenarioPath.parse("a//./b/").components());
    }

    /** Counts what the scenario opened and closed, around the real engine. */
    static final class CountingBackend implements ScenarioOnlyBackend {
        final EngineBackend engine = new EngineBackend();
        final AtomicInteger open = new AtomicInteger();

        @Override
        public String name() {
            return "engine";
        }

        @Override
        public LoadedProg load(LoadRequest request) throws BpfException {
            LoadedProg p = engine.load(request);
            open.incrementAndGet();
            return new LoadedProg() {
                @Override
                public String name() {
                    return p.name();
                }

                @Override
                public dev.cgbpf.engine.backend.ProgType type() {
                    return p.type();
                }

                @Override
                public String verifierLog() {
                    return p.verifierLog();
                }

                @Override
                public void close() {
                    open.decrementAndGet();
                    p.close();
                }
            };
        }

        @Override
        public TestRun.Result testRun(LoadedProg prog, TestRun.Request request) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public BpfMap createMap(MapSpec spec) throws BpfException {
            BpfMap m = engine.createMap(spec);
            open.incrementAndGet();
            return new BpfMap() {
                @Override
                public MapSpec spec() {
                    return m.spec();
                }

                @Override
                public int fd() {
                    return m.fd();
                }

                @Override
                public void close() {
                    open.decrementAndGet();
                    m.close();
                }
            };
        }

        @Override
        public void update(BpfMap map, byte[] key, byte[] value, long flags) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void updateProg(BpfMap map, byte[] key, LoadedProg prog) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void updateCgroup(BpfMap map, byte[] key, String cgroup) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void updateListener(BpfMap map, byte[] key, java.net.InetAddress addr, int port,
                                   dev.cgbpf.engine.backend.Probe.Proto proto) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public byte[] lookup(BpfMap map, byte[] key) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void delete(BpfMap map, byte[] key) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public byte[] nextKey(BpfMap map, byte[] key) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void freeze(BpfMap map) {
            throw new UnsupportedOperationException("not needed here");
        }

        /** A pin counts as open until its handle is closed. */
        @Override
        public AutoCloseable pinThread(int cpu) {
            open.incrementAndGet();
            return open::decrementAndGet;
        }

        @Override
        public void mkdir(String path) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void rmdir(String path) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void attach(String cgroup, LoadedProg prog, AttachType type, Set<AttachFlag> flags, LoadedProg replace) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void detach(String cgroup, AttachType type, LoadedProg prog) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public QueryResult query(String cgroup, AttachType type, boolean effective, int max) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public byte[] storage(String cgroup, AttachType type, BpfMap map) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public boolean device(String cgroup, Probe.DeviceAccess access) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public Probe.SocketInfo socket(String cgroup, Probe.Family family, Probe.SockType type, int protocol) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void listen(InetAddress addr, int port, Probe.Proto proto) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public Probe.Bound bind(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public Probe.Connected connect(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr,
                                       int port) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public Probe.Delivered sendmsg(String cgroup, Probe.Family family, InetAddress addr, int port,
                                       InetAddress src) {
            throw new UnsupportedOperationException("not needed here");
        }

        @Override
        public void close() {
            engine.close();
        }
    }

    @Test
    void everythingIsClosedAtTheEndAlsoAfterErrors() {
        try (CountingBackend b = new CountingBackend()) {
            Outcome o = run(b,
                    "{\"op\":\"map\",\"name\":\"m\",\"type\":\"array\",\"key_size\":4,\"value_size\":4,\"max_entries\":1}",
                    LOAD_42,
                    "{\"op\":\"load\",\"name\":\"q\",\"type\":\"socket_filter\",\"insns\":[\"r1 = map[m]\",\"r0 = 0\",\"exit\"]}",
                    "{\"op\":\"pin\",\"cpu\":0}",
                    "{\"op\":\"pin\",\"cpu\":0}",
                    "garbage",
                    // the backend fails this one with an unchecked exception: reported on its line
                    "{\"op\":\"lookup\",\"map\":\"m\",\"key\":\"00000000\"}");
            assertEquals(ScenarioRunner.EXIT_MALFORMED, o.exit());
            assertEquals("{\"line\":7,\"error\":\"engine: not needed here\"}", o.lines().get(6));
            assertEquals(0, b.open.get(), "progs, maps or pins left open");
        }
    }
}
