package dev.cgbpf.hook.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.hook.spec.Config;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyTest {
    static final int R = Access.READ;
    static final int W = Access.WRITE;
    static final int M = Access.MKNOD;
    /** Addresses the tests treat as local, independent of the machine's interfaces. */
    static final LocalAddresses LOCAL = a -> a.isLoopbackAddress() || a.getHostAddress().equals("192.0.2.2");

    @TempDir
    Path bundle;

    Config config(String json) throws Exception {
        Files.writeString(bundle.resolve("config.json"), json.replace('\'', '"'));
        return Config.read(bundle);
    }

    Policy merge(Config c, Map<String, String> ann) throws PolicyException {
        return Policy.merge(c, HostPolicy.DEFAULTS, ann, new HostDevices(), LOCAL);
    }

    /** The defaults with the largest limits, and a pool that also has ::1 and the test's "host address". */
    static final HostPolicy WIDE = new HostPolicy(FailurePolicy.CLOSED, AppliesTo.ANNOTATED, true, java.util.List.of(),
            BindMode.REWRITE, java.util.List.of(), java.util.Set.of(), poolOf("127.0.0.0/8", "::1/128", "192.0.2.2/32"),
            false, new HostPolicy.Limits(Policy.MAX_DEVICE_RULES, Policy.MAX_DEVICE_PATTERNS));

    static AddressPool poolOf(String... blocks) {
        try {
            return AddressPool.parse(java.util.List.of(blocks), "test");
        } catch (PolicyException e) {
            throw new IllegalStateException(e);
        }
    }

    Policy mergeWide(Config c, Map<String, String> ann) throws PolicyException {
        return Policy.merge(c, WIDE, ann, new HostDevices(), LOCAL);
    }

    static final String RUNC_SPEC = "{'ociVersion':'1.0.2','linux':{'resources':{'devices':[{'allow':false,'access':'rwm'}]}}}";

    @Test
    void runcDefaultsFollowTheConfigAndAnnotationsComeLast() throws Exception {
        Policy p = merge(config(RUNC_SPEC), Map.of(Policy.DEVICES, "deny c 1:5 w; allow /dev/full r;"));
        DeviceAllowlist d = p.devices();
        assertFalse(d.defaultAllow());
        assertTrue(d.allows(DeviceType.CHAR, 1, 5, R));
        assertFalse(d.allows(DeviceType.CHAR, 1, 5, W));
        assertFalse(d.allows(DeviceType.CHAR, 1, 5, R | W));
        assertTrue(d.allows(DeviceType.CHAR, 1, 3, R | W));
        assertTrue(d.allows(DeviceType.CHAR, 136, 7, R | W));
        assertTrue(d.allows(DeviceType.BLOCK, 8, 0, M));
        assertFalse(d.allows(DeviceType.BLOCK, 8, 0, R));
        assertEquals("config.json linux.resources.devices[0]", p.deviceRules().get(0).origin());
        assertEquals("annotation dev.cgbpf.devices rule 1", p.deviceRules().get(p.deviceRules().size() - 2).origin());
        assertTrue(p.deviceRules().get(p.deviceRules().size() - 1).origin().endsWith("rule 2 /dev/full"));
    }

    /** runc creates linux.devices nodes but allows none of them; one that shadows a default drops its rule. */
    @Test
    void linuxDevicesAreNotImplicitlyAllowed() throws Exception {
        Policy p = merge(config("{'ociVersion':'1.0.2','linux':{'resources':{'devices':[{'allow':false,'access':'rwm'}]},"
                + "'devices':[{'path':'/dev/null','type':'c','major':1,'minor':3},{'path':'/dev/fuse','type':'c','major':10,'minor':229}]}}"),
                Map.of(Policy.BIND_MODE, "rewrite"));
        assertFalse(p.devices().allows(DeviceType.CHAR, 1, 3, R));
        assertFalse(p.devices().allows(DeviceType.CHAR, 10, 229, R));
        assertTrue(p.devices().allows(DeviceType.CHAR, 1, 5, R));
    }

    @Test
    void unannotatedContainersAreLeftAloneByDefault() throws Exception {
        Policy p = merge(config(RUNC_SPEC), Map.of("other.key", "x"));
        assertFalse(p.applies());
        assertNull(p.devices());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "dev.cgbpf.devices    | grant c 1:5 r              | annotation dev.cgbpf.devices rule 1: 'grant' is not allow or deny",
        "dev.cgbpf.devices    | allow x 1:5 r              | annotation dev.cgbpf.devices rule 1: device type 'x' is not a, b or c",
        "dev.cgbpf.devices    | allow c 1:5 rx             | annotation dev.cgbpf.devices rule 1: access 'rx' is not a non-empty combination of r, w and m",
        "dev.cgbpf.devices    | allow c 1:99999999999 r    | annotation dev.cgbpf.devices rule 1: minor '99999999999' is not a number or *",
        "dev.cgbpf.devices    | allow c 1 r                | annotation dev.cgbpf.devices rule 1: '1' is not MAJOR:MINOR",
        "dev.cgbpf.devices    | allow c *:* rwm; deny c 1:5 w | device rule 'deny c 1:5 w' (annotation dev.cgbpf.devices rule 2) cannot punch a hole in the wildcard rule 'allow c *:* rwm' (runc refuses this too); state it the other way round",
        "dev.cgbpf.devices    | allow /dev/../etc/passwd r | annotation dev.cgbpf.devices rule 1: device path '/dev/../etc/passwd' has an empty, '.' or '..' segment",
        "dev.cgbpf.devices    | allow /etc/passwd r        | annotation dev.cgbpf.devices rule 1: device path '/etc/passwd' is not below /dev/",
        "dev.cgbpf.devices    | allow /dev/stdin r         | annotation dev.cgbpf.devices rule 1: device path '/dev/stdin' leads out of /dev",
        "dev.cgbpf.devices    | allow /dev/shm r           | annotation dev.cgbpf.devices rule 1: device path '/dev/shm' is not a device node",
        "dev.cgbpf.devices    | allow /dev/no-such-node r  | annotation dev.cgbpf.devices rule 1: device path '/dev/no-such-node' does not exist on this host",
        "dev.cgbpf.bind-ip    | 8.8.8.8                    | annotation dev.cgbpf.bind-ip: 8.8.8.8 is not an address of this machine (loopback or on an interface)",
        "dev.cgbpf.bind-ip    | 0.0.0.0                    | annotation dev.cgbpf.bind-ip: 0.0.0.0 is not a unicast address a container can own",
        "dev.cgbpf.bind-ip    | localhost                  | annotation dev.cgbpf.bind-ip: 'localhost' is not an IPv4 or IPv6 address literal",
        "dev.cgbpf.bind-ip    | 127.0.0.256                | annotation dev.cgbpf.bind-ip: '127.0.0.256' is not an IPv4 address",
        "dev.cgbpf.bind-ip    | ::ffff:127.0.0.1           | annotation dev.cgbpf.bind-ip: ::ffff:127.0.0.1 is an IPv4-mapped address; give the IPv4 form 127.0.0.1 (IPv6 sockets get the mapped form automatically)",
        "dev.cgbpf.bind-ip    | 127.0.0.5,,::1             | annotation dev.cgbpf.bind-ip: empty address in '127.0.0.5,,::1'",
        "dev.cgbpf.bind-mode  | drop                       | annotation dev.cgbpf.bind-mode: 'drop' is not rewrite or deny",
        "dev.cgbpf.bind-ports | 80-70                      | annotation dev.cgbpf.bind-ports: port range 80-70 runs backwards",
        "dev.cgbpf.deny-sockets | raw,packet               | annotation dev.cgbpf.deny-sockets: 'packet' is not a socket kind (raw, inet, inet6, tcp, udp)",
        "dev.cgbpf.device     | allow c 1:5 r              | annotation 'dev.cgbpf.device' is not a cgbpf annotation (known: dev.cgbpf.bind-ip, dev.cgbpf.bind-mode, dev.cgbpf.bind-ports, dev.cgbpf.deny-sockets, dev.cgbpf.devices)",
    })
    void badAnnotationsAreOneLineErrors(String key, String value, String message) throws Exception {
        Config c = config(RUNC_SPEC);
        PolicyException e = assertThrows(PolicyException.class, () -> merge(c, Map.of(key.strip(), value.strip())));
        assertTrue(e.getMessage().startsWith(message.strip()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void globsResolveHostNodesAndSkipLinksOutOfDev() throws Exception {
        Policy p = merge(config(RUNC_SPEC), Map.of(Policy.DEVICES, "allow /dev/nul* rw; allow /dev/std* r; allow /dev/nothing-here* r"));
        long fromGlobs = p.deviceRules().stream().filter(r -> r.origin().startsWith("annotation")).count();
        assertEquals(1, fromGlobs, p.deviceRules().toString());
        DeviceRule nul = p.deviceRules().get(p.deviceRules().size() - 1);
        assertEquals("allow c 1:3 rw", nul.text());
    }

    @Test
    void hundredThousandRulesGiveAResultOrAClearLimit() throws Exception {
        Config c = config(RUNC_SPEC);
        String same = "allow c 7:1 r;".repeat(100_000) + "deny c 7:1 r";
        long t0 = System.nanoTime();
        Policy p = mergeWide(c, Map.of(Policy.DEVICES, same));
        System.out.printf("100,000 repeated rules merged in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertEquals(100_001 + 1 + 11, p.deviceRules().size());
        assertFalse(p.devices().allows(DeviceType.CHAR, 7, 1, R));
        StringBuilder distinct = new StringBuilder();
        for (int i = 0; i < 100_000; i++) {
            distinct.append("allow c 7:").append(i).append(" r;");
        }
        // the maps shape holds them all (one map entry each) ...
        Policy big = mergeWide(c, Map.of(Policy.DEVICES, distinct.toString()));
        assertTrue(big.devices().exceptions().size() > 100_000, "" + big.devices().exceptions().size());
        // ... up to the host policy's limits.devicePatterns; the linear shape to its verifier budget
        HostPolicy limited = new HostPolicy(WIDE.failurePolicy(), WIDE.appliesTo(), true, java.util.List.of(),
                WIDE.bindMode(), WIDE.bindPorts(), WIDE.denySockets(), WIDE.bindAddressPool(), false,
                new HostPolicy.Limits(Policy.MAX_DEVICE_RULES, 50_000), DeviceProgramChoice.AUTO);
        PolicyException e = assertThrows(PolicyException.class,
                () -> Policy.merge(c, limited, Map.of(Policy.DEVICES, distinct.toString()), new HostDevices(), LOCAL));
        assertEquals("too many device rules: more than 50000 distinct device patterns after merging (the host policy's"
                + " limits.devicePatterns; use wildcards)", e.getMessage());
        HostPolicy linear = new HostPolicy(WIDE.failurePolicy(), WIDE.appliesTo(), true, java.util.List.of(),
                WIDE.bindMode(), WIDE.bindPorts(), WIDE.denySockets(), WIDE.bindAddressPool(), false,
                WIDE.limits(), DeviceProgramChoice.LINEAR);
        e = assertThrows(PolicyException.class,
                () -> Policy.merge(c, linear, Map.of(Policy.DEVICES, distinct.toString()), new HostDevices(), LOCAL));
        assertEquals("too many device rules: more than 40000 distinct device patterns after merging (the host policy's"
                + " limits.devicePatterns, or the linear shape's verifier budget; use wildcards)", e.getMessage());
        String tooMany = "allow c 7:1 r;".repeat(Policy.MAX_DEVICE_RULES + 1);
        e = assertThrows(PolicyException.class, () -> mergeWide(c, Map.of(Policy.DEVICES, tooMany)));
        assertTrue(e.getMessage().startsWith("too many device rules: annotation dev.cgbpf.devices has more than"), e.getMessage());
        // the default limits are smaller: 10,000 rules from the container's spec
        e = assertThrows(PolicyException.class, () -> merge(c, Map.of(Policy.DEVICES, same)));
        assertTrue(e.getMessage().startsWith("too many device rules: annotation dev.cgbpf.devices has more than"), e.getMessage());
    }

    @Test
    void networkAnnotationsOverrideHostDefaults() throws Exception {
        Policy p = mergeWide(config(RUNC_SPEC), Map.of(Policy.BIND_IP, "127.0.0.5, ::1,192.0.2.2", Policy.BIND_MODE, "deny",
                Policy.BIND_PORTS, "8000-8099,443", Policy.DENY_SOCKETS, "raw"));
        NetworkPolicy n = p.network();
        assertEquals(java.util.List.of(InetAddress.getByName("127.0.0.5"), InetAddress.getByName("192.0.2.2")), n.bind().v4());
        assertEquals(1, n.bind().v6().size());
        assertEquals(BindMode.DENY, n.bindMode());
        assertEquals("[8000-8099, 443]", n.bindPorts().toString());
        assertEquals(java.util.Set.of(SocketRule.RAW), n.denySockets());
    }

    @Test
    void shippedHostPolicyIsTheBuiltInDefault() throws Exception {
        Path shipped = Path.of("..", "config", "policy.json");
        assertEquals(HostPolicy.DEFAULTS, HostPolicy.load(shipped, new HostDevices(), Policy.MAX_DEVICE_RULES));
    }

    /** A resident daemon reuses the policy it loaded while the file is unchanged, and only then. */
    @Test
    void anUnchangedHostPolicyFileIsNotParsedAgain(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("policy.json");
        String rule = "{\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": %d, \"access\": \"w\"}";
        Files.writeString(f, "{\"devices\": [" + String.format(rule, 5) + "]}");
        HostPolicy first = HostPolicy.load(f, new HostDevices(), 100);
        assertTrue(first == HostPolicy.load(f, new HostDevices(), 100), "the same file, the same policy object");
        assertFalse(first == HostPolicy.load(f, new HostDevices(), 99), "another rule limit is another load");
        // an edit in place (same size, same inode) is seen
        Files.writeString(f, "{\"devices\": [" + String.format(rule, 7) + "]}");
        HostPolicy edited = HostPolicy.load(f, new HostDevices(), 100);
        assertEquals(7, edited.devices().get(0).minor());
        // a replacement by rename is seen
        Path tmp = dir.resolve("policy.json.new");
        Files.writeString(tmp, "{\"devices\": [" + String.format(rule, 9) + "]}");
        Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertEquals(9, HostPolicy.load(f, new HostDevices(), 100).devices().get(0).minor());
        // path rules stand for what /dev holds at each load: never reused
        Path dev = Files.createDirectories(dir.resolve("dev"));
        Files.writeString(f, "{\"devices\": [{\"allow\": false, \"path\": \"/dev/nothing*\", \"access\": \"w\"}]}");
        HostPolicy withPaths = HostPolicy.load(f, new HostDevices(dev), 100);
        assertFalse(withPaths == HostPolicy.load(f, new HostDevices(dev), 100));
    }

    @Test
    void hostPolicyFileErrorsNameTheField(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("policy.json");
        Files.writeString(f, "{\"failurePolicy\":\"maybe\"}", StandardCharsets.UTF_8);
        PolicyException e = assertThrows(PolicyException.class, () -> HostPolicy.load(f, new HostDevices(), 10));
        assertEquals("policy.json: field 'failurePolicy': 'maybe' is not open or closed", e.getMessage());
        Files.writeString(f, "{\"devices\":[{\"allow\":true,\"path\":\"/dev/null\",\"type\":\"c\",\"access\":\"r\"}]}");
        e = assertThrows(PolicyException.class, () -> HostPolicy.load(f, new HostDevices(), 10));
        assertEquals("policy.json: field 'devices[0]': give either path or type/major/minor, not both", e.getMessage());
        Files.writeString(f, "{\"failurePolicy\":\"open\",\"appliesTo\":\"all\",\"devices\":[{\"allow\":false,\"path\":\"/dev/zero\",\"access\":\"w\"}],"
                + "\"network\":{\"denySockets\":[\"raw\",\"inet6\"]}}");
        HostPolicy h = HostPolicy.load(f, new HostDevices(), 10);
        assertEquals(FailurePolicy.OPEN, h.failurePolicy());
        assertEquals("deny c 1:5 w", h.devices().get(0).text());
        Policy p = Policy.merge(config(RUNC_SPEC), h, Map.of(), new HostDevices(), LOCAL);
        assertTrue(p.applies());
        assertTrue(p.devices().allows(DeviceType.CHAR, 1, 5, W), "the container's own list allows /dev/zero");
        assertFalse(p.allowsDevice(DeviceType.CHAR, 1, 5, W), "the host's ceiling does not");
        assertFalse(p.hostDevices().allows(DeviceType.CHAR, 1, 5, W));
        assertEquals(2, p.network().denySockets().size());
        PolicyException missing = assertThrows(PolicyException.class,
                () -> HostPolicy.load(dir.resolve("nope.json"), new HostDevices(), 10));
        assertTrue(missing.getMessage().startsWith("policy.json: ") && missing.getMessage().endsWith("is missing"));
    }

    @Test
    void devNumbersDecodeLikeGlibc() {
        long dev = (259L & 0xfff) << 8 | (259L & ~0xfffL) << 32 | (70000L & 0xff) | (70000L & ~0xffL) << 12;
        assertEquals(259, HostDevices.major(dev));
        assertEquals(70000, HostDevices.minor(dev));
    }

    /** A restrictive host policy: /dev/zero read-only, no loop devices, ports 8000-8099, bind mode deny, no raw. */
    HostPolicy restrictive(Path dir) throws Exception {
        Path f = dir.resolve("policy.json");
        Files.writeString(f, ("{'appliesTo':'all','devices':[{'allow':false,'type':'c','major':1,'minor':5,'access':'w'},"
                + "{'allow':false,'type':'b','major':7,'access':'rwm'}],'network':{'bindMode':'deny',"
                + "'bindPorts':'8000-8099','denySockets':['raw'],'bindAddressPool':['127.77.0.0/24']}}").replace('\'', '"'));
        return HostPolicy.load(f, new HostDevices(), Policy.MAX_DEVICE_RULES);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "allow a *:* rwm",
        "allow c 1:5 rwm",
        "allow c 1:5 w",
        "allow b 7:0 rwm",
        "allow b 7:* rwm",
        "allow c *:* rwm; allow b *:* rwm",
    })
    void aDeviceAnnotationCannotLiftTheHostsCeiling(String rules, @TempDir Path dir) throws Exception {
        HostPolicy h = restrictive(dir);
        String privileged = "{'ociVersion':'1.0.2','linux':{'resources':{'devices':[{'allow':true,'access':'rwm'}]}}}";
        Policy p = Policy.merge(config(privileged), h, Map.of(Policy.DEVICES, rules), new HostDevices(), LOCAL);
        assertFalse(p.allowsDevice(DeviceType.CHAR, 1, 5, W));
        assertFalse(p.allowsDevice(DeviceType.CHAR, 1, 5, R | W));
        assertTrue(p.allowsDevice(DeviceType.CHAR, 1, 5, R));
        assertFalse(p.allowsDevice(DeviceType.BLOCK, 7, 0, R));
        assertFalse(p.warnings().isEmpty(), "the widening is named");
        assertTrue(p.warnings().get(0).startsWith("annotation dev.cgbpf.devices: 'allow "), p.warnings().toString());
    }

    @Test
    void networkAnnotationsOnlyNarrow(@TempDir Path dir) throws Exception {
        HostPolicy h = restrictive(dir);
        Config c = config(RUNC_SPEC);
        for (String ports : java.util.List.of("", "1-65535", "8000-9000")) {
            Policy p = Policy.merge(c, h, Map.of(Policy.BIND_PORTS, ports), new HostDevices(), LOCAL);
            assertEquals("[8000-8099]", p.network().bindPorts().toString(), ports);
            assertEquals(1, p.warnings().size(), p.warnings().toString());
        }
        Policy narrower = Policy.merge(c, h, Map.of(Policy.BIND_PORTS, "8080,8090-9000"), new HostDevices(), LOCAL);
        assertEquals("[8080, 8090-8099]", narrower.network().bindPorts().toString());
        PolicyException none = assertThrows(PolicyException.class,
                () -> Policy.merge(c, h, Map.of(Policy.BIND_PORTS, "9000"), new HostDevices(), LOCAL));
        assertEquals("annotation dev.cgbpf.bind-ports: '9000' has no port inside the host policy's network.bindPorts"
                + " [8000-8099]", none.getMessage());
        Policy rewrite = Policy.merge(c, h, Map.of(Policy.BIND_MODE, "rewrite"), new HostDevices(), LOCAL);
        assertEquals(BindMode.DENY, rewrite.network().bindMode());
        Policy sockets = Policy.merge(c, h, Map.of(Policy.DENY_SOCKETS, ""), new HostDevices(), LOCAL);
        assertEquals(java.util.Set.of(SocketRule.RAW), sockets.network().denySockets());
        for (String foreign : java.util.List.of("127.0.0.1", "127.78.0.1", "192.0.2.2", "::1")) {
            PolicyException e = assertThrows(PolicyException.class,
                    () -> Policy.merge(c, h, Map.of(Policy.BIND_IP, foreign), new HostDevices(), LOCAL));
            assertTrue(e.getMessage().contains("is not in the host policy's network.bindAddressPool"), e.getMessage());
        }
        Policy own = Policy.merge(c, h, Map.of(Policy.BIND_IP, "127.77.0.5"), new HostDevices(), LOCAL);
        assertEquals("127.77.0.5", own.network().bind().toString());
        Policy auto = Policy.merge(c, h, Map.of(Policy.BIND_IP, "auto"), new HostDevices(), LOCAL);
        assertTrue(auto.bindRequest().auto());
        assertTrue(auto.network().bind().isEmpty());
    }

    @Test
    void theDefaultPoolKeepsTheHostsOwnLoopbackAndBroadcast() throws Exception {
        AddressPool d = AddressPool.DEFAULT;
        assertFalse(d.contains(InetAddress.getByName("127.0.0.1")));
        assertFalse(d.contains(InetAddress.getByName("127.0.0.0")));
        assertFalse(d.contains(InetAddress.getByName("127.255.255.255")));
        assertFalse(d.contains(InetAddress.getByName("::1")));
        assertFalse(d.contains(InetAddress.getByName("192.0.2.2")));
        assertTrue(d.contains(InetAddress.getByName("127.0.0.2")));
        assertTrue(poolOf("127.0.0.1/32").contains(InetAddress.getByName("127.0.0.1")));
        assertEquals("127.0.0.2", d.firstFree(java.util.Set.of(), a -> true).orElseThrow().getHostAddress());
        assertEquals("127.0.0.3", d.firstFree(java.util.Set.of(InetAddress.getByName("127.0.0.2")), a -> true).orElseThrow()
                .getHostAddress());
        AddressPool v6 = poolOf("fd00:77::/64");
        assertEquals("fd00:77:0:0:0:0:0:1", v6.firstFree(java.util.Set.of(), a -> true).orElseThrow().getHostAddress(),
                "not the subnet-router anycast address");
        assertTrue(v6.firstFree(java.util.Set.of(), LocalAddresses.snapshot()::isLocal).isEmpty(),
                "auto takes only addresses of this machine");
        PolicyException e = assertThrows(PolicyException.class, () -> AddressPool.parse(java.util.List.of("127.0.0.1/8"), "p"));
        assertEquals("p[0]: '127.0.0.1/8' has host bits set after the prefix", e.getMessage());
    }

    @Test
    void rawSocketsCannotBeDeniedToAContainerWithCapNetRawInTheHostNetwork() throws Exception {
        String withRaw = "{'ociVersion':'1.0.2','process':{'capabilities':{'bounding':['CAP_NET_RAW']}}}";
        PolicyException e = assertThrows(PolicyException.class,
                () -> merge(config(withRaw), Map.of(Policy.DENY_SOCKETS, "raw")));
        assertTrue(e.getMessage().startsWith("deny-sockets raw: the container keeps CAP_NET_RAW in the host's network"
                + " namespace"), e.getMessage());
        String ownNet = "{'ociVersion':'1.0.2','process':{'capabilities':{'bounding':['CAP_NET_RAW']}},"
                + "'linux':{'namespaces':[{'type':'network'}]}}";
        assertEquals(java.util.Set.of(SocketRule.RAW),
                merge(config(ownNet), Map.of(Policy.DENY_SOCKETS, "raw")).network().denySockets());
        String joinsHost = "{'ociVersion':'1.0.2','process':{'capabilities':{'bounding':['CAP_NET_RAW']}},"
                + "'linux':{'namespaces':[{'type':'network','path':'/proc/self/ns/net'}]}}";
        assertThrows(PolicyException.class, () -> merge(config(joinsHost), Map.of(Policy.DENY_SOCKETS, "raw")));
    }
}
