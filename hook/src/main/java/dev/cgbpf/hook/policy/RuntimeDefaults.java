package dev.cgbpf.hook.policy;

import dev.cgbpf.hook.spec.Config;

import java.util.ArrayList;
import java.util.List;

/**
 * The device rules runc appends to every container's own (libcontainer/specconv AllowedDevices):
 * mknod of any char or block device, the standard nodes /dev/null, random, full, tty, zero,
 * urandom with rwm, /dev/pts/* (136:*), /dev/ptmx (5:2) and /dev/net/tun (10:200). A default
 * whose path is also in config.json linux.devices is dropped, node and rule both (runc: "the
 * spec one takes priority"), and the spec's node is then NOT allowed implicitly: runc creates
 * linux.devices nodes but adds no cgroup rule for them; engines such as Docker and Podman add
 * the matching linux.resources.devices rule themselves.
 *
 * <p>Because runc appends these after the config's own rules, they override a config.json
 * "deny" of the same device: the cgbpf program, evaluating the same list followed by the host
 * policy and annotations, is where such a device can still be restricted.
 */
public final class RuntimeDefaults {
    private record Default(String path, DeviceType type, long major, long minor, String access) {
    }

    private static final List<Default> RUNC = List.of(
            new Default(null, DeviceType.CHAR, DeviceRule.ANY, DeviceRule.ANY, "m"),
            new Default(null, DeviceType.BLOCK, DeviceRule.ANY, DeviceRule.ANY, "m"),
            new Default("/dev/null", DeviceType.CHAR, 1, 3, "rwm"),
            new Default("/dev/random", DeviceType.CHAR, 1, 8, "rwm"),
            new Default("/dev/full", DeviceType.CHAR, 1, 7, "rwm"),
            new Default("/dev/tty", DeviceType.CHAR, 5, 0, "rwm"),
            new Default("/dev/zero", DeviceType.CHAR, 1, 5, "rwm"),
            new Default("/dev/urandom", DeviceType.CHAR, 1, 9, "rwm"),
            new Default(null, DeviceType.CHAR, 136, DeviceRule.ANY, "rwm"),
            new Default(null, DeviceType.CHAR, 5, 2, "rwm"),
            new Default(null, DeviceType.CHAR, 10, 200, "rwm"));

    private RuntimeDefaults() {
    }

    /** runc's default rules for this config, in runc's order. */
    public static List<DeviceRule> runc(Config config) {
        List<String> specPaths = new ArrayList<>();
        if (config.linux() != null) {
            config.linux().devices().forEach(d -> specPaths.add(d.path()));
        }
        List<DeviceRule> out = new ArrayList<>();
        for (Default d : RUNC) {
            if (d.path() != null && specPaths.contains(d.path())) {
                continue;
            }
            out.add(new DeviceRule(true, d.type(), d.major(), d.minor(), Access.parse(d.access()),
                    "runc default" + (d.path() == null ? "" : " " + d.path())));
        }
        return out;
    }
}
