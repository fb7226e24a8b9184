package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Config;
import dev.cgbpf.hook.spec.Printable;
import dev.cgbpf.hook.spec.SpecException;

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
 * <p>Device rules are merged in this order, later rules overriding earlier ones: config.json
 * {@code linux.resources.devices} (runc's reading: absent type is {@code a}, absent or -1 major
 * and minor are wildcards), runc's implicit defaults (see {@link RuntimeDefaults}; the host policy
 * can leave them out), the host policy's {@code devices}, the {@code dev.cgbpf.devices}
 * annotation. Network settings: the host policy's defaults, overridden per key by annotations.
 *
 * @param applies false when the host policy does not apply to this container: then nothing is compiled
 * @param deviceRules the merged rule list, in order, each with its origin
 * @param devices the rules merged into an allowlist; null when there are no device rules at all
 */
public record Policy(boolean applies, FailurePolicy failurePolicy, List<DeviceRule> deviceRules,
                     DeviceAllowlist devices, NetworkPolicy network) {

    /** Most device rules accepted from all sources together, before merging. */
    public static final int MAX_DEVICE_RULES = 200_000;
    /**
     * Most exceptions the merged device list may keep. The device program spends at most 18
     * instructions on one exception (allow-by-default, type, major, minor and a partial access
     * set) and the verifier processes each exactly once (measured on 6.18: 50,000 such exceptions
     * = 900,019 instructions, 950,017 processed, 0.5 s), so 40,000 keeps the program below 720,000
     * instructions and the verification below 760,000 of BPF_COMPLEXITY_LIMIT_INSNS (1,000,000
     * processed instructions, also the largest program root may load). ProgramsKernelTest loads
     * lists of exactly this size in both modes.
     */
    public static final int MAX_DEVICE_EXCEPTIONS = 40_000;

    public static final String ANNOTATION_PREFIX = "dev.cgbpf.";
    public static final String DEVICES = "dev.cgbpf.devices";
    public static final String BIND_IP = "dev.cgbpf.bind-ip";
    public static final String BIND_MODE = "dev.cgbpf.bind-mode";
    public static final String BIND_PORTS = "dev.cgbpf.bind-ports";
    public static final String DENY_SOCKETS = "dev.cgbpf.deny-sockets";
    public static final Set<String> ANNOTATIONS = Set.of(DEVICES, BIND_IP, BIND_MODE, BIND_PORTS, DENY_SOCKETS);

    public Policy {
        deviceRules = List.copyOf(deviceRules);
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
            return new Policy(false, host.failurePolicy(), List.of(), null, NetworkPolicy.NONE);
        }

        List<DeviceRule> rules = new ArrayList<>(configRules(config));
        if (host.runtimeDefaults()) {
            rules.addAll(RuntimeDefaults.runc(config));
        }
        rules.addAll(host.devices());
        checkCount(rules.size());
        String devText = ann.get(DEVICES);
        if (devText != null) {
            rules.addAll(new DeviceRuleParser(hostDevices).parse(devText, "annotation " + DEVICES,
                    MAX_DEVICE_RULES - rules.size()));
        }
        checkCount(rules.size());
        DeviceAllowlist devices = null;
        if (!rules.isEmpty()) {
            DevicesEmulator emu = new DevicesEmulator();
            for (DeviceRule r : rules) {
                emu.apply(r);
                if (emu.size() > MAX_DEVICE_EXCEPTIONS) {
                    throw new PolicyException("too many device rules: more than " + MAX_DEVICE_EXCEPTIONS
                            + " distinct device patterns after merging (limit from the kernel verifier's budget; "
                            + "use wildcards)");
                }
            }
            devices = emu.result();
        }

        BindAddresses bind = BindAddresses.NONE;
        if (ann.containsKey(BIND_IP)) {
            bind = BindAddresses.parse(ann.get(BIND_IP), "annotation " + BIND_IP, local);
        }
        BindMode mode = ann.containsKey(BIND_MODE) ? BindMode.parse(ann.get(BIND_MODE), "annotation " + BIND_MODE)
                : host.bindMode();
        List<PortRange> ports = ann.containsKey(BIND_PORTS)
                ? PortRange.parseList(ann.get(BIND_PORTS), "annotation " + BIND_PORTS) : host.bindPorts();
        Set<SocketRule> sockets = EnumSet.noneOf(SocketRule.class);
        sockets.addAll(host.denySockets());
        if (ann.containsKey(DENY_SOCKETS)) {
            sockets.addAll(SocketRule.parseList(ann.get(DENY_SOCKETS), "annotation " + DENY_SOCKETS));
        }
        return new Policy(true, host.failurePolicy(), rules, devices, new NetworkPolicy(bind, mode, ports, sockets));
    }

    private static void checkCount(int n) throws PolicyException {
        if (n > MAX_DEVICE_RULES) {
            throw new PolicyException("too many device rules: " + n + ", the limit is " + MAX_DEVICE_RULES);
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
        NetworkPolicy n = network;
        b.append("bind addresses: ").append(n.bind().isEmpty() ? "(none)" : n.bind().toString())
                .append(", mode ").append(n.bindMode().name().toLowerCase()).append('\n');
        b.append("bind ports: ").append(n.bindPorts().isEmpty() ? "any" : n.bindPorts().toString()).append('\n');
        b.append("denied sockets: ").append(n.denySockets().isEmpty() ? "(none)"
                : n.denySockets().stream().map(SocketRule::word).sorted().toList()).append('\n');
        return b.toString();
    }
}
