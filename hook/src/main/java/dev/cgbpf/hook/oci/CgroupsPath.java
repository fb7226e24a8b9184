package dev.cgbpf.hook.oci;

import dev.cgbpf.hook.spec.Printable;

import java.util.ArrayList;
import java.util.List;

/**
 * config.json {@code linux.cgroupsPath} as runc and crun read it, reduced to what the container's
 * cgroup v2 path must look like, for the cross-check against /proc/PID/cgroup.
 *
 * <ul>
 * <li>systemd driver, {@code slice:prefix:name}: the cgroup is the scope unit
 *     {@code prefix-name.scope} inside the slice, whose path systemd expands from the slice name's
 *     dashes ({@code machine-app.slice} is {@code /machine.slice/machine-app.slice}); an empty
 *     slice means the runtime's default slice.</li>
 * <li>cgroupfs driver, absolute {@code /a/b}: that path below the hierarchy's root.</li>
 * <li>cgroupfs, relative {@code a/b}: below the runtime's own cgroup, so only the tail is known.</li>
 * <li>absent: the runtime's default, a cgroup named after the container id.</li>
 * </ul>
 *
 * @param suffix components the cgroup path must end with (all of it when {@code absolute})
 * @param absolute true when the path must be exactly {@code suffix}
 * @param text the original value, for messages
 */
public record CgroupsPath(List<String> suffix, boolean absolute, String text) {

    public static CgroupsPath parse(String value, String id) throws HookException {
        if (value == null || value.isEmpty()) {
            return new CgroupsPath(List.of(), false, null);
        }
        if (value.indexOf('\0') >= 0 || value.length() > 4096) {
            throw bad(value, "is not a path");
        }
        String[] colon = value.split(":", -1);
        if (colon.length == 3 && !value.contains("/")) {
            String slice = colon[0];
            String prefix = colon[1];
            String name = colon[2];
            if (name.isEmpty()) {
                throw bad(value, "has no unit name (slice:prefix:name)");
            }
            List<String> parts = new ArrayList<>();
            if (!slice.isEmpty()) {
                parts.addAll(expandSlice(slice, value));
            }
            String unit = name.endsWith(".slice") ? name : (prefix.isEmpty() ? name : prefix + "-" + name) + ".scope";
            checkComponent(unit, value);
            parts.add(unit);
            return new CgroupsPath(List.copyOf(parts), false, value);
        }
        boolean absolute = value.startsWith("/");
        List<String> parts = new ArrayList<>();
        for (String p : value.split("/")) {
            if (p.isEmpty()) {
                continue;
            }
            checkComponent(p, value);
            parts.add(p);
        }
        if (parts.isEmpty()) {
            throw bad(value, "names the root cgroup; a container needs a cgroup of its own");
        }
        return new CgroupsPath(List.copyOf(parts), absolute, value);
    }

    /** systemd's unit-name expansion: {@code a-b-c.slice} lives in /a.slice/a-b.slice/a-b-c.slice. */
    static List<String> expandSlice(String slice, String value) throws HookException {
        if (!slice.endsWith(".slice") || slice.contains("/")) {
            throw bad(value, "has slice " + Printable.quote(slice) + ", not a systemd slice name");
        }
        String base = slice.substring(0, slice.length() - ".slice".length());
        if (base.equals("-")) {
            return List.of();
        }
        if (base.isEmpty() || base.startsWith("-") || base.endsWith("-") || base.contains("--")) {
            throw bad(value, "has an invalid slice name " + Printable.quote(slice));
        }
        List<String> out = new ArrayList<>();
        String acc = "";
        for (String part : base.split("-")) {
            acc = acc.isEmpty() ? part : acc + "-" + part;
            checkComponent(acc + ".slice", value);
            out.add(acc + ".slice");
        }
        return out;
    }

    private static void checkComponent(String c, String value) throws HookException {
        if (c.equals(".") || c.equals("..")) {
            throw bad(value, "has a '" + c + "' component: it would leave the cgroup hierarchy");
        }
    }

    private static HookException bad(String value, String why) {
        return new HookException("config.json: field 'linux.cgroupsPath': " + Printable.quote(value) + " " + why);
    }

    /**
     * Whether the cgroup path {@code components} (from /proc/PID/cgroup, root = empty) is what
     * this cgroupsPath gives; with no cgroupsPath, the last component must name the container.
     */
    public boolean matches(List<String> components, String id) {
        if (text == null) {
            if (components.isEmpty()) {
                return false;
            }
            String last = components.get(components.size() - 1);
            return last.equals(id) || last.endsWith("-" + id + ".scope") || last.equals(id + ".scope");
        }
        if (absolute) {
            // equal, or the tail of it when the runtime ran in a cgroup namespace of its own
            return endsWith(components, suffix);
        }
        return endsWith(components, suffix);
    }

    private static boolean endsWith(List<String> all, List<String> tail) {
        if (tail.size() > all.size()) {
            return false;
        }
        return all.subList(all.size() - tail.size(), all.size()).equals(tail);
    }
}
