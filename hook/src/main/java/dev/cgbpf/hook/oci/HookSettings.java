package dev.cgbpf.hook.oci;

import dev.cgbpf.hook.policy.HostPolicy;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Where the hook keeps things and which backend it uses. The defaults are the installed layout;
 * environment variables override each one, which lets a test (or a second installation) use
 * its own directories without touching the host's:
 *
 * <ul>
 * <li>{@code CGBPF_POLICY}: the host policy file (default /etc/cgbpf/policy.json)</li>
 * <li>{@code CGBPF_RUN_DIR}: per-container records, {@code <dir>/<cgroup id>/state.json} (default /run/cgbpf)</li>
 * <li>{@code CGBPF_PIN_DIR}: per-container pins, {@code <dir>/<cgroup id>/} (default /sys/fs/bpf/cgbpf); must lie on a bpffs</li>
 * <li>{@code CGBPF_LOG_FILE}: the hook's log (default /var/log/cgbpf/hook.log; "-" for none)</li>
 * <li>{@code CGBPF_BACKEND}: {@code kernel} (the default) or {@code dry-run}: verify and record what would be
 *     attached, enforce nothing. A real stage never falls back to a dry run by itself.</li>
 * <li>{@code CGBPF_ATTACH}: {@code link} (bpf_link, the default) or {@code attach} (BPF_PROG_ATTACH); see docs/hook.md</li>
 * </ul>
 */
public record HookSettings(Path policy, Path runDir, Path pinDir, Path logFile, BackendMode backend,
                           AttachMode attachMode, Path procRoot) {
    public static final Path RUN_DIR = Path.of("/run/cgbpf");
    public static final Path PIN_DIR = Path.of("/sys/fs/bpf/cgbpf");
    public static final Path LOG_FILE = Path.of("/var/log/cgbpf/hook.log");

    /** Which backend the attach stage uses: the kernel, or a dry run only when asked for. */
    public enum BackendMode {
        KERNEL, DRY_RUN;

        static BackendMode parse(String s) throws HookException {
            return switch (s) {
                case "kernel" -> KERNEL;
                case "dry-run" -> DRY_RUN;
                case "auto" -> throw new HookException("CGBPF_BACKEND='auto' is no longer accepted: a hook stage never"
                        + " falls back to a dry run; use kernel, or dry-run to enforce nothing on purpose");
                default -> throw new HookException("CGBPF_BACKEND='" + s + "' is not kernel or dry-run");
            };
        }
    }

    /** How programs are attached to the container's cgroup. */
    public enum AttachMode {
        /** BPF_LINK_CREATE, the link pinned: the attachment cannot be removed by BPF_PROG_DETACH. */
        LINK,
        /** BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI, the program pinned. */
        ATTACH;

        String word() {
            return name().toLowerCase(Locale.ROOT);
        }

        static AttachMode parse(String s) throws HookException {
            return switch (s) {
                case "link" -> LINK;
                case "attach" -> ATTACH;
                default -> throw new HookException("CGBPF_ATTACH='" + s + "' is not link or attach");
            };
        }
    }

    public static HookSettings defaults() {
        return new HookSettings(HostPolicy.DEFAULT_PATH, RUN_DIR, PIN_DIR, LOG_FILE, BackendMode.KERNEL,
                AttachMode.LINK, Path.of("/proc"));
    }

    /** The defaults with the overrides of {@code env} (the process environment in production). */
    public static HookSettings fromEnvironment(Map<String, String> env) throws HookException {
        HookSettings d = defaults();
        return new HookSettings(
                path(env, "CGBPF_POLICY", d.policy),
                path(env, "CGBPF_RUN_DIR", d.runDir),
                path(env, "CGBPF_PIN_DIR", d.pinDir),
                "-".equals(env.get("CGBPF_LOG_FILE")) ? null : path(env, "CGBPF_LOG_FILE", d.logFile),
                env.containsKey("CGBPF_BACKEND") ? BackendMode.parse(env.get("CGBPF_BACKEND")) : d.backend,
                env.containsKey("CGBPF_ATTACH") ? AttachMode.parse(env.get("CGBPF_ATTACH")) : d.attachMode,
                d.procRoot);
    }

    private static Path path(Map<String, String> env, String key, Path dflt) throws HookException {
        String v = env.get(key);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        Path p = Path.of(v);
        if (!p.isAbsolute() || !p.normalize().equals(p) || v.indexOf('\0') >= 0) {
            throw new HookException(key + "='" + v + "' is not an absolute normalized path");
        }
        return p;
    }

    public HookSettings withProcRoot(Path proc) {
        return new HookSettings(policy, runDir, pinDir, logFile, backend, attachMode, proc);
    }

    public HookSettings withBackend(BackendMode mode) {
        return new HookSettings(policy, runDir, pinDir, logFile, mode, attachMode, procRoot);
    }

    /** Where the records and pins of the container in the cgroup with id {@code cgroupId} live. */
    public ContainerFiles files(long cgroupId) {
        String key = Long.toUnsignedString(cgroupId);
        return new ContainerFiles(key, runDir.resolve(key), pinDir.resolve(key));
    }
}
