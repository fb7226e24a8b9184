package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Printable;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Resolves a host device path or glob (e.g. {@code /dev/fuse}, {@code /dev/nvidia*}) to the
 * device nodes it names, reading type and numbers from the node itself ({@code unix:mode},
 * {@code unix:rdev}).
 *
 * <p>Containment: the pattern must be absolute, below {@code /dev}, without {@code .} or
 * {@code ..} segments; a symlink is followed only if its target is still below {@code /dev}
 * (an explicit path whose link leaves it is an error, a glob match is skipped). A glob that
 * matches nothing adds no rule (a host without GPUs has no /dev/nvidia*); an explicit path that
 * does not exist or is not a device node is an error.
 */
public final class HostDevices {
    /** More matches than this for one glob is refused: a policy rule should not expand to a whole /dev. */
    public static final int MAX_MATCHES = 4096;
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final String GLOB_CHARS = "*?[]{}\\";

    private final Path devRoot;

    /** The host's /dev. */
    public HostDevices() {
        this(Path.of("/dev"));
    }

    /** A different root standing for /dev, for tests; patterns still start with /dev/. */
    public HostDevices(Path devRoot) {
        this.devRoot = devRoot;
    }

    public List<DeviceNode> resolve(String pattern) throws PolicyException {
        if (pattern.length() > 4096) {
            throw new PolicyException("device path of " + pattern.length() + " characters is too long");
        }
        if (!pattern.startsWith("/dev/")) {
            throw new PolicyException("device path " + Printable.quote(pattern) + " is not below /dev/");
        }
        String rel = pattern.substring("/dev/".length());
        String[] segs = rel.split("/", -1);
        int firstGlob = -1;
        for (int i = 0; i < segs.length; i++) {
            String s = segs[i];
            if (s.isEmpty() || s.equals(".") || s.equals("..")) {
                throw new PolicyException("device path " + Printable.quote(pattern)
                        + " has an empty, '.' or '..' segment");
            }
            if (firstGlob < 0 && s.chars().anyMatch(c -> GLOB_CHARS.indexOf(c) >= 0)) {
                firstGlob = i;
            }
        }
        if (firstGlob < 0) {
            return List.of(node(devRoot.resolve(rel), pattern, true));
        }
        Path base = devRoot;
        for (int i = 0; i < firstGlob; i++) {
            base = base.resolve(segs[i]);
        }
        PathMatcher matcher;
        try {
            matcher = FileSystems.getDefault().getPathMatcher("glob:" + devRoot.resolve(rel));
        } catch (IllegalArgumentException e) {
            throw new PolicyException("device glob " + Printable.quote(pattern) + " is malformed: "
                    + e.getMessage().split("\n")[0]);
        }
        List<DeviceNode> out = new ArrayList<>();
        if (!Files.isDirectory(base, LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        // no FOLLOW_LINKS: a symlinked directory below /dev is not entered
        try (Stream<Path> s = Files.walk(base, segs.length - firstGlob)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(base) || !matcher.matches(p)) {
                    continue;
                }
                DeviceNode n = node(p, "/dev/" + devRoot.relativize(p), false);
                if (n != null) {
                    out.add(n);
                    if (out.size() > MAX_MATCHES) {
                        throw new PolicyException("device glob " + Printable.quote(pattern) + " matches more than "
                                + MAX_MATCHES + " nodes");
                    }
                }
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new PolicyException("device glob " + Printable.quote(pattern) + ": cannot list " + base + ": " + e.getMessage());
        }
        return out;
    }

    /** The node at {@code p}; for a glob match (explicit=false) null when it is not a device or leaves /dev. */
    private DeviceNode node(Path p, String shown, boolean explicit) throws PolicyException {
        try {
            leavesDev(p, shown, explicit);
            Path real = p.toRealPath();
            if (!real.startsWith(devRoot.toRealPath())) {
                if (!explicit) {
                    return null;
                }
                throw new PolicyException("device path " + Printable.quote(shown) + " leads out of /dev (to " + real + ")");
            }
            Map<String, Object> a = Files.readAttributes(real, "unix:mode,rdev");
            int mode = (Integer) a.get("mode");
            long rdev = (Long) a.get("rdev");
            DeviceType type = switch (mode & S_IFMT) {
                case S_IFCHR -> DeviceType.CHAR;
                case S_IFBLK -> DeviceType.BLOCK;
                default -> null;
            };
            if (type == null) {
                if (!explicit) {
                    return null;
                }
                throw new PolicyException("device path " + Printable.quote(shown) + " is not a device node");
            }
            return new DeviceNode(shown, type, major(rdev), minor(rdev));
        } catch (NoSuchFileException e) {
            if (!explicit) {
                return null;
            }
            throw new PolicyException("device path " + Printable.quote(shown) + " does not exist on this host");
        } catch (IOException e) {
            throw new PolicyException("device path " + Printable.quote(shown) + ": " + e.getMessage());
        }
    }

    /**
     * Follows a chain of symlinks lexically (without touching the targets, which may be in /proc
     * and vanish) and refuses one that leaves /dev before anything else is asked of the node.
     */
    private void leavesDev(Path p, String shown, boolean explicit) throws IOException, PolicyException {
        Path at = p;
        for (int hops = 0; hops < 40 && Files.isSymbolicLink(at); hops++) {
            at = at.getParent().resolve(Files.readSymbolicLink(at)).normalize();
            if (!at.startsWith(devRoot)) {
                if (explicit) {
                    throw new PolicyException("device path " + Printable.quote(shown) + " leads out of /dev (to " + at + ")");
                }
                throw new NoSuchFileException(shown);
            }
        }
    }

    /** glibc's gnu_dev_major for the kernel's 64-bit encoding of dev_t (new_encode_dev). */
    static long major(long dev) {
        return ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
    }

    static long minor(long dev) {
        return (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
    }
}
