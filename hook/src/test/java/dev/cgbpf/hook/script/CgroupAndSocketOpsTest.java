package dev.cgbpf.hook.script;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.engine.backend.TestRun;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The runner's side of the cgroup and socket ops, on a recording backend: which backend call each
 * line becomes (paths, flags, addresses as the backend receives them), how answers print (key
 * order, inet_ntop text), and which lines are malformed before any backend sees them.
 */
class CgroupAndSocketOpsTest {

    /** Records every call as one line of text and answers from a queue the test fills. */
    static final class RecordingBackend implements ScenarioOnlyBackend {
        final List<String> calls = new ArrayList<>();
        final Deque<Object> answers = new ArrayDeque<>();

        @Override
        public String name() {
            return "recording";
        }

        private Object answer() throws BpfException {
            Object a = answers.poll();
            if (a instanceof BpfException e) {
                throw e;
            }
            return a;
        }

        private void call(String s) throws BpfException {
            calls.add(s);
            Object a = answers.peek();
            if (a instanceof BpfException) {
                answer();
            }
        }

        @Override
        public LoadedProg load(LoadRequest r) {
            calls.add("load " + r.name());
            return new LoadedProg() {
                @Override
                public String name() {
                    return r.name();
                }

                @Override
                public ProgType type() {
                    return r.type();
                }

                @Override
                public String verifierLog() {
                    return "";
                }

                @Override
                public void close() {
                }

                @Override
                public String toString() {
                    return r.name();
                }
            };
        }

        @Override
        public TestRun.Result testRun(LoadedProg prog, TestRun.Request request) throws BpfException {
            call("run " + prog.name() + " " + HexFormat.of().formatHex(request.dataIn()));
            return new TestRun.Result(7, request.dataIn(), 0);
        }

        @Override
        public BpfMap createMap(MapSpec spec) {
            calls.add("map " + spec.name());
            return new BpfMap() {
                @Override
                public MapSpec spec() {
                    return spec;
                }

                @Override
                public int fd() {
                    return 3;
                }

                @Override
                public void close() {
                }

                @Override
                public String toString() {
                    return spec.name();
                }
            };
        }

        @Override
        public void update(BpfMap map, byte[] key, byte[] value, long flags) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void updateProg(BpfMap map, byte[] key, LoadedProg prog) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void updateCgroup(BpfMap map, byte[] key, String cgroup) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void updateListener(BpfMap map, byte[] key, java.net.InetAddress addr, int port,
                                   dev.cgbpf.engine.backend.Probe.Proto proto) {
            throw new UnsupportedOperationException();
        }

        @Override
        public byte[] lookup(BpfMap map, byte[] key) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void delete(BpfMap map, byte[] key) {
            throw new UnsupportedOperationException();
        }

        @Override
        public byte[] nextKey(BpfMap map, byte[] key) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void freeze(BpfMap map) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void mkdir(String path) throws BpfException {
            call("mkdir '" + path + "'");
        }

        @Override
        public void rmdir(String path) throws BpfException {
            call("rmdir '" + path + "'");
        }

        @Override
        public void attach(String cgroup, LoadedProg prog, AttachType type, Set<AttachFlag> flags, LoadedProg replace)
                throws BpfException {
            call("attach '" + cgroup + "' " + prog.name() + " " + type.scenarioName() + " " + flagText(flags)
                    + (replace == null ? "" : " replace=" + replace.name()));
        }

        @Override
        public void detach(String cgroup, AttachType type, LoadedProg prog) throws BpfException {
            call("detach '" + cgroup + "' " + type.scenarioName() + " " + (prog == null ? "-" : prog.name()));
        }

        @Override
        public QueryResult query(String cgroup, AttachType type, boolean effective, int max) throws BpfException {
            call("query '" + cgroup + "' " + type.scenarioName() + " effective=" + effective + " max=" + max);
            return (QueryResult) answer();
        }

        @Override
        public byte[] storage(String cgroup, AttachType type, BpfMap map) throws BpfException {
            call("storage '" + cgroup + "' " + type.scenarioName() + " " + map.spec().name());
            return (byte[]) answer();
        }

        @Override
        public boolean device(String cgroup, Probe.DeviceAccess a) throws BpfException {
            call("device '" + cgroup + "' " + a.type() + " " + a.major() + ":" + a.minor() + " " + a.access());
            return (Boolean) answer();
        }

