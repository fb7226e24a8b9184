package dev.cgbpf.hook.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.PolicyCheck;
import dev.cgbpf.hook.spec.Config;
import dev.cgbpf.hook.spec.Json;
import dev.cgbpf.hook.spec.SpecException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The host policy is a ceiling: whatever a container's spec says (config.json's device rules, the
 * {@code dev.cgbpf.*} annotations), the merged policy must not let the container do anything the
 * host policy on its own would refuse. Checked on the engine, never the kernel: for random host
 * policies and random container input, both compiled policies are loaded into their own
 * {@link PolicyCheck} and asked the same questions:
 * <ol>
 * <li>devices: an access the merged programs allow, the host-alone programs allow too;</li>
 * <li>binds: when the merged programs let a bind through, the host-alone programs let the same bind
 *     (same family, protocol, resulting address and port) through too, so its port is one the host
 *     allows; with a container bind address the address the socket ends up on is in the host's
 *     {@code network.bindAddressPool}; and under a host bind mode of {@code deny} no bind is moved
 *     to another address;</li>
 * <li>sockets: every kind of socket(2) the host-alone programs refuse, the merged ones refuse.</li>
 * </ol>
 * "Host alone" is {@link Policy#merge} of a container without device rules and without cgbpf
 * annotations under the same host policy, forced to {@code appliesTo: all} (so that it applies)
 * and {@code runtimeDefaults: none}; see {@link #hostAlone}.
 *
 * <p>A merge that throws {@link PolicyException} is a fine outcome (the hook refuses and the
 * container does not start); such cases are counted, and the test insists that most cases are
 * not refused, so that the property is actually exercised. Cases where the host policy says
 * {@code appliesTo: annotated} and the container has no cgbpf annotation get no programs at all
 * (documented in config/README.md: "others are left alone"); they are counted and not compared.
 *
 * <p>The run is reproducible: the seed is printed, and {@code -Dcgbpf.mergeprop.seed=N} and
 * {@code -Dcgbpf.mergeprop.cases=N} change seed and number of cases. A violation prints the case's
 * policy.json, config.json and state annotations: device and bind findings can be replayed with
 * {@code cgbpf check --policy FILE --bundle DIR --annotation KEY=VALUE ...}, socket findings with
 * {@link PolicyCheck#socket}. Engine only: no kernel, no root.
 */
class MergePropertyTest {
    static final String SEED_PROPERTY = "cgbpf.mergeprop.seed";
    static final String CASES_PROPERTY = "cgbpf.mergeprop.cases";
    static final long DEFAULT_SEED = 0x6d65_7267_6550_726fL;
    static final int DEFAULT_CASES = 400;

    /** Loopback, and one address each family standing in for an address on a host interface. */
    static final LocalAddresses LOCAL = a -> a.isLoopbackAddress()
            || a.getHostAddress().equals("192.0.2.2") || a.getHostAddress().equals("fd00:0:0:0:0:0:0:5");
    /** The host's /dev: path rules only name /dev/null and /dev/zero, which every Linux has (c 1:3, c 1:5). */
    static final HostDevices DEVICES = new HostDevices();

    static final long[] MAJORS = {0, 1, 5, 8, 10, 136, 0xffffffffL};
    static final long[] MINORS = {0, 1, 2, 3, 5, 7, 200, 0xffffffffL};
    static final long[] PROBE_NUMBERS = {0, 1, 2, 3, 5, 7, 8, 10, 136, 200, 4242, 0xffffffffL};
    static final String[] ACCESSES = {"r", "w", "m", "rw", "rm", "wm", "rwm"};
    static final String[] SOCKET_WORDS = {"raw", "inet", "inet6", "tcp", "udp"};
    /** Port ranges host and container draw from, overlapping often and sometimes not at all. */
    static final String[] PORT_RANGES = {"80", "443", "8000-8099", "8050-8150", "1-1023", "1024-65535",
        "30000-32767", "65535", "8080", "1-65535", "9000-9100", "8099", "1"};
    /** Pool blocks, each with one address a container could ask for inside it. */
    static final String[][] POOL_BLOCKS = {
        {"127.77.0.0/24", "127.77.0.5"}, {"127.0.0.1/32", "127.0.0.1"}, {"::1/128", "::1"},
        {"127.0.0.0/8", "127.99.3.4"}, {"192.0.2.2/32", "192.0.2.2"}, {"fd00::/64", "fd00::5"},
        {"127.88.1.0/30", "127.88.1.1"}};
    /** bind-ip values regardless of the pool: in some pools, out of others, network/broadcast, not local. */
    static final String[] BIND_IPS = {"127.77.0.5", "127.77.0.9", "127.77.0.0", "127.77.0.255", "127.0.0.1", "::1",
        "127.88.1.1", "127.88.1.2", "127.99.3.4", "192.0.2.2", "fd00::5", "10.1.2.3", "127.77.0.5,::1",
        "127.77.0.9,127.77.0.5", "::1,127.0.0.1", "127.88.1.1, 127.99.3.4"};
    static final String[] V4_PROBES = {"0.0.0.0", "127.0.0.1", "127.77.0.5", "127.77.0.9", "127.88.1.1",
        "127.99.3.4", "192.0.2.2", "10.1.2.3", "224.0.0.1", "255.255.255.255"};
    /** ::ffff:a.b.c.d parses as an Inet4Address; an inet6 probe socket gets it in the v4-mapped form. */
    static final String[] V6_PROBES = {"::", "::1", "fd00::5", "::ffff:127.0.0.1", "::ffff:127.77.0.5",
        "::ffff:127.99.3.4", "ff0e::1"};
    static final int[] FIXED_PORTS = {0, 0, 1, 80, 443, 1023, 1024, 7999, 8000, 8050, 8080, 8099, 8100, 9000, 30000,
        65535};
    /** The socket kinds asked of socket(2): SOCK_STREAM/DGRAM with 0 and their protocol, SOCK_RAW with several. */
    static final Object[][] SOCKET_KINDS = {
        {Probe.SockType.STREAM, 0}, {Probe.SockType.STREAM, 6}, {Probe.SockType.DGRAM, 0}, {Probe.SockType.DGRAM, 17},
        {Probe.SockType.RAW, 1}, {Probe.SockType.RAW, 6}, {Probe.SockType.RAW, 17}, {Probe.SockType.RAW, 58},
        {Probe.SockType.RAW, 255}};
    static final int DEVICE_PROBES = 48;
    static final int BIND_PROBES = 24;
    static final String EMPTY_CONFIG = "{\"ociVersion\":\"1.0.2\"}";

    /** One generated case: the three inputs of a merge, as the files and state the hook reads. */
    record Input(String name, String policyJson, String configJson, Map<String, String> state) {
        String reproduction() {
            return name + "\n  policy.json: " + policyJson + "\n  config.json: " + configJson
                    + "\n  state annotations: " + state;
        }
    }

    /** What the cases came to. */
    static final class Stats {
        int cases;
        int hostPoliciesRedrawn;
        int refused;
        final Map<String, Integer> refusedBy = new TreeMap<>();
        int notApplied;
        int compared;
        int withWarnings;
        int autoBinds;
        int deviceProbes;
        int deviceMergedAllowed;
        int deviceHostRefused;
        /** Probes the container's own list allows and only the host's ceiling program refuses. */
        int deviceCutByCeiling;
        int bindProbes;
        int bindsMade;
        int bindsWithAddress;
        int bindsMoved;
        int socketProbes;
        int socketsHostRefused;
        int socketsOnlyMergedRefused;

        void refuse(String reason) {
            refused++;
            refusedBy.merge(reason, 1, Integer::sum);
        }

        @Override
        public String toString() {
            return "cases " + cases + " (host policies redrawn because the host policy alone was invalid: "
                    + hostPoliciesRedrawn + "), refused merges " + refused + " " + refusedBy + ", not applied "
                    + notApplied + ", compared " + compared + " (with warnings " + withWarnings + ", auto bind "
                    + autoBinds + ")\n  devices: probes " + deviceProbes + ", merged allowed " + deviceMergedAllowed
                    + ", host alone refused " + deviceHostRefused + ", of those the container's own list allowed "
                    + deviceCutByCeiling + "\n  binds: probes " + bindProbes + ", made " + bindsMade
                    + ", with a container address " + bindsWithAddress + ", moved to another address " + bindsMoved
                    + "\n  sockets: probes " + socketProbes + ", host alone refused " + socketsHostRefused
                    + ", only merged refused " + socketsOnlyMergedRefused;
        }
    }

    // ------------------------------------------------------------------ the property

    @Test
    void mergedPolicyNeverExceedsTheHostPolicyAlone() throws Exception {
        long seed = Long.getLong(SEED_PROPERTY, DEFAULT_SEED);
        int cases = Integer.getInteger(CASES_PROPERTY, DEFAULT_CASES);
        System.out.println("MergePropertyTest: seed " + seed + " (-D" + SEED_PROPERTY + "=N), " + cases
                + " cases (-D" + CASES_PROPERTY + "=N)");
        long start = System.nanoTime();
        Random master = new Random(seed);
        Stats stats = new Stats();
        List<String> violations = new ArrayList<>();
        for (int i = 0; i < cases; i++) {
            long caseSeed = master.nextLong();
            Random r = new Random(caseSeed);
            while (true) {
                Input in = generate(r, "case " + i + " (seed " + seed + ", case seed " + caseSeed + ")");
                if (check(in, r, stats, violations)) {
                    break;
                }
                stats.hostPoliciesRedrawn++;
            }
            stats.cases++;
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.println("MergePropertyTest: " + ms + " ms; " + stats);
        if (!violations.isEmpty()) {
            violations.forEach(System.out::println);
            fail(violations.size() + " violation(s) of the host ceiling; the first:\n" + violations.get(0));
        }
        // teeth: most cases reach the programs, and every check had something to bite on
        assertTrue(stats.refused * 10 < stats.cases * 3, "too many refused merges: " + stats);
        assertTrue(stats.compared * 10 >= stats.cases * 6, "too few compared cases: " + stats);
        assertTrue(stats.deviceCutByCeiling > 0 && stats.deviceMergedAllowed > 0, stats.toString());
        assertTrue(stats.bindsMade > 0 && stats.bindsWithAddress > 0 && stats.bindsMoved > 0, stats.toString());
        assertTrue(stats.socketsHostRefused > 0, stats.toString());
        assertTrue(stats.withWarnings > 0 && stats.autoBinds > 0, stats.toString());
    }

    /**
     * The host policy alone: a container with no device rules and no cgbpf annotation under the same
     * host policy, with {@code appliesTo: all} so that it applies at all, and {@code runtimeDefaults:
     * none}. The ceiling the administrator wrote is the {@code devices} list over allow-all plus the
     * network keys; runc's implicit rules are not part of it, they are a default of the container's
     * own list (which config.json can already replace wholesale, e.g. privileged's allow-all: runc
     * appends its defaults to whatever the config says). With {@code runc} the host-alone policy
     * would carry a deny-most container list of its own, and every container whose config.json
     * legitimately allows more than runc's defaults would look like a widening. With {@code none}
     * and no rules the host-alone policy has no cgbpf_dev program at all, so its device answers are
     * exactly the ceiling program's.
     */
    static HostPolicy hostAlone(HostPolicy host) {
        return new HostPolicy(host.failurePolicy(), AppliesTo.ALL, false, host.devices(), host.bindMode(),
                host.bindPorts(), host.denySockets(), host.bindAddressPool(), host.shareBindAddresses(), host.limits());
    }

    /**
     * Merges {@code in} and compares the merged policy with the host policy alone on the engine.
     *
     * @return false when the host policy alone does not merge (a bad host policy: redraw it)
     */
    static boolean check(Input in, Random r, Stats stats, List<String> violations) throws Exception {
        HostPolicy host = HostPolicy.from(Json.parse(bytes(in.policyJson()), HostPolicy.File.class, HostPolicy.WHAT),
                DEVICES, Policy.MAX_DEVICE_RULES);
        Policy alone;
        try {
            alone = Policy.merge(config(EMPTY_CONFIG), hostAlone(host), Map.of(), DEVICES, LOCAL);
        } catch (PolicyException e) {
            return false;
        }
        Config config = config(in.configJson());
        Policy merged;
        try {
            merged = Policy.merge(config, host, in.state(), DEVICES, LOCAL);
        } catch (PolicyException e) {
            stats.refuse(reason(e.getMessage()));
            return true;
        }
        if (!merged.applies()) {
            boolean annotated = config.annotations().keySet().stream().anyMatch(k -> k.startsWith(Policy.ANNOTATION_PREFIX))
                    || in.state().keySet().stream().anyMatch(k -> k.startsWith(Policy.ANNOTATION_PREFIX));
            if (host.appliesTo() != AppliesTo.ANNOTATED || annotated) {
                violations.add("the host policy does not apply although it should: " + in.reproduction());
            }
            stats.notApplied++;
            return true;
        }
        if (merged.bindRequest().auto()) {
            // what the hook's lease does when no other container holds an address
            Optional<InetAddress> a = merged.bindRequest().pool().firstFree(Set.of(), any -> true);
            if (a.isEmpty()) {
                stats.refuse("auto: no free address");
                return true;
            }
            merged = merged.withBind(BindAddresses.of(a.get()));
            stats.autoBinds++;
        }
        stats.compared++;
        if (!merged.warnings().isEmpty()) {
            stats.withWarnings++;
        }
        String where = in.reproduction() + "\n  merged: " + merged.describe().strip().replace("\n", "\n    ");
        modelChecks(host, merged, where, violations);
        try (PolicyCheck m = new PolicyCheck(merged); PolicyCheck h = new PolicyCheck(alone)) {
            devices(m, h, merged, r, stats, where, violations);
            binds(m, h, host, merged, in, r, stats, where, violations);
            sockets(m, h, stats, where, violations);
        } catch (HookException e) {
            violations.add("the engine failed on a policy: " + e.getMessage() + "\n" + where);
        }
        return true;
    }

    /** The merged policy's own fields against the host's, without the engine. */
    static void modelChecks(HostPolicy host, Policy merged, String where, List<String> violations) {
        NetworkPolicy n = merged.network();
        if (host.bindMode() == BindMode.DENY && n.bindMode() != BindMode.DENY) {
            violations.add("bind mode: the host's deny became " + n.bindMode() + "\n" + where);
        }
        if (!host.bindPorts().isEmpty() && !PortRange.within(n.bindPorts(), host.bindPorts())) {
            violations.add("bind ports " + n.bindPorts() + " are not within the host's " + host.bindPorts() + "\n" + where);
        }
        if (!n.denySockets().containsAll(host.denySockets())) {
            violations.add("denied sockets " + n.denySockets() + " lack some of the host's " + host.denySockets()
                    + "\n" + where);
        }
        for (InetAddress a : n.bind().all()) {
            if (!host.bindAddressPool().contains(a)) {
                violations.add("bind address " + a.getHostAddress() + " is not in the host's pool\n" + where);
            }
        }
    }

    static void devices(PolicyCheck m, PolicyCheck h, Policy merged, Random r, Stats stats, String where,
                        List<String> violations) throws HookException {
        for (int i = 0; i < DEVICE_PROBES; i++) {
            char type = r.nextInt(3) == 0 ? 'b' : 'c';
            long major = PROBE_NUMBERS[r.nextInt(PROBE_NUMBERS.length)];
            long minor = PROBE_NUMBERS[r.nextInt(PROBE_NUMBERS.length)];
            String access = ACCESSES[r.nextInt(ACCESSES.length)];
            boolean mAllows = m.device(type, (int) major, (int) minor, access);
            boolean hAllows = h.device(type, (int) major, (int) minor, access);
            stats.deviceProbes++;
            if (mAllows) {
                stats.deviceMergedAllowed++;
            }
            if (!hAllows) {
                stats.deviceHostRefused++;
                if (ownListAllows(merged, type, major, minor, access)) {
                    stats.deviceCutByCeiling++;
                }
            }
            if (mAllows && !hAllows) {
                violations.add("device " + type + " " + major + ":" + minor + " " + access
                        + ": the merged policy allows it, the host policy alone refuses it\n" + where);
            }
        }
    }

    /** The container's own list (not the ceiling) on the access, asked as the probe asks: mknod, then one open. */
    static boolean ownListAllows(Policy p, char t, long major, long minor, String access) {
        if (p.devices() == null) {
            return true;
        }
        DeviceType type = t == 'b' ? DeviceType.BLOCK : DeviceType.CHAR;
        int open = Access.parse(access) & (Access.READ | Access.WRITE);
        boolean ok = true;
        if (access.indexOf('m') >= 0) {
            ok = p.devices().allows(type, major, minor, Access.MKNOD);
        }
        return ok && (open == 0 || p.devices().allows(type, major, minor, open));
    }

    static void binds(PolicyCheck m, PolicyCheck h, HostPolicy host, Policy merged, Input in, Random r, Stats stats,
                      String where, List<String> violations) throws UnknownHostException {
        List<Integer> ports = new ArrayList<>();
        for (int p : FIXED_PORTS) {
            ports.add(p);
        }
        for (List<PortRange> list : List.of(host.bindPorts(), merged.network().bindPorts())) {
            for (PortRange pr : list) {
                for (int p : new int[] {pr.first() - 1, pr.first(), pr.last(), pr.last() + 1}) {
                    if (p >= 1 && p <= 65535) {
                        ports.add(p);
                    }
                }
            }
        }
        boolean withAddress = !merged.network().bind().isEmpty();
        for (int i = 0; i < BIND_PROBES; i++) {
            Probe.Family family = r.nextBoolean() ? Probe.Family.INET : Probe.Family.INET6;
            Probe.Proto proto = r.nextBoolean() ? Probe.Proto.TCP : Probe.Proto.UDP;
            String[] addrs = family == Probe.Family.INET ? V4_PROBES : V6_PROBES;
            InetAddress addr = InetAddress.getByName(addrs[r.nextInt(addrs.length)]);
            int port = ports.get(r.nextInt(ports.size()));
            String probe = "bind " + family.scenarioName() + "/" + proto.scenarioName() + " " + addr.getHostAddress()
                    + " port " + port;
            stats.bindProbes++;
            Probe.Bound b;
            try {
                b = m.bind(family, proto, addr, port);
            } catch (BpfException e) {
                continue;
            }
            stats.bindsMade++;
            String made = probe + " -> " + b.addr().getHostAddress() + " port " + b.port();
            if (b.port() != 0 && !host.bindPorts().isEmpty()
                    && host.bindPorts().stream().noneMatch(pr -> pr.contains(b.port()))) {
                violations.add(made + ": the port is outside the host's network.bindPorts " + host.bindPorts() + "\n"
                        + where);
            }
            try {
                Probe.Bound hb = h.bind(family, proto, b.addr(), port);
                if (hb.port() != b.port()) {
                    violations.add(made + ": the host policy alone binds port " + hb.port() + "\n" + where);
                }
            } catch (BpfException e) {
                violations.add(made + ": the host policy alone refuses that bind (" + e.errno() + ")\n" + where);
            }
            if (withAddress) {
                stats.bindsWithAddress++;
                if (!host.bindAddressPool().contains(b.addr()) || !inWrittenBlocks(in.policyJson(), b.addr())) {
                    violations.add(made + ": with a bind address, the socket ended up outside the host's"
                            + " network.bindAddressPool " + host.bindAddressPool() + "\n" + where);
                }
                if (!b.addr().equals(addr)) {
                    stats.bindsMoved++;
                    if (host.bindMode() == BindMode.DENY) {
                        violations.add(made + ": the bind was moved although the host's bind mode is deny\n" + where);
                    }
                }
            }
        }
    }

    static void sockets(PolicyCheck m, PolicyCheck h, Stats stats, String where, List<String> violations) {
        for (Probe.Family family : Probe.Family.values()) {
            for (Object[] kind : SOCKET_KINDS) {
                Probe.SockType type = (Probe.SockType) kind[0];
                int protocol = (Integer) kind[1];
                stats.socketProbes++;
                String hErr = socketErrno(h, family, type, protocol);
                String mErr = socketErrno(m, family, type, protocol);
                if (hErr != null) {
                    stats.socketsHostRefused++;
                } else if (mErr != null) {
                    stats.socketsOnlyMergedRefused++;
                }
                if (hErr != null && mErr == null) {
                    violations.add("socket(" + family.scenarioName() + ", " + type.scenarioName() + ", " + protocol
                            + "): the host policy alone refuses it (" + hErr + "), the merged policy allows it\n"
                            + where);
                }
            }
        }
    }

    /** The errno socket(2) fails with, or null when it succeeds. */
    static String socketErrno(PolicyCheck c, Probe.Family family, Probe.SockType type, int protocol) {
        try {
            c.socket(family, type, protocol);
            return null;
        } catch (BpfException e) {
            return e.errno();
        }
    }

    /**
     * Pool membership by a second, plain reading: the address shares its prefix with one of the
     * blocks the policy text names (or 127.0.0.0/8 when it names none). Not the pool's own rules
     * about network, broadcast and 127.0.0.1, which {@link AddressPool#contains} adds.
     */
    static boolean inWrittenBlocks(String policyJson, InetAddress a) throws UnknownHostException {
        List<String> blocks = new ArrayList<>();
        int at = policyJson.indexOf("\"bindAddressPool\":[");
        if (at < 0) {
            blocks.add("127.0.0.0/8");
        } else {
            String list = policyJson.substring(at + "\"bindAddressPool\":[".length(), policyJson.indexOf(']', at));
            for (String s : list.split(",")) {
                blocks.add(s.replace("\"", "").strip());
            }
        }
        byte[] x = a.getAddress();
        for (String b : blocks) {
            byte[] base = InetAddress.getByName(b.substring(0, b.indexOf('/'))).getAddress();
            int prefix = Integer.parseInt(b.substring(b.indexOf('/') + 1));
            if (base.length != x.length) {
                continue;
            }
            boolean same = true;
            for (int bit = 0; bit < prefix && same; bit++) {
                int mask = 0x80 >>> (bit % 8);
                same = (x[bit / 8] & mask) == (base[bit / 8] & mask);
            }
            if (same) {
                return true;
            }
        }
        return false;
    }

    static String reason(String message) {
        String[] known = {"has no port inside", "is not in the host policy's", "is not an address of this machine",
            "is not a unicast address", "cannot punch a hole", "too many device rules", "deny-sockets raw"};
        for (String k : known) {
            if (message.contains(k)) {
                return k;
            }
        }
        return message;
    }

    static Config config(String json) throws SpecException {
        return Config.parse(bytes(json));
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ generators

    static Input generate(Random r, String name) {
        List<String> blocks = new ArrayList<>();
        String policy = hostJson(r, blocks);
        Map<String, String> ann = annotations(r, blocks);
        Map<String, String> inConfig = new LinkedHashMap<>();
        Map<String, String> state = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : ann.entrySet()) {
            int k = r.nextInt(10);
            if (k < 5) {
                inConfig.put(e.getKey(), e.getValue());
            } else {
                state.put(e.getKey(), e.getValue());
                if (k == 9) {
                    // config.json asks for something else; the runtime's state wins
                    inConfig.put(e.getKey(), Policy.BIND_PORTS.equals(e.getKey()) ? "1-65535" : e.getValue());
                }
            }
        }
        if (r.nextInt(8) == 0) {
            inConfig.put("io.kubernetes.cri-o.Annotations", "x");
        }
        return new Input(name, policy, configJson(r, inConfig, ann.containsKey(Policy.BIND_IP)), state);
    }

    static String q(String s) {
        return "\"" + s + "\"";
    }

    static String hostJson(Random r, List<String> blocks) {
        List<String> f = new ArrayList<>();
        f.add("\"appliesTo\":" + q(r.nextInt(100) < 85 ? "all" : "annotated"));
        if (r.nextBoolean()) {
            f.add("\"runtimeDefaults\":" + q(r.nextBoolean() ? "runc" : "none"));
        }
        int n = new int[] {0, 0, 1, 1, 2, 2, 3, 4, 5}[r.nextInt(9)];
        if (n > 0 || r.nextInt(4) == 0) {
            List<String> rules = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                rules.add(hostRule(r));
            }
            f.add("\"devices\":[" + String.join(",", rules) + "]");
        }
        List<String> net = new ArrayList<>();
        int mode = r.nextInt(3);
        if (mode > 0) {
            net.add("\"bindMode\":" + q(mode == 1 ? "rewrite" : "deny"));
        }
        int ports = r.nextInt(100);
        if (ports >= 45) {
            net.add("\"bindPorts\":" + q(ports < 55 ? "" : portList(r)));
        }
        List<String> sockets = new ArrayList<>();
        for (String w : SOCKET_WORDS) {
            if (r.nextInt(10) == 0) {
                sockets.add(q(w));
            }
        }
        if (!sockets.isEmpty() || r.nextInt(5) == 0) {
            net.add("\"denySockets\":[" + String.join(",", sockets) + "]");
        }
        if (r.nextInt(4) > 0) {
            List<String> texts = new ArrayList<>();
            int k = 1 + r.nextInt(3);
            for (int i = 0; i < k; i++) {
                String b = POOL_BLOCKS[r.nextInt(POOL_BLOCKS.length)][0];
                if (!blocks.contains(b)) {
                    blocks.add(b);
                    texts.add(q(b));
                }
            }
            net.add("\"bindAddressPool\":[" + String.join(",", texts) + "]");
        } else {
            blocks.add("127.0.0.0/8");
        }
        if (!net.isEmpty() || r.nextBoolean()) {
            f.add("\"network\":{" + String.join(",", net) + "}");
        }
        if (r.nextInt(25) == 0) {
            f.add("\"limits\":{\"deviceRules\":" + (3 + r.nextInt(10)) + "}");
        }
        return "{" + String.join(",", f) + "}";
    }

    static String portList(Random r) {
        int k = 1 + r.nextInt(3);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            out.add(PORT_RANGES[r.nextInt(PORT_RANGES.length)]);
        }
        return String.join(",", out);
    }

    static String access(Random r) {
        return ACCESSES[r.nextInt(ACCESSES.length)];
    }

    /** A policy.json device rule: mostly denies (a ceiling over allow-all), wildcards by absence or -1. */
    static String hostRule(Random r) {
        boolean allow = r.nextInt(100) < 25;
        if (r.nextInt(15) == 0) {
            return "{\"allow\":" + allow + ",\"path\":" + q(r.nextBoolean() ? "/dev/null" : "/dev/zero")
                    + ",\"access\":" + q(access(r)) + "}";
        }
        StringBuilder b = new StringBuilder("{\"allow\":" + allow);
        int t = r.nextInt(100);
        if (t < 3) {
            // no type: a
        } else if (t < 6) {
            b.append(",\"type\":\"a\"");
        } else if (t < 65) {
            b.append(",\"type\":\"c\"");
        } else {
            b.append(",\"type\":\"b\"");
        }
        jsonNumber(r, b, "major", MAJORS);
        jsonNumber(r, b, "minor", MINORS);
        return b.append(",\"access\":").append(q(access(r))).append('}').toString();
    }

    static void jsonNumber(Random r, StringBuilder b, String key, long[] values) {
        int k = r.nextInt(100);
        if (k < 15) {
            return;
        }
        b.append(",\"").append(key).append("\":").append(k < 25 ? -1 : values[r.nextInt(values.length)]);
    }

    /**
     * @param bindIp whether the container asks for a bind address: then mostly on the host's
     *               network (a network namespace of its own is refused such an address)
     */
    static String configJson(Random r, Map<String, String> annotations, boolean bindIp) {
        List<String> f = new ArrayList<>();
        f.add("\"ociVersion\":\"1.0.2\"");
        if (!annotations.isEmpty()) {
            f.add("\"annotations\":{" + annotations.entrySet().stream().map(e -> q(e.getKey()) + ":" + q(e.getValue()))
                    .collect(Collectors.joining(",")) + "}");
        }
        int shape = r.nextInt(100);
        if (shape >= 10) {
            List<String> linux = new ArrayList<>();
            List<String> rules = new ArrayList<>();
            if (shape < 18) {
                rules = null;
            } else if (shape < 38) {
                rules.add("{\"allow\":true,\"access\":\"rwm\"}");
            } else if (shape < 68) {
                rules.add("{\"allow\":false,\"access\":\"rwm\"}");
                int k = r.nextInt(4);
                for (int i = 0; i < k; i++) {
                    rules.add(configRule(r, true));
                }
            } else {
                int k = r.nextInt(5);
                for (int i = 0; i < k; i++) {
                    rules.add(configRule(r, r.nextBoolean()));
                }
            }
            if (rules != null) {
                linux.add("\"resources\":{\"devices\":[" + String.join(",", rules) + "]}");
            }
            if (r.nextInt(5) == 0) {
                linux.add(r.nextBoolean() ? "\"devices\":[{\"path\":\"/dev/null\",\"type\":\"c\",\"major\":1,\"minor\":3}]"
                        : "\"devices\":[{\"path\":\"/dev/zero\",\"type\":\"c\",\"major\":1,\"minor\":5}]");
            }
            if (bindIp ? r.nextInt(10) == 0 : r.nextBoolean()) {
                linux.add("\"namespaces\":[{\"type\":\"network\"}]");
            }
            f.add("\"linux\":{" + String.join(",", linux) + "}");
        }
        if (r.nextInt(10) < 3) {
            f.add("\"process\":{\"capabilities\":{\"bounding\":[\"CAP_NET_RAW\"],\"effective\":[\"CAP_NET_RAW\"]}}");
        }
        return "{" + String.join(",", f) + "}";
    }

    /** A config.json linux.resources.devices entry: type absent (a) or empty sometimes, numbers absent or -1. */
    static String configRule(Random r, boolean allow) {
        StringBuilder b = new StringBuilder("{\"allow\":" + allow);
        int t = r.nextInt(100);
        if (t < 5) {
            // no type: a
        } else if (t < 8) {
            b.append(",\"type\":\"\"");
        } else if (t < 60) {
            b.append(",\"type\":\"c\"");
        } else {
            b.append(",\"type\":\"b\"");
        }
        jsonNumber(r, b, "major", MAJORS);
        jsonNumber(r, b, "minor", MINORS);
        return b.append(",\"access\":").append(q(access(r))).append('}').toString();
    }

    /** The cgbpf annotations of a container, each present or not; bind-ip often inside the pool. */
    static Map<String, String> annotations(Random r, List<String> blocks) {
        Map<String, String> a = new LinkedHashMap<>();
        if (r.nextInt(100) < 55) {
            int k = 1 + r.nextInt(4);
            List<String> rules = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                rules.add(annotationRule(r));
            }
            a.put(Policy.DEVICES, String.join(r.nextBoolean() ? ";" : " ; ", rules) + (r.nextInt(4) == 0 ? ";" : ""));
        }
        if (r.nextInt(100) < 35) {
            a.put(Policy.BIND_PORTS, r.nextInt(6) == 0 ? "" : portList(r));
        }
        if (r.nextInt(100) < 25) {
            a.put(Policy.BIND_MODE, r.nextBoolean() ? "rewrite" : "deny");
        }
        if (r.nextInt(100) < 25) {
            List<String> w = new ArrayList<>();
            int k = r.nextInt(3);
            for (int i = 0; i < k; i++) {
                String s = SOCKET_WORDS[r.nextInt(SOCKET_WORDS.length)];
                if (!w.contains(s)) {
                    w.add(s);
                }
            }
            a.put(Policy.DENY_SOCKETS, String.join(",", w));
        }
        if (r.nextInt(100) < 50) {
            int k = r.nextInt(100);
            String ip;
            if (k < 35) {
                ip = "auto";
            } else if (k < 85) {
                String block = blocks.get(r.nextInt(blocks.size()));
                ip = "127.99.3.4";
                for (String[] pb : POOL_BLOCKS) {
                    if (pb[0].equals(block)) {
                        ip = pb[1];
                    }
                }
            } else {
                ip = BIND_IPS[r.nextInt(BIND_IPS.length)];
            }
            a.put(Policy.BIND_IP, ip);
        }
        return a;
    }

    /** A dev.cgbpf.devices rule, often a widening one (allow a *:* rwm, allow with wildcards). */
    static String annotationRule(Random r) {
        int k = r.nextInt(100);
        if (k < 12) {
            return "allow a *:* rwm";
        }
        if (k < 16) {
            return (r.nextBoolean() ? "allow" : "deny") + " /dev/" + (r.nextBoolean() ? "null" : "zero") + " " + access(r);
        }
        String verb = r.nextInt(100) < 75 ? "allow" : "deny";
        String type = k < 20 ? "a" : k < 65 ? "c" : "b";
        return verb + " " + type + " " + annotationNumber(r, MAJORS) + ":" + annotationNumber(r, MINORS) + " "
                + access(r);
    }

    static String annotationNumber(Random r, long[] values) {
        return r.nextInt(4) == 0 ? "*" : Long.toString(values[r.nextInt(values.length)]);
    }

    // ------------------------------------------------------------------ named examples

    /** The two policies of one input, on the engine. */
    record Pair(HostPolicy host, Policy merged, PolicyCheck m, PolicyCheck h) implements AutoCloseable {
        @Override
        public void close() {
            m.close();
            h.close();
        }
    }

    static Pair pair(String policyJson, String configJson, Map<String, String> state) throws Exception {
        HostPolicy host = HostPolicy.from(Json.parse(bytes(policyJson), HostPolicy.File.class, HostPolicy.WHAT),
                DEVICES, Policy.MAX_DEVICE_RULES);
        Policy merged = Policy.merge(config(configJson), host, state, DEVICES, LOCAL);
        Policy alone = Policy.merge(config(EMPTY_CONFIG), hostAlone(host), Map.of(), DEVICES, LOCAL);
        return new Pair(host, merged, new PolicyCheck(merged), new PolicyCheck(alone));
    }

    /** Runs the property's own checks over one named input; no violation expected. */
    static void assertHolds(Input in) throws Exception {
        Stats stats = new Stats();
        List<String> violations = new ArrayList<>();
        assertTrue(check(in, new Random(1), stats, violations), "the host policy alone does not merge");
        assertEquals(List.of(), violations);
        assertEquals(1, stats.compared, stats.toString());
    }

    static final String RUNC_CONFIG = "{\"ociVersion\":\"1.0.2\",\"linux\":{\"resources\":{\"devices\":"
            + "[{\"allow\":false,\"access\":\"rwm\"}]}}}";

    /**
     * Would have failed before the ceiling was its own program: the host's rules sat in the middle of
     * the container's list, so an annotation's "allow a *:* rwm" after them reset the list to allow-all
     * and /dev/zero became writable again.
     */
    @Test
    void annotationAllowAllStaysUnderAHostDeny() throws Exception {
        String policy = "{\"appliesTo\":\"all\",\"devices\":[{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":5,"
                + "\"access\":\"w\"}]}";
        Map<String, String> state = Map.of(Policy.DEVICES, "allow a *:* rwm");
        try (Pair p = pair(policy, RUNC_CONFIG, state)) {
            assertFalse(p.m().device('c', 1, 5, "w"));
            assertFalse(p.m().device('c', 1, 5, "rw"));
            assertFalse(p.h().device('c', 1, 5, "w"));
            assertTrue(p.m().device('c', 1, 5, "r"));
            assertTrue(p.m().device('b', 8, 0, "rwm"), "the container's own allow-all still holds elsewhere");
            assertEquals(1, p.merged().warnings().size(), p.merged().warnings().toString());
        }
        assertHolds(new Input("allow a *:* rwm over deny c 1:5 w", policy, RUNC_CONFIG, state));
    }

    /**
     * Would have failed before: an empty dev.cgbpf.bind-ports replaced the host's ranges with "any
     * port"; now it narrows nothing and the host's 8000-8099 stay.
     */
    @Test
    void emptyBindPortsKeepTheHostRanges() throws Exception {
        String policy = "{\"appliesTo\":\"all\",\"network\":{\"bindPorts\":\"8000-8099\"}}";
        Map<String, String> state = Map.of(Policy.BIND_PORTS, "");
        try (Pair p = pair(policy, EMPTY_CONFIG, state)) {
            assertEquals(List.of(new PortRange(8000, 8099)), p.merged().network().bindPorts());
            InetAddress lo = InetAddress.getByName("127.0.0.1");
            BpfException e = assertThrows(BpfException.class, () -> p.m().bind(Probe.Family.INET, Probe.Proto.TCP, lo, 9000));
            assertEquals("EPERM", e.errno());
            assertThrows(BpfException.class, () -> p.m().bind(Probe.Family.INET6, Probe.Proto.UDP, lo, 7999));
            assertEquals(8050, p.m().bind(Probe.Family.INET, Probe.Proto.TCP, lo, 8050).port());
            assertEquals(0, p.m().bind(Probe.Family.INET, Probe.Proto.UDP, lo, 0).port(), "port 0 always passes");
        }
        assertHolds(new Input("bind-ports \"\" over 8000-8099", policy, EMPTY_CONFIG, state));
    }

    /** Would have failed before: the annotation's bind mode replaced the host's deny. */
    @Test
    void rewriteDoesNotRelaxAHostDeny() throws Exception {
        String policy = "{\"appliesTo\":\"all\",\"network\":{\"bindMode\":\"deny\",\"bindAddressPool\":[\"127.77.0.0/24\"]}}";
        Map<String, String> state = Map.of(Policy.BIND_IP, "127.77.0.5", Policy.BIND_MODE, "rewrite");
        try (Pair p = pair(policy, EMPTY_CONFIG, state)) {
            assertEquals(BindMode.DENY, p.merged().network().bindMode());
            InetAddress any = InetAddress.getByName("0.0.0.0");
            assertThrows(BpfException.class, () -> p.m().bind(Probe.Family.INET, Probe.Proto.TCP, any, 8080));
            InetAddress own = InetAddress.getByName("127.77.0.5");
            assertEquals(own, p.m().bind(Probe.Family.INET, Probe.Proto.TCP, own, 8080).addr());
            assertFalse(p.merged().warnings().isEmpty());
        }
        assertHolds(new Input("bind-mode rewrite over deny", policy, EMPTY_CONFIG, state));
    }

    /** Would have failed before: any local address was taken as the container's; now only the pool's. */
    @Test
    void bindIpOutsideThePoolIsRefused() throws Exception {
        String policy = "{\"appliesTo\":\"all\",\"network\":{\"bindAddressPool\":[\"127.77.0.0/24\"]}}";
        for (String ip : List.of("127.0.0.1", "127.77.0.0", "127.77.0.255", "127.78.0.1", "::1")) {
            PolicyException e = assertThrows(PolicyException.class,
                    () -> pair(policy, EMPTY_CONFIG, Map.of(Policy.BIND_IP, ip)).close(), ip);
            assertTrue(e.getMessage().contains("bindAddressPool") || e.getMessage().contains("unicast"), e.getMessage());
        }
        // auto takes the pool's first address it hands out
        Input auto = new Input("bind-ip auto", policy, EMPTY_CONFIG, Map.of(Policy.BIND_IP, "auto"));
        assertHolds(auto);
    }

    /** A container's empty deny-sockets does not lift the host's. */
    @Test
    void emptyDenySocketsKeepTheHostList() throws Exception {
        String policy = "{\"appliesTo\":\"all\",\"network\":{\"denySockets\":[\"raw\",\"udp\"]}}";
        Map<String, String> state = Map.of(Policy.DENY_SOCKETS, "");
        try (Pair p = pair(policy, "{\"ociVersion\":\"1.0.2\",\"linux\":{\"namespaces\":[{\"type\":\"network\"}]}}",
                state)) {
            assertEquals("EPERM", socketErrno(p.m(), Probe.Family.INET6, Probe.SockType.RAW, 58));
            assertEquals("EPERM", socketErrno(p.m(), Probe.Family.INET, Probe.SockType.DGRAM, 0));
            assertEquals(null, socketErrno(p.m(), Probe.Family.INET, Probe.SockType.STREAM, 0));
        }
        assertHolds(new Input("deny-sockets \"\" over raw,udp", policy, EMPTY_CONFIG, state));
    }
}
