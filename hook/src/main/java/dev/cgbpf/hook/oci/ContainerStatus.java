package dev.cgbpf.hook.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.compile.DenialCounters;
import dev.cgbpf.hook.compile.DenialReason;
import dev.cgbpf.kernel.CgroupDir;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.MapElem;
import dev.cgbpf.kernel.ObjPin;
import dev.cgbpf.kernel.ProgQuery;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code cgbpf status ID}: what the hook attached to a container, whether the kernel still has
 * it attached to the container's cgroup (BPF_PROG_QUERY), and the denial counters from the
 * pinned map.
 *
 * @param record the container's record
 * @param cgroupExists whether the recorded cgroup directory still exists
 * @param attached per program, whether its id is in the cgroup's attached list (false in a dry run)
 * @param denials per reason (lower-case name), the count; empty when the map is not readable
 */
public record ContainerStatus(AttachRecord record, boolean cgroupExists, Map<String, Boolean> attached,
                              Map<String, Long> denials) {
    private static final ObjectMapper OUT = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    /**
     * The status of every container with the id {@code id} (two runtimes, or two state roots of one,
     * may each run one), or of every container the hook knows when {@code id} is null.
     */
    public static List<ContainerStatus> find(HookSettings settings, String id) throws HookException {
        List<ContainerStatus> out = new ArrayList<>();
        for (RunDir.Entry e : RunDir.records(settings, new HookLog(null))) {
            if (id == null || e.record().id().equals(id)) {
                out.add(of(e.files(), e.record()));
            }
        }
        out.sort((a, b) -> a.record().time().compareTo(b.record().time()));
        return out;
    }

    static ContainerStatus of(ContainerFiles files, AttachRecord r) {
        boolean exists = r.cgroup() != null && Files.isDirectory(Path.of(r.cgroup()), LinkOption.NOFOLLOW_LINKS);
        Map<String, Boolean> attached = new LinkedHashMap<>();
        Map<String, Long> denials = new LinkedHashMap<>();
        if (r.backend().equals(AttachRecord.KERNEL)) {
            Fd cg = null;
            try {
                cg = exists ? CgroupDir.open(Path.of(r.cgroup())) : null;
            } catch (BpfException e) {
                cg = null;
            }
            try {
                for (AttachRecord.Program p : r.programs()) {
                    attached.put(p.name(), cg != null && isAttached(cg, p));
                }
            } finally {
                if (cg != null) {
                    cg.close();
                }
            }
            denials.putAll(counters(files.counters()));
        } else {
            r.programs().forEach(p -> attached.put(p.name(), false));
        }
        return new ContainerStatus(r, exists, attached, denials);
    }

    private static boolean isAttached(Fd cg, AttachRecord.Program p) {
        try {
            ProgQuery.Result q = ProgQuery.progQuery(cg, AttachType.fromScenarioName(p.attachType()).value(), 0, 64, false);
            for (int id : q.progIds()) {
                if (id == p.progId()) {
                    return true;
                }
            }
        } catch (BpfException | IllegalArgumentException e) {
            return false;
        }
        return false;
    }

    /** The counters, read through the pin (read-only open). */
    static Map<String, Long> counters(Path pin) {
        Map<String, Long> out = new LinkedHashMap<>();
        if (!Files.exists(pin, LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        try (Fd map = ObjPin.objGet(pin.toString(), ObjPin.BPF_F_RDONLY)) {
            for (DenialReason reason : DenialReason.values()) {
                byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(reason.key()).array();
                byte[] v = MapElem.lookupElem(map, key, DenialCounters.SPEC.valueSize(), 0);
                out.put(reason.name().toLowerCase(Locale.ROOT), ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong());
            }
        } catch (BpfException e) {
            out.clear();
        }
        return out;
    }

    public String text() {
        StringBuilder b = new StringBuilder();
        AttachRecord r = record;
        b.append("container ").append(r.id()).append(": ");
        if (r.backend().equals(AttachRecord.DRY_RUN)) {
            b.append("DRY RUN, nothing is enforced (bpf(2) was not usable when it started)\n");
        } else {
            b.append(r.status()).append(" by the ").append(r.stage()).append(" hook at ").append(r.time())
                    .append(" (").append(r.mode()).append(")\n");
        }
        b.append("cgroup: ").append(r.cgroup()).append(" (id ").append(Long.toUnsignedString(r.cgroupId()))
                .append(cgroupExists ? ")" : ", gone)").append('\n');
        if (!r.bindAddresses().isEmpty()) {
            b.append("bind address: ").append(String.join(",", r.bindAddresses())).append('\n');
        }
        b.append("programs:\n");
        for (AttachRecord.Program p : r.programs()) {
            b.append(String.format("  %-12s %-22s id %-6d %6d insns  %s%n", p.name(), p.attachType(), p.progId(),
                    p.insns(), attached.getOrDefault(p.name(), false) ? "attached" : "NOT ATTACHED"));
        }
        if (r.programs().isEmpty()) {
            b.append("  (none)\n");
        }
        if (!denials.isEmpty()) {
            b.append("denials:\n");
            denials.forEach((k, v) -> b.append(String.format("  %-16s %d%n", k.replace('_', '-'), v)));
        } else if (r.backend().equals(AttachRecord.KERNEL)) {
            b.append("denials: counter map not readable\n");
        }
        return b.toString();
    }

    public String json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", record.id());
        m.put("backend", record.backend());
        m.put("status", record.status());
        m.put("mode", record.mode());
        m.put("stage", record.stage());
        m.put("cgroup", record.cgroup());
        m.put("cgroupExists", cgroupExists);
        m.put("cgroupId", Long.toUnsignedString(record.cgroupId()));
        m.put("bindAddresses", record.bindAddresses());
        List<Map<String, Object>> progs = new ArrayList<>();
        for (AttachRecord.Program p : record.programs()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("name", p.name());
            pm.put("attachType", p.attachType());
            pm.put("progId", p.progId());
            pm.put("insns", p.insns());
            pm.put("attached", attached.getOrDefault(p.name(), false));
            progs.add(pm);
        }
        m.put("programs", progs);
        m.put("denials", denials);
        try {
            return OUT.writeValueAsString(m) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
