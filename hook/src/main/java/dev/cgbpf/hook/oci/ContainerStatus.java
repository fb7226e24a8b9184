package dev.cgbpf.hook.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.hook.compile.DenialReason;
import dev.cgbpf.kernel.CgroupV2Mount;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
    /** Only {@code cgbpf status --json} needs a mapper: a hook stage never builds one (docs/perf.md). */
    private static final class Out {
        static final ObjectMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    }

    /**
     * The containers with id {@code idOrPrefix}, or else with the one id that starts with it
     * (podman and Docker print ids cut to 12 characters); a prefix of two or more ids is a
     * one-line error naming a few of them; nothing found is an empty list.
     */
    public static List<ContainerStatus> findByIdOrPrefix(HookSettings settings, String idOrPrefix)
            throws HookException {
        List<RunDir.Entry> all = RunDir.records(settings, new HookLog(null));
        java.util.SortedSet<String> ids = new java.util.TreeSet<>();
        for (RunDir.Entry e : all) {
            if (e.record().id().startsWith(idOrPrefix)) {
                ids.add(e.record().id());
            }
        }
        boolean exact = ids.contains(idOrPrefix);
        if (!exact && ids.size() > 1) {
            List<String> some = ids.stream().limit(3).toList();
            throw new HookException("id prefix " + idOrPrefix + " matches " + ids.size() + " containers ("
                    + String.join(", ", some) + (ids.size() > some.size() ? ", ..." : "") + "): give more of the id");
        }
        String chosen = exact || ids.isEmpty() ? idOrPrefix : ids.first();
        return statusOf(settings, all.stream().filter(e -> e.record().id().equals(chosen)).toList());
    }

    /**
     * The status of every container with the id {@code id} (two runtimes, or two state roots of one,
     * may each run one), or of every container the hook knows when {@code id} is null. The kernel
     * is asked through a {@link HookBackend} when a record is of the kernel.
     */
    public static List<ContainerStatus> find(HookSettings settings, String id) throws HookException {
        return statusOf(settings, RunDir.records(settings, new HookLog(null)).stream()
                .filter(e -> id == null || e.record().id().equals(id)).toList());
    }

    /** The status of these records, oldest first; one kernel backend for all that need it. */
    private static List<ContainerStatus> statusOf(HookSettings settings, List<RunDir.Entry> mine)
            throws HookException {
        List<ContainerStatus> out = new ArrayList<>();
        HookBackend kernel = null;
        try {
            for (RunDir.Entry e : mine) {
                if (kernel == null && e.record().backend().equals(AttachRecord.KERNEL)) {
                    kernel = openKernel(settings);
                }
                out.add(of(e.files(), e.record(), kernel));
            }
        } finally {
            if (kernel != null) {
                kernel.close();
            }
        }
        out.sort((a, b) -> a.record().time().compareTo(b.record().time()));
        return out;
    }

    private static HookBackend openKernel(HookSettings settings) throws HookException {
        CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow(() -> new HookException(
                "no cgroup v2 (unified) hierarchy is mounted: cannot ask the kernel about the containers"));
        return HookBackend.kernel(v2.mountPoint(), settings.pinDir());
    }

    /** @param kernel the kernel's backend for a record of the kernel; null for a dry run's */
    static ContainerStatus of(ContainerFiles files, AttachRecord r, HookBackend kernel) {
        boolean exists = ContainerCgroup.liveness(r.cgroup(), r.cgroupId()) != ContainerCgroup.Liveness.GONE;
        Map<String, Boolean> attached = new LinkedHashMap<>();
        Map<String, Long> denials = new LinkedHashMap<>();
        String cgroup = kernel == null || !exists ? null : kernel.cgroupOf(r.cgroup());
        for (AttachRecord.Program p : r.programs()) {
            attached.put(p.name(), cgroup != null && isAttached(kernel.backend(), cgroup, p));
        }
        if (kernel != null) {
            denials.putAll(counters(kernel.backend(), files.counters()));
        }
        return new ContainerStatus(r, exists, attached, denials);
    }

    private static boolean isAttached(Backend b, String cgroup, AttachRecord.Program p) {
        try {
            return b.isAttached(cgroup, p.attachType(), p.progId());
        } catch (BpfException | IllegalArgumentException e) {
            return false;
        }
    }

    /** The counters, read through the pin (opened read-only). */
    static Map<String, Long> counters(Backend b, Path pin) {
        Map<String, Long> out = new LinkedHashMap<>();
        try (BpfMap map = b.mapGet(pin, ObjAccess.READ_ONLY)) {
            for (DenialReason reason : DenialReason.values()) {
                byte[] key = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(reason.key()).array();
                byte[] v = b.lookup(map, key);
                out.put(reason.name().toLowerCase(Locale.ROOT), ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong());
            }
        } catch (BpfException | IllegalArgumentException e) {
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
        b.append("origin: ").append(ContainerOrigin.of(r.bundle()).description()).append('\n');
        b.append("cgroup: ").append(r.cgroup()).append(" (id ").append(Long.toUnsignedString(r.cgroupId()))
                .append(cgroupExists ? ")" : ", gone)").append('\n');
        if (!r.bindAddresses().isEmpty()) {
            b.append("bind address: ").append(String.join(",", r.bindAddresses())).append('\n');
        }
        b.append("programs:\n");
        for (AttachRecord.Program p : r.programs()) {
            b.append(String.format("  %-12s %-22s id %-6d %6d insns  %s%n", p.name(), p.attachType().scenarioName(), p.progId(),
                    p.insns(), attached.getOrDefault(p.name(), false) ? "attached" : "NOT ATTACHED"));
        }
        if (r.programs().isEmpty()) {
            b.append("  (none)\n");
        }
        if (r.deviceUpdate() != null) {
            AttachRecord.DeviceUpdate u = r.deviceUpdate();
            b.append("devices updated: ").append(u.count()).append(u.count() == 1 ? " time" : " times")
                    .append(", last at ").append(u.time()).append(": ").append(u.devices()).append('\n');
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
        ContainerOrigin origin = ContainerOrigin.of(record.bundle());
        m.put("origin", origin.engine());
        m.put("containerdNamespace", origin.namespace());
        m.put("bundle", record.bundle());
        m.put("cgroup", record.cgroup());
        m.put("cgroupExists", cgroupExists);
        m.put("cgroupId", Long.toUnsignedString(record.cgroupId()));
        m.put("bindAddresses", record.bindAddresses());
        List<Map<String, Object>> progs = new ArrayList<>();
        for (AttachRecord.Program p : record.programs()) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("name", p.name());
            pm.put("attachType", p.attachType().scenarioName());
            pm.put("progId", p.progId());
            pm.put("insns", p.insns());
            pm.put("tag", p.tag());
            if (p.mapEntries() != null) {
                pm.put("mapEntries", p.mapEntries());
            }
            pm.put("attached", attached.getOrDefault(p.name(), false));
            progs.add(pm);
        }
        m.put("programs", progs);
        if (record.deviceUpdate() != null) {
            m.put("deviceUpdate", record.deviceUpdate());
        }
        m.put("denials", denials);
        try {
            return Out.MAPPER.writeValueAsString(m) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