        @Override
        public Probe.SocketInfo socket(String cgroup, Probe.Family family, Probe.SockType type, int protocol)
                throws BpfException {
            call("socket '" + cgroup + "' " + family + " " + type + " " + protocol);
            return (Probe.SocketInfo) answer();
        }

        @Override
        public void listen(InetAddress addr, int port, Probe.Proto proto) throws BpfException {
            call("listen " + describe(addr) + " " + port + " " + proto);
        }

        @Override
        public Probe.Bound bind(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
                throws BpfException {
            call("bind '" + cgroup + "' " + family + " " + proto + " " + describe(addr) + " " + port);
            return (Probe.Bound) answer();
        }

        @Override
        public Probe.Connected connect(String cgroup, Probe.Family family, Probe.Proto proto, InetAddress addr, int port)
                throws BpfException {
            call("connect '" + cgroup + "' " + family + " " + proto + " " + describe(addr) + " " + port);
            return (Probe.Connected) answer();
        }

        @Override
        public Probe.Delivered sendmsg(String cgroup, Probe.Family family, InetAddress addr, int port, InetAddress src)
                throws BpfException {
            call("sendmsg '" + cgroup + "' " + family + " " + describe(addr) + " " + port + " src="
                    + (src == null ? "-" : describe(src)));
            return (Probe.Delivered) answer();
        }

        @Override
        public void close() {
        }

        /** The Java class matters to a backend: an inet6 socket must get an Inet6Address. */
        static String describe(InetAddress a) {
            return (a instanceof Inet6Address ? "v6:" : "v4:") + HexFormat.of().formatHex(a.getAddress());
        }

        static String flagText(Set<AttachFlag> flags) {
            return flags.stream().map(AttachFlag::scenarioName).sorted().collect(Collectors.joining(",", "[", "]"));
        }
    }

    final RecordingBackend backend = new RecordingBackend();

