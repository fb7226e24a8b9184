package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Probe;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The op {@code device}: would a task in the cgroup be allowed this access to a device node?
 * {@code dev} is written as in the devices controller, {@code "c 1:3"} or {@code "b 8:0"};
 * {@code access} a non-empty subset of {@code rwm}.
 */
final class DeviceOp {
    private DeviceOp() {
    }

    private static final Pattern DEV = Pattern.compile("([cb]) (\\d{1,7}):(\\d{1,7})");
    /** dev_t on Linux: MAJOR is 12 bits, MINOR 20 (include/linux/kdev_t.h). */
    static final int MAX_MAJOR = (1 << 12) - 1;
    static final int MAX_MINOR = (1 << 20) - 1;

    static ObjectNode run(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String cgroup = line.path("cgroup").relative();
        Probe.DeviceAccess access = access(line.string("dev"), line.string("access"));
        boolean allowed = s.backend().device(cgroup, access);
        ObjectNode o = Results.ok(line.op());
        o.put("allowed", allowed);
        return o;
    }

    static Probe.DeviceAccess access(String dev, String access) throws MalformedLineException {
        Matcher m = DEV.matcher(dev);
        if (!m.matches()) {
            throw new MalformedLineException("dev '" + dev + "' is not a device like \"c 1:3\" or \"b 8:0\"");
        }
        int major = Integer.parseInt(m.group(2));
        int minor = Integer.parseInt(m.group(3));
        if (major > MAX_MAJOR || minor > MAX_MINOR) {
            throw new MalformedLineException("dev '" + dev + "': major is at most " + MAX_MAJOR
                    + " and minor at most " + MAX_MINOR);
        }
        if (access.isEmpty()) {
            throw new MalformedLineException("access must name at least one of r, w, m");
        }
        for (int i = 0; i < access.length(); i++) {
            char c = access.charAt(i);
            if ("rwm".indexOf(c) < 0) {
                throw new MalformedLineException("access '" + access + "' may hold only r, w and m");
            }
            if (access.indexOf(c) != i) {
                throw new MalformedLineException("access '" + access + "' names '" + c + "' twice");
            }
        }
        return new Probe.DeviceAccess(m.group(1).charAt(0), major, minor, access);
    }
}
