package dev.cgbpf.hook.spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The parts of a bundle's config.json (runtime-spec config.md, config-linux.md) that cgbpf reads.
 * Unknown fields are ignored; the fields here are checked for the types the spec gives them.
 *
 * @param ociVersion required by the spec
 * @param annotations the container's annotations, may be absent
 * @param hooks the POSIX hooks, may be absent
 * @param linux the Linux section, may be absent
 */
public record Config(String ociVersion, Map<String, String> annotations, Hooks hooks, Linux linux,
                     Process process) {
    public static final String FILE = "config.json";

    public Config {
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
    }

    /** {@code linux}: devices are the nodes the runtime creates, resources.devices the cgroup rules. */
    public record Linux(Resources resources, List<LinuxDevice> devices, String cgroupsPath,
                        List<Namespace> namespaces) {
        public Linux {
            devices = devices == null ? List.of() : List.copyOf(devices);
            namespaces = namespaces == null ? List.of() : List.copyOf(namespaces);
        }
    }

    /** One entry of {@code linux.namespaces}: a new namespace of {@code type}, or the one at {@code path}. */
    public record Namespace(String type, String path) {
    }

    /** {@code process}: only the capabilities matter here. */
    public record Process(Capabilities capabilities) {
    }

    /** {@code process.capabilities}: the five sets, each a list of names such as CAP_NET_RAW. */
    public record Capabilities(List<String> bounding, List<String> effective, List<String> inheritable,
                               List<String> permitted, List<String> ambient) {
        /** Whether any set names {@code cap}. */
        public boolean any(String cap) {
            for (List<String> set : java.util.Arrays.asList(bounding, effective, inheritable, permitted, ambient)) {
                if (set != null && set.contains(cap)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Whether the container's process may hold {@code cap} (no capabilities section: none). */
    public boolean mayHold(String cap) {
        return process != null && process.capabilities() != null && process.capabilities().any(cap);
    }

    /**
     * Whether the container runs in the network namespace of the process reading this (the
     * runtime's, the host's): no {@code network} entry in {@code linux.namespaces}, or one whose
     * path is that namespace. A new namespace of its own, or another container's, is not.
     */
    public boolean sharesNetworkNamespace(java.nio.file.Path own) {
        if (linux != null) {
            for (Namespace n : linux.namespaces()) {
                if (n != null && "network".equals(n.type())) {
                    if (n.path() == null || n.path().isEmpty()) {
                        return false;
                    }
                    try {
                        return java.nio.file.Files.isSameFile(java.nio.file.Path.of(n.path()), own);
                    } catch (java.io.IOException | java.nio.file.InvalidPathException e) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** {@code linux.resources}: only the device cgroup rules matter here. */
    public record Resources(List<DeviceCgroup> devices) {
        public Resources {
            devices = devices == null ? List.of() : List.copyOf(devices);
        }
    }

    /**
     * One entry of {@code linux.resources.devices}: allow is required; type {@code a}, {@code b}
     * or {@code c} (absent means {@code a}); an absent major or minor is a wildcard; access a
     * string of r, w, m (runc refuses an empty one).
     */
    public record DeviceCgroup(Boolean allow, String type, Long major, Long minor, String access) {
    }

    /** One entry of {@code linux.devices}: a node the runtime makes in the container's /dev. */
    public record LinuxDevice(String path, String type, Long major, Long minor, Integer fileMode, Long uid, Long gid) {
    }

    /** {@code hooks}: each stage a list of commands (prestart is deprecated but runc 1.1 and crun run it). */
    public record Hooks(List<Hook> prestart, List<Hook> createRuntime, List<Hook> createContainer,
                        List<Hook> startContainer, List<Hook> poststart, List<Hook> poststop) {
    }

    /** One hook command: path required, absolute; timeout in seconds, greater than zero. */
    public record Hook(String path, List<String> args, List<String> env, Integer timeout) {
    }

    /** Reads and validates {@code BUNDLE/config.json}; errors start with "config.json: ". */
    public static Config read(Path bundle) throws SpecException {
        return parse(Json.readBytes(bundle.resolve(FILE), FILE));
    }

    public static Config parse(byte[] json) throws SpecException {
        return Json.parse(json, Config.class, FILE).validate();
    }

    Config validate() throws SpecException {
        String what = FILE;
        if (ociVersion == null || ociVersion.isBlank()) {
            throw new SpecException(what + ": field 'ociVersion': missing");
        }
        Annotations.check(annotations, what);
        if (hooks != null) {
            checkHooks("prestart", hooks.prestart());
            checkHooks("createRuntime", hooks.createRuntime());
            checkHooks("createContainer", hooks.createContainer());
            checkHooks("startContainer", hooks.startContainer());
            checkHooks("poststart", hooks.poststart());
            checkHooks("poststop", hooks.poststop());
        }
        if (linux == null) {
            return this;
        }
        if (linux.cgroupsPath() != null && linux.cgroupsPath().indexOf('\0') >= 0) {
            throw new SpecException(what + ": field 'linux.cgroupsPath': contains a NUL byte");
        }
        if (linux.resources() != null) {
            List<DeviceCgroup> rules = linux.resources().devices();
            for (int i = 0; i < rules.size(); i++) {
                checkRule(rules.get(i), "linux.resources.devices[" + i + "]");
            }
        }
        for (int i = 0; i < linux.devices().size(); i++) {
            checkNode(linux.devices().get(i), "linux.devices[" + i + "]");
        }
        return this;
    }

    private static void checkHooks(String stage, List<Hook> list) throws SpecException {
        if (list == null) {
            return;
        }
        for (int i = 0; i < list.size(); i++) {
            Hook h = list.get(i);
            String f = "hooks." + stage + "[" + i + "]";
            if (h == null) {
                throw new SpecException(FILE + ": field '" + f + "': null");
            }
            if (h.path() == null || !h.path().startsWith("/")) {
                throw new SpecException(FILE + ": field '" + f + ".path': " + Printable.quote(h.path())
                        + " is not an absolute path");
            }
            if (h.timeout() != null && h.timeout() <= 0) {
                throw new SpecException(FILE + ": field '" + f + ".timeout': " + h.timeout() + " is not greater than zero");
            }
        }
    }

    private static void checkRule(DeviceCgroup d, String f) throws SpecException {
        if (d == null) {
            throw new SpecException(FILE + ": field '" + f + "': null");
        }
        if (d.allow() == null) {
            throw new SpecException(FILE + ": field '" + f + ".allow': missing (required)");
        }
        if (d.type() != null && !d.type().isEmpty() && !List.of("a", "b", "c").contains(d.type())) {
            throw new SpecException(FILE + ": field '" + f + ".type': " + Printable.quote(d.type())
                    + " is not a device cgroup type (a, b or c)");
        }
        checkRuleNumber(d.major(), f + ".major");
        checkRuleNumber(d.minor(), f + ".minor");
        // runc: "device access at %d field cannot be empty"
        if (d.access() == null || d.access().isEmpty()) {
            throw new SpecException(FILE + ": field '" + f + ".access': missing or empty");
        }
        if (!d.access().matches("[rwm]+")) {
            throw new SpecException(FILE + ": field '" + f + ".access': " + Printable.quote(d.access())
                    + " is not a combination of r, w and m");
        }
    }

    private static void checkNode(LinuxDevice d, String f) throws SpecException {
        if (d == null) {
            throw new SpecException(FILE + ": field '" + f + "': null");
        }
        if (d.path() == null || !d.path().startsWith("/") || d.path().indexOf('\0') >= 0) {
            throw new SpecException(FILE + ": field '" + f + ".path': " + Printable.quote(d.path()) + " is not an absolute path");
        }
        // runc's stringToDeviceRune: p (fifo), u and c (char), b (block)
        if (d.type() == null || !List.of("c", "b", "u", "p").contains(d.type())) {
            throw new SpecException(FILE + ": field '" + f + ".type': " + Printable.quote(d.type())
                    + " is not a device type (c, b, u or p)");
        }
        if (!d.type().equals("p")) {
            if (d.major() == null || d.minor() == null) {
                throw new SpecException(FILE + ": field '" + f + "': a " + d.type() + " device needs major and minor");
            }
        }
        checkNumber(d.major(), f + ".major");
        checkNumber(d.minor(), f + ".minor");
    }

    /** In a cgroup rule runc reads -1 as "any", like an absent number (its own encoding of a wildcard). */
    private static void checkRuleNumber(Long n, String f) throws SpecException {
        if (n == null || n != -1) {
            checkNumber(n, f);
        }
    }

    /** Device numbers are u32 in the kernel's device cgroup context. */
    private static void checkNumber(Long n, String f) throws SpecException {
        if (n != null && (n < 0 || n > 0xffffffffL)) {
            throw new SpecException(FILE + ": field '" + f + "': " + n + " is out of range 0.." + 0xffffffffL);
        }
    }
}