    List<String> run(String... lines) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new ScenarioRunner(backend).run(List.of(lines), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    static final String LOAD_A = "{\"op\":\"load\",\"name\":\"a\",\"type\":\"cgroup_device\",\"insns\":[\"r0 = 1\",\"exit\"]}";
    static final String LOAD_B = "{\"op\":\"load\",\"name\":\"b\",\"type\":\"cgroup_device\",\"insns\":[\"r0 = 1\",\"exit\"]}";

    static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void pathsReachTheBackendRelativeWithTheRootAsEmpty() {
        List<String> out = run(
                "{\"op\":\"mkdir\",\"path\":\"a//b/.\"}",
                "{\"op\":\"rmdir\",\"path\":\".\"}",
                "{\"op\":\"rmdir\",\"path\":\"\"}");
        assertEquals(List.of("mkdir 'a/b'", "rmdir ''", "rmdir ''"), backend.calls);
        assertEquals(List.of("{\"op\":\"mkdir\",\"ok\":true}", "{\"op\":\"rmdir\",\"ok\":true}",
                "{\"op\":\"rmdir\",\"ok\":true}"), out);
    }

    @Test
    void backendErrnosAreResults() {
        backend.answers.add(new BpfException(Errno.EBUSY, "busy"));
        assertEquals(List.of("{\"op\":\"rmdir\",\"errno\":\"EBUSY\"}"), run("{\"op\":\"rmdir\",\"path\":\"x\"}"));
    }

    @Test
    void attachPassesFlagsAndTheProgramToReplace() {
        List<String> out = run(LOAD_A, LOAD_B,
                "{\"op\":\"attach\",\"cgroup\":\"c\",\"prog\":\"a\",\"attach\":\"cgroup_device\"}",
                "{\"op\":\"attach\",\"cgroup\":\"c\",\"prog\":\"b\",\"attach\":\"cgroup_device\",\"flags\":[\"replace\",\"allow_multi\"],\"replace\":\"a\"}",
                "{\"op\":\"attach\",\"cgroup\":\"\",\"prog\":\"b\",\"attach\":\"cgroup_inet_egress\",\"flags\":[],\"replace\":\"a\"}",
                "{\"op\":\"detach\",\"cgroup\":\"c\",\"attach\":\"cgroup_device\"}",
                "{\"op\":\"detach\",\"cgroup\":\"c\",\"attach\":\"cgroup_device\",\"prog\":\"b\"}");
        assertEquals(List.of("load a", "load b",
                "attach 'c' a cgroup_device []",
                "attach 'c' b cgroup_device [allow_multi,replace] replace=a",
                "attach '' b cgroup_inet_egress [] replace=a",
                "detach 'c' cgroup_device -",
                "detach 'c' cgroup_device b"), backend.calls);
        assertEquals(7, out.size());
        assertEquals("{\"op\":\"attach\",\"ok\":true}", out.get(3));
    }

    @Test
    void queryDefaultsAndKeyOrder() {
        backend.answers.add(new QueryResult(EnumSet.of(AttachFlag.ALLOW_MULTI), List.of("b", "a"), 2, null));
        backend.answers.add(new QueryResult(Set.of(AttachFlag.REPLACE, AttachFlag.ALLOW_OVERRIDE), List.of(), 0, null));
        backend.answers.add(new QueryResult(Set.of(), List.of("x", "y"), 70, "ENOSPC"));
        List<String> out = run(
                "{\"op\":\"query\",\"cgroup\":\"c\",\"attach\":\"cgroup_device\"}",
                "{\"op\":\"query\",\"cgroup\":\"c\",\"attach\":\"cgroup_device\",\"effective\":true,\"max\":0}",
                "{\"op\":\"query\",\"cgroup\":\"c\",\"attach\":\"cgroup_sock_ops\",\"effective\":false,\"max\":2}");
        assertEquals(List.of(
                "query 'c' cgroup_device effective=false max=-1",
                "query 'c' cgroup_device effective=true max=0",
                "query 'c' cgroup_sock_ops effective=false max=2"), backend.calls);
        assertEquals(List.of(
                "{\"op\":\"query\",\"ok\":true,\"flags\":[\"allow_multi\"],\"progs\":[\"b\",\"a\"],\"count\":2}",
                // flags in the format's order, whatever order the backend's set iterates in
                "{\"op\":\"query\",\"ok\":true,\"flags\":[\"allow_override\",\"replace\"],\"progs\":[],\"count\":0}",
                "{\"op\":\"query\",\"errno\":\"ENOSPC\",\"count\":70,\"progs\":[\"x\",\"y\"]}"), out);
    }

    @Test
    void storagePrintsTheValueAsHex() {
        backend.answers.add(HexFormat.of().parseHex("0a00000000000000"));
        List<String> out = run(
                "{\"op\":\"map\",\"name\":\"st\",\"type\":\"cgroup_storage\",\"key_size\":16,\"value_size\":8,\"max_entries\":0}",
                "{\"op\":\"storage\",\"cgroup\":\"c/d\",\"attach\":\"cgroup_inet_egress\",\"map\":\"st\"}");
        assertEquals("storage 'c/d' cgroup_inet_egress st", backend.calls.get(1));
        assertEquals("{\"op\":\"storage\",\"ok\":true,\"value\":\"0a00000000000000\"}", out.get(1));
    }

    @Test
    void deviceAccess() {
        backend.answers.add(true);
        backend.answers.add(false);
        List<String> out = run(
                "{\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"c 1:3\",\"access\":\"rw\"}",
                "{\"op\":\"device\",\"cgroup\":\"\",\"dev\":\"b 4095:1048575\",\"access\":\"mwr\"}");
        assertEquals(List.of("device 'c' c 1:3 rw", "device '' b 4095:1048575 mwr"), backend.calls);
        assertEquals(List.of("{\"op\":\"device\",\"ok\":true,\"allowed\":true}",
                "{\"op\":\"device\",\"ok\":true,\"allowed\":false}"), out);
    }

    @Test
    void socketFieldsInTheFormatsOrder() {
        backend.answers.add(new Probe.SocketInfo(1, 0x2a, 6));
        List<String> out = run(
                "{\"op\":\"socket\",\"cgroup\":\"c\",\"family\":\"inet6\",\"type\":\"dgram\"}",
                "{\"op\":\"socket\",\"cgroup\":\"c\",\"family\":\"inet\",\"type\":\"raw\",\"protocol\":255}");
        assertEquals(List.of("socket 'c' INET6 DGRAM 0"), backend.calls.subList(0, 1));
        assertEquals("{\"op\":\"socket\",\"ok\":true,\"bound_dev_if\":1,\"mark\":42,\"priority\":6}", out.get(0));
        assertEquals("socket 'c' INET RAW 255", backend.calls.get(1));
    }

    @Test
    void bindAnswersPrintAsTheSocketsFamily() throws Exception {
        // a backend may hand an inet6 socket's v4-mapped address back as an Inet4Address
        backend.answers.add(new Probe.Bound(ip("127.0.0.5"), 0));
        backend.answers.add(new Probe.Bound(ip("::"), 61001));
        backend.answers.add(new Probe.Bound(ip("127.0.0.1"), 61002));
        List<String> out = run(
                "{\"op\":\"bind\",\"cgroup\":\"c\",\"family\":\"inet6\",\"proto\":\"udp\",\"addr\":\"::ffff:127.0.0.5\",\"port\":0}",
                "{\"op\":\"bind\",\"cgroup\":\"c\",\"family\":\"inet6\",\"proto\":\"tcp\",\"addr\":\"::\",\"port\":61001}",
                "{\"op\":\"bind\",\"cgroup\":\"c\",\"family\":\"inet\",\"proto\":\"tcp\",\"addr\":\"0.0.0.0\",\"port\":61002}");
        assertEquals(List.of(
                "bind 'c' INET6 UDP v6:00000000000000000000ffff7f000005 0",
                "bind 'c' INET6 TCP v6:00000000000000000000000000000000 61001",
                "bind 'c' INET TCP v4:00000000 61002"), backend.calls);
        assertEquals(List.of(
                "{\"op\":\"bind\",\"ok\":true,\"addr\":\"::ffff:127.0.0.5\",\"port\":0}",
                "{\"op\":\"bind\",\"ok\":true,\"addr\":\"::\",\"port\":61001}",
                "{\"op\":\"bind\",\"ok\":true,\"addr\":\"127.0.0.1\",\"port\":61002}"), out);
    }

    @Test
    void connectAnswer() throws Exception {
        backend.answers.add(new Probe.Connected(ip("127.0.0.2"), 61010, ip("127.0.0.1")));
        backend.answers.add(new Probe.Connected(ip("::1"), 61011, ip("::1")));
        List<String> out = run(
                "{\"op\":\"connect\",\"cgroup\":\"c\",\"family\":\"inet6\",\"proto\":\"tcp\",\"addr\":\"::ffff:127.0.0.9\",\"port\":61010}",
                "{\"op\":\"connect\",\"cgroup\":\"c\",\"family\":\"inet6\",\"proto\":\"udp\",\"addr\":\"::1\",\"port\":61011}");
        assertEquals("connect 'c' INET6 TCP v6:00000000000000000000ffff7f000009 61010", backend.calls.get(0));
        assertEquals(List.of(
                "{\"op\":\"connect\",\"ok\":true,\"peer_addr\":\"::ffff:127.0.0.2\",\"peer_port\":61010,\"local_addr\":\"::ffff:127.0.0.1\"}",
                "{\"op\":\"connect\",\"ok\":true,\"peer_addr\":\"::1\",\"peer_port\":61011,\"local_addr\":\"::1\"}"), out);
    }

    @Test
    void sendmsgAnswersAreInTheReceiversFamily() throws Exception {
        // an inet6 sender reaching an IPv4 listener: the listener saw IPv4
        backend.answers.add(new Probe.Delivered(ip("127.0.0.1"), 61020, ip("127.0.0.1")));
        // an inet sender reaching a dual-stack listener bound to ::ffff:127.0.0.3: it saw v4-mapped
        backend.answers.add(new Probe.Delivered(ip("127.0.0.3"), 61021, ip("127.0.0.1")));
        List<String> out = run(
                "{\"op\":\"listen\",\"addr\":\"127.0.0.1\",\"port\":61020,\"proto\":\"udp\"}",
                "{\"op\":\"listen\",\"addr\":\"::ffff:127.0.0.3\",\"port\":61021,\"proto\":\"udp\"}",
                "{\"op\":\"sendmsg\",\"cgroup\":\"c\",\"family\":\"inet6\",\"addr\":\"::ffff:127.0.0.1\",\"port\":61020,\"src\":\"::ffff:127.0.0.1\"}",
                "{\"op\":\"sendmsg\",\"cgroup\":\"c\",\"family\":\"inet\",\"addr\":\"127.0.0.3\",\"port\":61021}");
        assertEquals(List.of(
                "listen v4:7f000001 61020 UDP",
                "listen v6:00000000000000000000ffff7f000003 61021 UDP",
                "sendmsg 'c' INET6 v6:00000000000000000000ffff7f000001 61020 src=v6:00000000000000000000ffff7f000001",
                "sendmsg 'c' INET v4:7f000003 61021 src=-"), backend.calls);
        assertEquals(List.of(
                "{\"op\":\"listen\",\"ok\":true}",
                "{\"op\":\"listen\",\"ok\":true}",
                "{\"op\":\"sendmsg\",\"ok\":true,\"peer_addr\":\"127.0.0.1\",\"peer_port\":61020,\"src_addr\":\"127.0.0.1\"}",
                "{\"op\":\"sendmsg\",\"ok\":true,\"peer_addr\":\"::ffff:127.0.0.3\",\"peer_port\":61021,\"src_addr\":\"::ffff:127.0.0.1\"}"),
                out);
    }

    @Test
    void runOfANonPacketTypeGoesToTheBackendWithoutData() {
        List<String> out = run(LOAD_A, "{\"op\":\"run\",\"prog\":\"a\",\"ctx\":{}}");
        assertEquals("run a ", backend.calls.get(1));
        assertEquals("{\"op\":\"run\",\"ok\":true,\"retval\":7}", out.get(1));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "unknown flag       | {\"op\":\"attach\",\"cgroup\":\"c\",\"prog\":\"a\",\"attach\":\"cgroup_device\",\"flags\":[\"multi\"]} | unknown attach flag 'multi' (allow_override, allow_multi, replace)",
            "repeated flag      | {\"op\":\"attach\",\"cgroup\":\"c\",\"prog\":\"a\",\"attach\":\"cgroup_device\",\"flags\":[\"allow_multi\",\"allow_multi\"]} | attach flag 'allow_multi' is given twice",
            "unknown prog       | {\"op\":\"attach\",\"cgroup\":\"c\",\"prog\":\"zz\",\"attach\":\"cgroup_device\"} | no prog named 'zz' was loaded before this line",
            "unknown replace    | {\"op\":\"attach\",\"cgroup\":\"c\",\"prog\":\"a\",\"attach\":\"cgroup_device\",\"flags\":[\"replace\"],\"replace\":\"zz\"} | no prog named 'zz' was loaded before this line",
            "unknown attach     | {\"op\":\"detach\",\"cgroup\":\"c\",\"attach\":\"xdp\"} | unknown attach type 'xdp'",
            "detach unknown     | {\"op\":\"detach\",\"cgroup\":\"c\",\"attach\":\"cgroup_device\",\"prog\":\"zz\"} | no prog named 'zz' was loaded before this line",
            "query max          | {\"op\":\"query\",\"cgroup\":\"c\",\"attach\":\"cgroup_device\",\"max\":-1} | field 'max' must be an integer from 0 to 2147483647",
            "query effective    | {\"op\":\"query\",\"cgroup\":\"c\",\"attach\":\"cgroup_device\",\"effective\":1} | field 'effective' must be true or false",
            "storage map        | {\"op\":\"storage\",\"cgroup\":\"c\",\"attach\":\"cgroup_device\",\"map\":\"zz\"} | no map named 'zz' was created before this line",
            "dev form           | {\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"c 1\",\"access\":\"r\"} | dev 'c 1' is not a device like \"c 1:3\" or \"b 8:0\"",
            "dev type           | {\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"a 1:3\",\"access\":\"r\"} | dev 'a 1:3' is not a device like",
            "dev spaces         | {\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"c  1:3\",\"access\":\"r\"} | dev 'c  1:3' is not a device like",
            "dev major          | {\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"c 4096:0\",\"access\":\"r\"} | dev 'c 4096:0': major is at most 4095 and minor at most 1048575",
            "dev minor          | {\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"b 8:1048576\",\"access\":\"r\"} | dev 'b 8:1048576': major is at most",
            "dev wildcard       | {\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"c *:*\",\"access\":\"r\"} | dev 'c *:*' is not a device like",
            "access empty       | {\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"c 1:3\",\"access\":\"\"} | access must name at least one of r, w, m",
            "access letter      | {\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"c 1:3\",\"access\":\"rx\"} | access 'rx' may hold only r, w and m",
            "access repeat      | {\"op\":\"device\",\"cgroup\":\"c\",\"dev\":\"c 1:3\",\"access\":\"rwr\"} | access 'rwr' names 'r' twice",
            "family             | {\"op\":\"socket\",\"cgroup\":\"c\",\"family\":\"unix\",\"type\":\"stream\"} | unknown family 'unix' (inet, inet6)",
            "type               | {\"op\":\"socket\",\"cgroup\":\"c\",\"family\":\"inet\",\"type\":\"seqpacket\"} | unknown type 'seqpacket' (stream, dgram, raw)",
            "protocol           | {\"op\":\"socket\",\"cgroup\":\"c\",\"family\":\"inet\",\"type\":\"stream\",\"protocol\":256} | protocol 256 is not an IP protocol number (0 to 255)",
            "proto              | {\"op\":\"listen\",\"addr\":\"127.0.0.1\",\"port\":61000,\"proto\":\"sctp\"} | unknown proto 'sctp' (tcp, udp)",
            "listen port 0      | {\"op\":\"listen\",\"addr\":\"127.0.0.1\",\"port\":0,\"proto\":\"tcp\"} | listen needs a fixed port (1 to 65535), not 0",
            "port too big       | {\"op\":\"listen\",\"addr\":\"127.0.0.1\",\"port\":65536,\"proto\":\"tcp\"} | field 'port' must be a port number from 0 to 65535",
            "port negative      | {\"op\":\"bind\",\"cgroup\":\"c\",\"family\":\"inet\",\"proto\":\"tcp\",\"addr\":\"127.0.0.1\",\"port\":-1} | field 'port' must be a port number from 0 to 65535",
            "listen wildcard    | {\"op\":\"listen\",\"addr\":\"0.0.0.0\",\"port\":61000,\"proto\":\"tcp\"} | address 0.0.0.0 is not a loopback address",
            "connect wildcard   | {\"op\":\"connect\",\"cgroup\":\"c\",\"family\":\"inet6\",\"proto\":\"tcp\",\"addr\":\"::\",\"port\":61000} | address :: is not a loopback address",
            "bind elsewhere     | {\"op\":\"bind\",\"cgroup\":\"c\",\"family\":\"inet\",\"proto\":\"tcp\",\"addr\":\"192.168.1.1\",\"port\":61000} | address 192.168.1.1 is neither a loopback address",
            "bind mapped any    | {\"op\":\"bind\",\"cgroup\":\"c\",\"family\":\"inet6\",\"proto\":\"tcp\",\"addr\":\"::ffff:0.0.0.0\",\"port\":61000} | address ::ffff:0.0.0.0 is neither a loopback address",
            "family v4 addr v6  | {\"op\":\"bind\",\"cgroup\":\"c\",\"family\":\"inet\",\"proto\":\"tcp\",\"addr\":\"::1\",\"port\":61000} | addr ::1 is not an address of family inet",
            "family v6 addr v4  | {\"op\":\"connect\",\"cgroup\":\"c\",\"family\":\"inet6\",\"proto\":\"tcp\",\"addr\":\"127.0.0.1\",\"port\":61000} | addr 127.0.0.1 is not an address of family inet6 (IPv4 through an inet6 socket is ::ffff:a.b.c.d)",
            "src family         | {\"op\":\"sendmsg\",\"cgroup\":\"c\",\"family\":\"inet\",\"addr\":\"127.0.0.1\",\"port\":61000,\"src\":\"::1\"} | src ::1 is not an address of family inet",
            "src not loopback   | {\"op\":\"sendmsg\",\"cgroup\":\"c\",\"family\":\"inet\",\"addr\":\"127.0.0.1\",\"port\":61000,\"src\":\"0.0.0.0\"} | address 0.0.0.0 is not a loopback address",
            "sendmsg proto      | {\"op\":\"sendmsg\",\"cgroup\":\"c\",\"family\":\"inet\",\"proto\":\"udp\",\"addr\":\"127.0.0.1\",\"port\":61000} | op 'sendmsg' has no field 'proto'",
            "path escapes       | {\"op\":\"socket\",\"cgroup\":\"../x\",\"family\":\"inet\",\"type\":\"stream\"} | path '../x' uses '..'; it may not leave the scenario root",
    })
    void malformedLinesNeverReachTheBackend(String what, String line, String error) {
        List<String> out = run(LOAD_A, line.strip());
        assertEquals(List.of("load a"), backend.calls, what);
        String got = out.get(1);
        String want = "{\"line\":2,\"error\":\"" + error.strip().replace("\"", "\\\"");
        assertEquals(true, got.startsWith(want), what + ": " + got);
    }
}
