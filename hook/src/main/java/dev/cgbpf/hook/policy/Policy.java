package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Config;
import dev.cgbpf.hook.spec.Printable;
import dev.cgbpf.hook.spec.SpecException;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The merged policy of one container, ready for the compilers.
 *
 * <p>The host policy is a ceiling; the container's spec can only narrow it (docs/security.md):
 * <ul>
 * <li>devices: two lists, each its own program, and an access must pass both. The container's
 *     list is config.json {@code linux.resources.devices} (runc's reading: absent type is
 *     {@code a}, absent or -1 major and minor are wildcards), runc's implicit defaults (see
 *     {@link RuntimeDefaults}; the host policy can leave them out) and the
 *     {@code dev.cgbpf.devices} annotation, in that order, later rules overriding earlier ones.
 *     The host's list is its {@code devices} rules applied to allow-all;</li>
 * <li>bind ports: the annotation's ranges cut to the host's; bind mode: {@code deny} wins;
 *     refused sockets: the union; bind addresses: only from the host's pool.</li>
 * </ul>
 * A container setting that reaches beyond the ceiling is not applied: the ceiling holds and
 * {@link #warnings()} says which key asked for more.
 *
 * @param applies false when the host policy does not apply to this container: then nothing is compiled
 * @param deviceRules the container's rule list, in order, each with its origin
 * @param devices the container's rules merged into an allowlist; null when it has no device rules
 * @param hostDevices the host policy's device ceiling; null when the host policy has no device rules
 * @param bindRequest how the bind address is had: {@link NetworkPolicy#bind()} is empty until the
 *                    hook picks an address for {@code auto}
 * @param warnings one line per container setting that asked for more than the host policy allows
 */
public record Policy(boolean applies, FailurePolicy failurePolicy, List<DeviceRule> deviceRules,
                     DeviceAllowlist devices, DeviceAllowlist hostDevices, NetworkPolicy network,
                     BindRequest bindRequest, List<String> warnings, DeviceProgramChoice deviceProgram) {

    /** Most device rules a host policy file may hold, and the largest container limit it may set. */
    public static final int MAX_DEVICE_RULES = 200_000;
    /**
     * Most exceptions one merged device list may keep in the linear shape. The device program spends at most 16
     * instructions on one exception (allow-by-default, type, major, minor, a partial access set
     * and, with denial events, the rule index) and the verifier processes each about once
     * (measured on 6.18 with events: 40,000 such exceptions = 640,062 instructions, 680,091
     * processed, 1.0 s; before events and the shorter access test, 18 instructions each: 50,000 =
     * 900,019 instructions, 950,017 processed), so 40,000 stays well inside
     * BPF_COMPLEXITY_LIMIT_INSNS (1,000,000 processed instructions, also the largest program root
     * may load). ProgramsKernelTest loads lists of exactly this size in both modes. The maps shape has no such bound
     * ({@link #MAX_DEVICE_PATTERNS}).
     */
    public static final int MAX_LINEAR_EXCEPTIONS = 40_000;
    /**
     * The largest {@code limits.devicePatterns}: the device map's max_entries. A kernel hash map
     * preallocates its elements (12-byte key, 12-byte value with the event's rule index, about
     * 80 bytes each with the kernel's element header and padding), so 16 Mi patterns would pin
     * about 1.3 GB of kernel memory; the default
     * (1,000,000) is above anything the rule limits let a policy reach.
     */
    public static final int MAX_DEVICE_PATTERNS = 1 << 24;

    public static final String ANNOTATION_PREFIX = "dev.cgbpf.";
    public static final String DEVICES = "dev.cgbpf.devices";
    public static final String BIND_IP = "dev.cgbpf.bind-ip";
    public static final String BIND_MODE = "dev.cgbpf.bind-mode";
    public static final String BIND_PORTS = "dev.cgbpf.bind-ports";
    public static final String DENY_SOCKETS = "dev.cgbpf.deny-sockets";
    public static final Set<String> ANNOTATIONS = Set.of(DEVICES, BIND_IP, BIND_MODE, BIND_PORTS, DENY_SOCKETS);
    private static final String CAP_NET_RAW = "CAP_NET_RAW";
    /** The hook's own network namespace: the runtime's, the host's. */
    private static final Path OWN_NETNS = Path.of("/proc/self/ns/net");
    /** The bind-ip value that asks the hook to pick a free address from the host's pool. */
    public static final String AUTO = "auto";
    /** How the rules of {@code cgbpf update --devices} are named in origins, errors and warnings. */
    public static final String UPDATE_SOURCE = "update --devices";

    /** A policy with {@code deviceProgram} auto. */
    public Policy(boolean applies, FailurePolicy failurePolicy, List<DeviceRule> deviceRules,
                  DeviceAllowlist devices, DeviceAllowlist hostDevices, NetworkPolicy network,
                  BindRequest bindRequest, List<String> warnings) {
        this(applies, failurePolicy, deviceRules, devices, hostDevices, network, bindRequest, warnings,
                DeviceProgramChoice.AUTO);
    }

    public Policy {
        deviceRules = List.copyOf(deviceRules);
        warnings = List.copyOf(warnings);
    }

    /** This policy with the bind addresses the hook picked (or checked) for the container. */
    public Policy withBind(BindAddresses bind) {
        NetworkPolicy n = network;
        return new Policy(applies, failurePolicy, deviceRules, devices, hostDevices,
                new NetworkPolicy(bind, n.bindMode(), n.bindPorts(), n.denySockets()), bindRequest, warnings,
                deviceProgram);
    }

    /**
     * Builds the policy of the container in {@code bundleDir} with the host policy file
     * {@code hostPolicyPath} and the {@code annotations} the runtime passed in its state (they
     * take precedence over config.json's own annotations of the same key).
     */
    public static Policy load(Path bundleDir, Path hostPolicyPath, Map<String, String> annotations)
            throws PolicyException {
        return load(bundleDir, hostPolicyPath, annotations, new HostDevices(), LocalAddresses.HOST);
    }

    public static Policy load(Path bundleDir, Path hostPolicyPath, Map<String, String> annotations,
                              HostDevices hostDevices, LocalAddresses local) throws PolicyException {
        Config config;
        try {
            config = Config.read(bundleDir);
        } catch (SpecException e) {
            throw new PolicyException(e.getMessage());
        }
        HostPolicy host = HostPolicy.load(hostPolicyPath, hostDevices, MAX_DEVICE_RULES);
        return merge(config, host, annotations, hostDevices, local);
    }

    /** The merge itself, on parsed inputs. */
    public static Policy merge(Config config, HostPolicy host, Map<String, String> stateAnnotations,
                               HostDevices hostDevices, LocalAddresses local) throws PolicyException {
        return merge(config, host, stateAnnotations, hostDevices, local, null);
    }

    /**
     * The merge with {@code updateDevices}, the rules of {@code cgbpf update ID --devices} (the
     * annotation's syntax), applied after all the others (null: none). They are container rules
     * like the annotation's: the host's ceiling still holds, and a rule asking for more is a warning.
     */
    public static Policy merge(Config config, HostPolicy host, Map<String, String> stateAnnotations,
                               HostDevices hostDevices, LocalAddresses local, String updateDevices)
            throws PolicyException {
        Map<String, String> ann = new LinkedHashMap<>(config.annotations());
        if (stateAnnotations != null) {
            ann.putAll(stateAnnotations);
        }
        boolean annotated = false;
        for (String k : ann.keySet()) {
            if (k.startsWith(ANNOTATION_PREFIX)) {
                annotated = true;
                if (!ANNOTATIONS.contains(k)) {
                    throw new PolicyException("annotation " + Printable.quote(k) + " is not a cgbpf annotation (known: "
                            + String.join(", ", ANNOTATIONS.stream().sorted().toList()) + ")");
                }
            }
        }
        if (host.appliesTo() == AppliesTo.ANNOTATED && !annotated) {
            return new Policy(false, host.failurePolicy(), List.of(), null, null, NetworkPolicy.NONE,
                    BindRequest.NONE, List.of());
        }
        List<String> warnings = new ArrayList<>();
        HostPolicy.Limits limits = host.limits();

        List<DeviceRule> rules = new ArrayList<>(configRules(config));
        if (host.runtimeDefaults()) {
            rules.addAll(RuntimeDefaults.runc(config));
        }
        checkCount(rules.size(), limits);
        List<DeviceRule> annotationRules = List.of();
        String devText = ann.get(DEVICES);
        if (devText != null) {
            annotationRules = new DeviceRuleParser(hostDevices).parse(devText, "annotation " + DEVICES,
                    limits.deviceRules() - rules.size());
            rules.addAll(annotationRules);
        }
        checkCount(rules.size(), limits);
        List<DeviceRule> updateRules = List.of();
        if (updateDevices != null) {
            updateRules = new DeviceRuleParser(hostDevices).parse(updateDevices, UPDATE_SOURCE,
                    limits.deviceRules() - rules.size());
            rules.addAll(updateRules);
        }
        checkCount(rules.size(), limits);
        int maxPatterns = host.deviceProgram() == DeviceProgramChoice.LINEAR
                ? Math.min(limits.devicePatterns(), MAX_LINEAR_EXCEPTIONS) : limits.devicePatterns();
        DeviceAllowlist devices = rules.isEmpty() ? null : allowlist(false, rules, maxPatterns);
        DeviceAllowlist ceiling = host.devices().isEmpty() ? null : ceiling(host);
        if (ceiling != null) {
            for (DeviceRule r : annotationRules) {
                if (r.allow() && !ceiling.coversAll(r)) {
                    warnings.add("annotation " + DEVICES + ": '" + r.text() + "' asks for more than the host policy"
                            + " allows; the host policy's device rules still apply");
                }
            }
            for (DeviceRule r : updateRules) {
                if (r.allow() && !ceiling.coversAll(r)) {
                    warnings.add(UPDATE_SOURCE + ": '" + r.text() + "' asks for more than the host policy"
                            + " allows; the host policy's device rules still apply");
                }
            }
        }

        BindMode mode = host.bindMode();
        if (ann.containsKey(BIND_MODE)) {
            BindMode asked = BindMode.parse(ann.get(BIND_MODE), "annotation " + BIND_MODE);
            if (asked == BindMode.DENY) {
                mode = BindMode.DENY;
            } else if (mode == BindMode.DENY) {
                warnings.add("annotation " + BIND_MODE + ": 'rewrite' is not applied, the host policy's bind mode"
                        + " is deny");
            }
        }
        List<PortRange> ports = host.bindPorts();
        if (ann.containsKey(BIND_PORTS)) {
            List<PortRange> asked = PortRange.parseList(ann.get(BIND_PORTS), "annotation " + BIND_PORTS);
            ports = PortRange.intersect(host.bindPorts(), asked);
            if (ports.isEmpty() && !host.bindPorts().isEmpty() && !asked.isEmpty()) {
                throw new PolicyException("annotation " + BIND_PORTS + ": " + Printable.quote(ann.get(BIND_PORTS))
                        + " has no port inside the host policy's network.bindPorts " + host.bindPorts());
            }
            if (!PortRange.within(asked, host.bindPorts())) {
                warnings.add("annotation " + BIND_PORTS + ": " + Printable.quote(ann.get(BIND_PORTS))
                        + " asks for more than the host policy's network.bindPorts; allowed: " + ports);
            }
        }
        Set<SocketRule> sockets = EnumSet.noneOf(SocketRule.class);
        sockets.addAll(host.denySockets());
        if (ann.containsKey(DENY_SOCKETS)) {
            sockets.addAll(SocketRule.parseList(ann.get(DENY_SOCKETS), "annotation " + DENY_SOCKETS));
        }

        if (sockets.contains(SocketRule.RAW) && config.mayHold(CAP_NET_RAW)
                && config.sharesNetworkNamespace(OWN_NETNS)) {
            throw new PolicyException("deny-sockets raw: the container keeps CAP_NET_RAW in the host's network"
                    + " namespace, where it could open AF_PACKET sockets, which the cgroup socket hook never sees;"
                    + " drop CAP_NET_RAW or give the container its own network namespace");
        }

        BindAddresses bind = BindAddresses.NONE;
        BindRequest request = BindRequest.NONE;
        String bindText = ann.get(BIND_IP);
        if (bindText != null) {
            String where = "annotation " + BIND_IP;
            if (!config.sharesNetworkNamespace(OWN_NETNS)) {
                // the address is one of the host's: inside a network namespace of its own (a bridge,
                // a pod) it does not exist, so every bind would fail and the container's published
                // ports and pod IP would be unreachable; refused rather than half working
                throw new PolicyException(where + ": the container has a network namespace of its own, where the"
                        + " host's addresses do not exist; a bind address is for containers on the host's network"
                        + " (use it with the host's network, or drop the annotation)");
            }
            boolean auto = bindText.strip().equals(AUTO);
            if (!auto) {
                bind = BindAddresses.parse(bindText, where, local);
                for (InetAddress a : bind.all()) {
                    if (!host.bindAddressPool().contains(a)) {
                        throw new PolicyException(where + ": " + a.getHostAddress() + " is not in the host policy's"
                                + " network.bindAddressPool " + host.bindAddressPool());
                    }
                }
            }
            request = new BindRequest(auto, host.bindAddressPool(), host.shareBindAddresses());
        }
        return new Policy(true, host.failurePolicy(), rules, devices, ceiling,
                new NetworkPolicy(bind, mode, ports, sockets), request, warnings, host.deviceProgram());
    }

    /** The host's ceiling of the host policy merged last, kept with it: the same for every container. */
    private record Ceiling(HostPolicy host, DeviceAllowlist list) {
    }

    private static volatile Ceiling lastCeiling;

    /**
     * The host policy's device rules applied to allow-all. A resident daemon that reuses one
     * loaded host policy ({@link HostPolicy#load}) merges its rules once, not per container.
     */
    private static DeviceAllowlist ceiling(HostPolicy host) throws PolicyException {
        Ceiling last = lastCeiling;
        if (last != null && last.host() == host) {
            return last.list();
        }
        DeviceAllowlist list = allowlist(true, host.devices(), host.deviceProgram() == DeviceProgramChoice.LINEAR
                ? MAX_LINEAR_EXCEPTIONS : MAX_DEVICE_PATTERNS);
        lastCeiling = new Ceiling(host, list);
        return list;
    }

    private static DeviceAllowlist allowlist(boolean defaultAllow, List<DeviceRule> rules, int maxPatterns)
            throws PolicyException {
        DevicesEmulator emu = new DevicesEmulator(defaultAllow);
        for (DeviceRule r : rules) {
            emu.apply(r);
            if (emu.size() > maxPatterns) {
                throw new PolicyException("too many device rules: more than " + maxPatterns
                        + " distinct device patterns after merging (the host policy's limits.devicePatterns"
                        + (maxPatterns == MAX_LINEAR_EXCEPTIONS ? ", or the linear shape's verifier budget" : "")
                        + "; use wildcards)");
            }
        }
        return emu.result();
    }

    /** Whether both device lists allow {@code access} (no list: allowed). */
    public boolean allowsDevice(DeviceType type, long major, long minor, int access) {
        return (devices == null || devices.allows(type, major, minor, access))
                && (hostDevices == null || hostDevices.allows(type, major, minor, access));
    }

    private static void checkCount(int n, HostPolicy.Limits limits) throws PolicyException {
        if (n > limits.deviceRules()) {
            throw new PolicyException("too many device rules: " + n + ", the host policy's limits.deviceRules is "
                    + limits.deviceRules());
        }
    }

    /** config.json linux.resources.devices as runc reads them. */
    static List<DeviceRule> configRules(Config config) {
        List<DeviceRule> out = new ArrayList<>();
        if (config.linux() == null || config.linux().resources() == null) {
            return out;
        }
        List<Config.DeviceCgroup> list = config.linux().resources().devices();
        for (int i = 0; i < list.size(); i++) {
            Config.DeviceCgroup d = list.get(i);
            DeviceType type = d.type() == null || d.type().isEmpty() ? DeviceType.ALL : DeviceType.of(d.type());
            long major = d.major() == null ? DeviceRule.ANY : d.major();
            long minor = d.minor() == null ? DeviceRule.ANY : d.minor();
            out.add(new DeviceRule(d.allow(), type, major, minor, Access.parse(d.access()),
                    "config.json linux.resources.devices[" + i + "]"));
        }
        return out;
    }

    /** A human-readable account for {@code cgbpf policy explain}. */
    public String describe() {
        if (!applies) {
            return "the host policy does not apply to this container (no dev.cgbpf.* annotation, appliesTo=annotated)\n";
        }
        StringBuilder b = new StringBuilder();
        b.append("failure policy: ").append(failurePolicy.name().toLowerCase()).append('\n');
        b.append("device rules in order (").append(deviceRules.size()).append("):\n");
        int shown = 0;
        for (DeviceRule r : deviceRules) {
            if (++shown > 200) {
                b.append("  ... ").append(deviceRules.size() - 200).append(" more\n");
                break;
            }
            b.append("  ").append(r).append('\n');
        }
        if (devices != null) {
            b.append("merged: ").append(devices.describe());
        } else {
            b.append("merged: no device rules, no device program\n");
        }
        if (hostDevices != null) {
            b.append("host policy ceiling (a second device program; an access must pass both): ")
                    .append(hostDevices.describe());
        }
        NetworkPolicy n = network;
        b.append("bind addresses: ").append(bindRequest.auto() && n.bind().isEmpty()
                        ? "auto (the first free address of " + bindRequest.pool() + ", picked at start)"
                        : n.bind().isEmpty() ? "(none)" : n.bind().toString())
                .append(", mode ").append(n.bindMode().name().toLowerCase()).append('\n');
        b.append("bind ports: ").append(n.bindPorts().isEmpty() ? "any" : n.bindPorts().toString()).append('\n');
        b.append("denied sockets: ").append(n.denySockets().isEmpty() ? "(none)"
                : n.denySockets().stream().map(SocketRule::word).sorted().toList()).append('\n');
        for (String w : warnings) {
            b.append("warning: ").append(w).append('\n');
        }
        return b.toString();
    }
}
