package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * What this host offers cgbpf, for {@code cgbpf doctor}: kernel release, whether bpf(2) is usable,
 * the cgroup layout, bpf file systems, the JIT, and, per attach type, whether a trivial program of
 * the matching type loads and attaches to a scratch cgroup. Rendered as text or as JSON.
 *
 * @param cgroup2Mount where the unified hierarchy is mounted, or null
 * @param jit the value of net.core.bpf_jit_enable, or null when the file is missing
 */
public record HostReport(String kernel, BpfAvailability bpf, CgroupMode cgroupMode, Path cgroup2Mount,
                         List<Path> bpffs, String jit, List<AttachSupport> attachTypes) {

    /** @param detail "attached and detached", or why not (an errno, or why it was not tried) */
    public record AttachSupport(AttachType type, boolean supported, String detail) {
    }

    public HostReport {
        bpffs = List.copyOf(bpffs);
        attachTypes = List.copyOf(attachTypes);
    }

    /** Asks this host. Needs root for the attach checks; without bpf(2) they are reported as not tried. */
    public static HostReport collect() {
        String kernel = read("/proc/sys/kernel/osrelease").orElse(System.getProperty("os.version"));
        BpfAvailability bpf = BpfAvailability.probeNow();
        Optional<CgroupV2Mount> mount = CgroupV2Mount.discover();
        List<AttachSupport> attach = attachSupport(bpf, mount);
        return new HostReport(kernel, bpf, CgroupV2Mount.hostMode(), mount.map(CgroupV2Mount::mountPoint).orElse(null),
                BpfFs.mounts(), read("/proc/sys/net/core/bpf_jit_enable").orElse(null), attach);
    }

    private static Optional<String> read(String path) {
        try {
            return Optional.of(ProcFile.read(Path.of(path)).strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The program type and expected attach type that serve an attach type. */
    static ProgType progTypeFor(AttachType t) {
        return switch (t) {
            case CGROUP_INET_INGRESS, CGROUP_INET_EGRESS -> ProgType.CGROUP_SKB;
            case CGROUP_INET_SOCK_CREATE, CGROUP_INET4_POST_BIND, CGROUP_INET6_POST_BIND -> ProgType.CGROUP_SOCK;
            case CGROUP_SOCK_OPS -> ProgType.SOCK_OPS;
            case CGROUP_DEVICE -> ProgType.CGROUP_DEVICE;
            case CGROUP_INET4_BIND, CGROUP_INET6_BIND, CGROUP_INET4_CONNECT, CGROUP_INET6_CONNECT,
                    CGROUP_UDP4_SENDMSG, CGROUP_UDP6_SENDMSG -> ProgType.CGROUP_SOCK_ADDR;
            case LIRC_MODE2 -> ProgType.LIRC_MODE2;
        };
    }

    private static List<AttachSupport> attachSupport(BpfAvailability bpf, Optional<CgroupV2Mount> mount) {
        List<AttachSupport> out = new ArrayList<>();
        if (!bpf.usable() || mount.isEmpty()) {
            String why = bpf.usable() ? "no cgroup v2 mount" : "bpf(2) unusable";
            for (AttachType t : AttachType.values()) {
                out.add(new AttachSupport(t, false, "not tried: " + why));
            }
            return out;
        }
        byte[] rnd = new byte[4];
        new SecureRandom().nextBytes(rnd);
        Path scratch = mount.get().mountPoint().resolve("cgbpf-doctor-" + ProcessHandle.current().pid() + "-"
                + HexFormat.of().formatHex(rnd));
        try {
            CgroupFs.mkdir(scratch);
        } catch (BpfException e) {
            for (AttachType t : AttachType.values()) {
                out.add(new AttachSupport(t, false, "not tried: cannot make a scratch cgroup: " + e.errno()));
            }
            return out;
        }
        try (Fd cg = CgroupDir.open(scratch)) {
            for (AttachType t : AttachType.values()) {
                out.add(tryAttach(cg, t));
            }
        } catch (BpfException e) {
            out.clear();
            for (AttachType t : AttachType.values()) {
                out.add(new AttachSupport(t, false, "not tried: cannot open the scratch cgroup: " + e.errno()));
            }
        } finally {
            List<String> problems = new ArrayList<>();
            CgroupSession.detachAll(scratch, id -> true, problems);
            LibC.INSTANCE.rmdir(scratch.toString());
        }
        return out;
    }

    private static AttachSupport tryAttach(Fd cg, AttachType t) {
        if (t == AttachType.LIRC_MODE2) {
            return new AttachSupport(t, false, "not a cgroup attach type (attaches to a lirc device); not tried");
        }
        byte[] trivial = TrivialProgram.returning(1);
        ProgType pt = progTypeFor(t);
        try (Fd prog = ProgLoad.progLoad(pt.value(), trivial, "GPL", "cgbpf_doctor", t.value(), 0).fd()) {
            ProgAttach.progAttach(cg, prog, t.value(), EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            ProgAttach.progDetach(cg, prog, t.value());
            return new AttachSupport(t, true, "attached and detached");
        } catch (BpfException e) {
            return new AttachSupport(t, false, e.errno() + " (" + e.getMessage() + ")");
        }
    }

    private String jitMeaning() {
        if (jit == null) {
            return "unknown (no net.core.bpf_jit_enable)";
        }
        return switch (jit) {
            case "0" -> "off: programs run in the kernel's interpreter";
            case "1" -> "on";
            case "2" -> "on, with debug output to the kernel log";
            default -> "net.core.bpf_jit_enable=" + jit;
        };
    }

    public String renderText() {
        StringBuilder b = new StringBuilder();
        line(b, "kernel", kernel);
        line(b, "bpf(2)", bpf.usable() ? "usable" : "unusable: " + bpf.reason());
        line(b, "cgroup mode", cgroupMode.label() + (cgroup2Mount == null ? " (no cgroup2 mount)"
                : " (cgroup2 at " + cgroup2Mount + ")"));
        line(b, "bpffs", bpffs.isEmpty() ? "not mounted (cgbpf mounts it at " + BpfFs.DEFAULT + " when it pins)"
                : String.join(", ", bpffs.stream().map(Path::toString).toList()));
        line(b, "jit", jitMeaning());
        b.append("attach types\n");
        for (AttachSupport a : attachTypes) {
            b.append(String.format("  %-26s %s%n", a.type().scenarioName(), a.supported() ? "supported" : "no: " + a.detail()));
        }
        return b.toString();
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(String.format("%-13s %s%n", key, value));
    }

    public String renderJson() {
        StringBuilder b = new StringBuilder("{");
        b.append("\"kernel\":").append(Json.string(kernel));
        b.append(",\"bpf\":{\"usable\":").append(bpf.usable()).append(",\"reason\":")
                .append(bpf.reason() == null ? "null" : Json.string(bpf.reason())).append('}');
        b.append(",\"cgroup\":{\"mode\":").append(Json.string(cgroupMode.label())).append(",\"mount\":")
                .append(cgroup2Mount == null ? "null" : Json.string(cgroup2Mount.toString())).append('}');
        b.append(",\"bpffs\":[");
        for (int i = 0; i < bpffs.size(); i++) {
            b.append(i == 0 ? "" : ",").append(Json.string(bpffs.get(i).toString()));
        }
        b.append("],\"jit\":{\"value\":").append(jit == null ? "null" : Json.string(jit)).append(",\"meaning\":")
                .append(Json.string(jitMeaning())).append('}');
        b.append(",\"attach_types\":[");
        for (int i = 0; i < attachTypes.size(); i++) {
            AttachSupport a = attachTypes.get(i);
            b.append(i == 0 ? "" : ",").append("{\"name\":").append(Json.string(a.type().scenarioName()))
                    .append(",\"supported\":").append(a.supported()).append(",\"detail\":")
                    .append(Json.string(a.detail())).append('}');
        }
        return b.append("]}").toString();
    }
}
