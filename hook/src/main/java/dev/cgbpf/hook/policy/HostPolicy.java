package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Json;
import dev.cgbpf.hook.spec.Printable;
import dev.cgbpf.hook.spec.SpecException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The host policy file ({@code /etc/cgbpf/policy.json}; the shipped default is config/policy.json
 * and equals {@link #DEFAULTS}). Every key is optional; config/README.md documents them.
 *
 * @param failurePolicy what to do when the policy cannot be enforced
 * @param appliesTo which containers get a policy at all
 * @param runtimeDefaults whether runc's implicit device rules are part of the list ({@code runc}) or not ({@code none})
 * @param devices the device ceiling: rules applied to an allow-all list; a container gets at most what
 *                they allow, whatever its own rules say
 * @param bindMode the bind mode; {@code deny} cannot be relaxed by a container
 * @param bindPorts the allowed bind ports (empty: any); a container may only narrow them
 * @param denySockets socket kinds refused in every container the policy applies to
 * @param bindAddressPool the addresses containers may take as their bind address
 * @param shareBindAddresses whether two running containers may hold the same bind address
 * @param limits bounds on what a container's spec may ask for
 */
public record HostPolicy(FailurePolicy failurePolicy, AppliesTo appliesTo, boolean runtimeDefaults,
                         List<DeviceRule> devices, BindMode bindMode, List<PortRange> bindPorts,
                         Set<SocketRule> denySockets, AddressPool bindAddressPool, boolean shareBindAddresses,
                         Limits limits, DeviceProgramChoice deviceProgram) {
    public static final Path DEFAULT_PATH = Path.of("/etc/cgbpf/policy.json");
    public static final String WHAT = "policy.json";

    public static final HostPolicy DEFAULTS = new HostPolicy(FailurePolicy.CLOSED, AppliesTo.ANNOTATED, true,
            List.of(), BindMode.REWRITE, List.of(), Set.of(), AddressPool.DEFAULT, false, Limits.DEFAULTS,
            DeviceProgramChoice.AUTO);

    /**
     * Bounds on a container's own device rules (config.json and the annotation): the hook's time
     * and the program's size grow with them, and every device open in the container walks them.
     *
     * @param deviceRules most device rules a container's spec may carry, before merging
     * @param devicePatterns most distinct patterns one merged list may keep: the largest device
     *                       map (at most {@link Policy#MAX_DEVICE_PATTERNS}); a list compiled to
     *                       the linear shape is held to {@link Policy#MAX_LINEAR_EXCEPTIONS} as well
     */
    public record Limits(int deviceRules, int devicePatterns) {
        public static final Limits DEFAULTS = new Limits(10_000, 1_000_000);
    }

    /** A policy with {@code deviceProgram} auto. */
    public HostPolicy(FailurePolicy failurePolicy, AppliesTo appliesTo, boolean runtimeDefaults,
                      List<DeviceRule> devices, BindMode bindMode, List<PortRange> bindPorts,
                      Set<SocketRule> denySockets, AddressPool bindAddressPool, boolean shareBindAddresses,
                      Limits limits) {
        this(failurePolicy, appliesTo, runtimeDefaults, devices, bindMode, bindPorts, denySockets, bindAddressPool,
                shareBindAddresses, limits, DeviceProgramChoice.AUTO);
    }

    public HostPolicy {
        devices = List.copyOf(devices);
        bindPorts = List.copyOf(bindPorts);
        denySockets = SocketRule.sorted(denySockets);
    }

    /** The file's JSON shape. */
    record File(Integer version, String failurePolicy, String appliesTo, String runtimeDefaults,
                List<DeviceEntry> devices, Network network, LimitsEntry limits, String deviceProgram) {
    }

    record LimitsEntry(Long deviceRules, Long devicePatterns) {
    }

    /** A number rule (type, major, minor) or a path rule (path), each with allow and access. */
    record DeviceEntry(Boolean allow, String type, Long major, Long minor, String path, String access) {
    }

    record Network(String bindMode, String bindPorts, List<String> denySockets, List<String> bindAddressPool,
                   Boolean shareBindAddresses) {
    }

    /**
     * Loads the file; a missing file at the default path means {@link #DEFAULTS} (a host without a
     * policy file still runs annotated containers), a missing file named explicitly is an error.
     */
    public static HostPolicy load(Path path, HostDevices hostDevices, int ruleLimit) throws PolicyException {
        if (path == null || (path.equals(DEFAULT_PATH) && !Files.exists(path))) {
            return DEFAULTS;
        }
        FileStamp stamp = FileStamp.of(path);
        Loaded last = lastLoaded;
        if (stamp != null && last != null && last.stamp().equals(stamp) && last.ruleLimit() == ruleLimit) {
            return last.policy();
        }
        File f;
        try {
            f = Json.read(path, File.class, WHAT);
        } catch (SpecException e) {
            throw new PolicyException(e.getMessage());
        }
        HostPolicy p = from(f, hostDevices, ruleLimit);
        boolean pathRules = f.devices() != null && f.devices().stream().anyMatch(e -> e.path() != null);
        // path rules name what /dev holds now (a GPU appears, a node goes): those are read anew each time
        lastLoaded = stamp == null || pathRules ? null : new Loaded(stamp, ruleLimit, p);
        return p;
    }

    /**
     * The policy this process loaded last, with the file's identity when it was read. A resident
     * daemon starts many containers under one policy file, and parsing a file of 40,000 rules
     * costs tens of ms each time (docs/perf.md, "Device allowlists"); the file is read again as
     * soon as anything about it changes (an edit in place changes its ctime, a replacement its
     * inode).
     */
    private record Loaded(FileStamp stamp, int ruleLimit, HostPolicy policy) {
    }

    private static volatile Loaded lastLoaded;

    /** What identifies one version of a file: path, device and inode, size, mtime and ctime (ns). */
    private record FileStamp(Path path, Object fileKey, long size, Object mtime, Object ctime) {
        /** The stamp, taken before the file is read (a change after it makes the next stamp differ); null if unknown. */
        static FileStamp of(Path path) {
            try {
                Map<String, Object> a = Files.readAttributes(path, "unix:ino,dev,size,lastModifiedTime,ctime");
                return new FileStamp(path.toAbsolutePath().normalize(), List.of(a.get("dev"), a.get("ino")),
                        (Long) a.get("size"), a.get("lastModifiedTime"), a.get("ctime"));
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                return null;
            }
        }
    }

    static HostPolicy from(File f, HostDevices hostDevices, int ruleLimit) throws PolicyException {
        if (f.version() != null && f.version() != 1) {
            throw new PolicyException(WHAT + ": field 'version': " + f.version() + " is not supported (only 1)");
        }
        FailurePolicy failure = switch (f.failurePolicy() == null ? "closed" : f.failurePolicy()) {
            case "closed" -> FailurePolicy.CLOSED;
            case "open" -> FailurePolicy.OPEN;
            default -> throw new PolicyException(WHAT + ": field 'failurePolicy': "
                    + Printable.quote(f.failurePolicy()) + " is not open or closed");
        };
        AppliesTo applies = switch (f.appliesTo() == null ? "annotated" : f.appliesTo()) {
            case "annotated" -> AppliesTo.ANNOTATED;
            case "all" -> AppliesTo.ALL;
            default -> throw new PolicyException(WHAT + ": field 'appliesTo': "
                    + Printable.quote(f.appliesTo()) + " is not all or annotated");
        };
        boolean defaults = switch (f.runtimeDefaults() == null ? "runc" : f.runtimeDefaults()) {
            case "runc" -> true;
            case "none" -> false;
            default -> throw new PolicyException(WHAT + ": field 'runtimeDefaults': "
                    + Printable.quote(f.runtimeDefaults()) + " is not runc or none");
        };
        List<DeviceRule> rules = new ArrayList<>();
        DeviceRuleParser parser = new DeviceRuleParser(hostDevices);
        List<DeviceEntry> entries = f.devices() == null ? List.of() : f.devices();
        for (int i = 0; i < entries.size(); i++) {
            deviceEntry(entries.get(i), "devices[" + i + "]", parser, rules);
            if (rules.size() > ruleLimit) {
                throw new PolicyException("too many device rules: " + WHAT + " has more than " + ruleLimit);
            }
        }
        BindMode mode = BindMode.REWRITE;
        List<PortRange> ports = List.of();
        Set<SocketRule> sockets = EnumSet.noneOf(SocketRule.class);
        AddressPool pool = AddressPool.DEFAULT;
        boolean share = false;
        if (f.network() != null) {
            Network n = f.network();
            if (n.bindMode() != null) {
                mode = BindMode.parse(n.bindMode(), WHAT + ": field 'network.bindMode'");
            }
            if (n.bindPorts() != null) {
                ports = PortRange.parseList(n.bindPorts(), WHAT + ": field 'network.bindPorts'");
            }
            if (n.denySockets() != null) {
                for (int i = 0; i < n.denySockets().size(); i++) {
                    String w = n.denySockets().get(i);
                    sockets.add(SocketRule.parse(w == null ? "null" : w, WHAT + ": field 'network.denySockets[" + i + "]'"));
                }
            }
            if (n.bindAddressPool() != null) {
                pool = AddressPool.parse(n.bindAddressPool(), WHAT + ": field 'network.bindAddressPool'");
            }
            share = Boolean.TRUE.equals(n.shareBindAddresses());
        }
        DeviceProgramChoice program = f.deviceProgram() == null ? DeviceProgramChoice.AUTO
                : DeviceProgramChoice.parse(f.deviceProgram(), WHAT + ": field 'deviceProgram'");
        return new HostPolicy(failure, applies, defaults, rules, mode, ports, sockets, pool, share, limits(f.limits()),
                program);
    }

    private static Limits limits(LimitsEntry e) throws PolicyException {
        if (e == null) {
            return Limits.DEFAULTS;
        }
        return new Limits(
                limit(e.deviceRules(), Limits.DEFAULTS.deviceRules(), Policy.MAX_DEVICE_RULES, "limits.deviceRules"),
                limit(e.devicePatterns(), Limits.DEFAULTS.devicePatterns(), Policy.MAX_DEVICE_PATTERNS,
                        "limits.devicePatterns"));
    }

    private static int limit(Long v, int dflt, int max, String field) throws PolicyException {
        if (v == null) {
            return dflt;
        }
        if (v < 0 || v > max) {
            throw new PolicyException(WHAT + ": field '" + field + "': " + v + " is out of range 0.." + max);
        }
        return v.intValue();
    }

    private static void deviceEntry(DeviceEntry e, String field, DeviceRuleParser parser, List<DeviceRule> out)
            throws PolicyException {
        String where = WHAT + " " + field;
        if (e == null) {
            throw new PolicyException(WHAT + ": field '" + field + "': null");
        }
        if (e.allow() == null) {
            throw new PolicyException(WHAT + ": field '" + field + ".allow': missing (required)");
        }
        int access = Access.parse(e.access());
        if (access < 0) {
            throw new PolicyException(WHAT + ": field '" + field + ".access': " + Printable.quote(e.access())
                    + " is not a non-empty combination of r, w and m");
        }
        if (e.path() != null) {
            if (e.type() != null || e.major() != null || e.minor() != null) {
                throw new PolicyException(WHAT + ": field '" + field + "': give either path or type/major/minor, not both");
            }
            if (e.path().indexOf('\0') >= 0) {
                throw new PolicyException(WHAT + ": field '" + field + ".path': contains a NUL byte");
            }
            parser.pathRules(e.allow(), e.path(), access, where, out);
            return;
        }
        DeviceType type = e.type() == null ? DeviceType.ALL : DeviceType.of(e.type());
        if (type == null) {
            throw new PolicyException(WHAT + ": field '" + field + ".type': " + Printable.quote(e.type())
                    + " is not a, b or c");
        }
        out.add(new DeviceRule(e.allow(), type, number(e.major(), field + ".major"), number(e.minor(), field + ".minor"),
                access, where));
    }

    private static long number(Long n, String field) throws PolicyException {
        if (n == null || n == -1) {
            return DeviceRule.ANY;
        }
        if (n < 0 || n > 0xffffffffL) {
            throw new PolicyException(WHAT + ": field '" + field + "': " + n + " is out of range 0..4294967295");
        }
        return n;
    }
}
