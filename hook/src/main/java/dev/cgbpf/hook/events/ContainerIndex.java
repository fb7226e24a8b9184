package dev.cgbpf.hook.events;

import dev.cgbpf.hook.compile.DenialRules;
import dev.cgbpf.hook.oci.AttachRecord;
import dev.cgbpf.hook.oci.ContainerStatus;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookSettings;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * cgroup id → container, from the run directory's records (the attach stage writes one per
 * container, named by its cgroup id, before the first program exists). An event of a cgroup not
 * in the last full read ({@link #refresh}, every few seconds and for the metrics) reads that
 * cgroup's one record directly: a container started since the last read is attributed from its
 * first event. (A full re-read rate-bound to 100 ms lost exactly those: a container whose record
 * appeared just after a read and whose first denials came within the bound had none.)
 */
public final class ContainerIndex {
    private final HookSettings settings;
    private volatile Map<Long, AttachRecord> byCgroup = Map.of();
    /**
     * Records read one by one since the last full read (containers started since): a new
     * container's flood of denials costs one read, not one lstat per event until the next full read.
     */
    private final Map<Long, AttachRecord> readSince = new ConcurrentHashMap<>();
    private volatile List<ContainerStatus> statuses = List.of();
    private long lastRefresh = Long.MIN_VALUE / 2;
    private final Consumer<String> warn;
    private String lastWarning;

    /** @param warn where a failed re-read is said (once per distinct reason, not once per event) */
    public ContainerIndex(HookSettings settings, Consumer<String> warn) {
        this.settings = settings;
        this.warn = warn;
    }

    /**
     * The record of {@code cgroupId}: from the last full read, else from its own record file, read
     * once until the next full read (a flood from a cgroup without one costs a failed lstat per
     * event); null when there is none.
     */
    public AttachRecord lookup(long cgroupId) {
        AttachRecord r = byCgroup.get(cgroupId);
        if (r == null) {
            r = readSince.get(cgroupId);
        }
        if (r != null) {
            return r;
        }
        try {
            r = AttachRecord.ofCgroup(settings, cgroupId);
            if (r != null) {
                readSince.put(cgroupId, r);
            }
            return r;
        } catch (HookException | RuntimeException e) {
            warnOnce("events: cannot read the record of cgroup " + Long.toUnsignedString(cgroupId) + " ("
                    + e.getMessage() + "); its events stay unattributed");
            return null;
        }
    }

    /** Re-reads every record, with the container's denial counters (ContainerStatus). */
    public synchronized void refresh(long nowMillis) {
        lastRefresh = nowMillis;
        try {
            List<ContainerStatus> all = ContainerStatus.find(settings, null);
            Map<Long, AttachRecord> m = new HashMap<>();
            for (ContainerStatus c : all) {
                m.put(c.record().cgroupId(), c.record());
            }
            byCgroup = Map.copyOf(m);
            readSince.clear();
            statuses = List.copyOf(all);
            lastWarning = null;
        } catch (HookException | RuntimeException e) {
            // keep what was known: a run directory being written is read again next time
            warnOnce("events: cannot read the containers' records (" + e.getMessage() + "); their counters and"
                    + " metrics stay as last read until a later read succeeds");
        }
    }

    /** Says {@code why} unless it was the last thing said (a flood of one failure is one line). */
    private synchronized void warnOnce(String why) {
        if (!why.equals(lastWarning)) {
            lastWarning = why;
            warn.accept(why);
        }
    }

    /** Re-reads unless the last read is younger than {@code maxAgeMillis}. */
    public synchronized void refreshIfOlder(long nowMillis, long maxAgeMillis) {
        if (nowMillis - lastRefresh >= maxAgeMillis) {
            refresh(nowMillis);
        }
    }

    /** The containers as last read (their records and denial counters). */
    public List<ContainerStatus> statuses() {
        return statuses;
    }

    /** The policy words of an event's rule, from its container's record; null when unknown. */
    public static String ruleText(AttachRecord r, DenialEvent e) {
        return r == null ? null : ruleText(r.rules(), e);
    }

    /** The policy words of an event's rule among {@code rules} ({@link DenialRules#of}); null when not there. */
    public static String ruleText(List<DenialRules.Rule> rules, DenialEvent e) {
        for (DenialRules.Rule rule : rules) {
            if (rule.kind().equals(e.kind().word()) && rule.rule() == e.rule()) {
                return rule.text();
            }
        }
        return null;
    }
}
