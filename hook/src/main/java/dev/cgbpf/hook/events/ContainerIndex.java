package dev.cgbpf.hook.events;

import dev.cgbpf.hook.compile.DenialRules;
import dev.cgbpf.hook.oci.AttachRecord;
import dev.cgbpf.hook.oci.ContainerStatus;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookSettings;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * cgroup id → container, from the run directory's records (the attach stage writes one per
 * container, keyed by its cgroup id, before the first program exists). Re-read when an event
 * names a cgroup it does not know (a container attached since), at most once per
 * {@code minRefreshMillis} so that a flood from a cgroup without a record costs nothing, and
 * by {@link #refresh} for the metrics.
 */
public final class ContainerIndex {
    private final HookSettings settings;
    private final long minRefreshMillis;
    private volatile Map<Long, AttachRecord> byCgroup = Map.of();
    private volatile List<ContainerStatus> statuses = List.of();
    private long lastRefresh = Long.MIN_VALUE / 2;
    private final Consumer<String> warn;
    private String lastWarning;

    /** @param warn where a failed re-read is said (once per distinct reason, not once per event) */
    public ContainerIndex(HookSettings settings, long minRefreshMillis, Consumer<String> warn) {
        this.settings = settings;
        this.minRefreshMillis = minRefreshMillis;
        this.warn = warn;
    }

    /** The record of {@code cgroupId}, re-reading the run directory (rate-bound) when unknown. */
    public synchronized AttachRecord lookup(long cgroupId, long nowMillis) {
        AttachRecord r = byCgroup.get(cgroupId);
        if (r == null && nowMillis - lastRefresh >= minRefreshMillis) {
            refresh(nowMillis);
            r = byCgroup.get(cgroupId);
        }
        return r;
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
            statuses = List.copyOf(all);
            lastWarning = null;
        } catch (HookException | RuntimeException e) {
            // keep what was known: a run directory being written is read again next time; but say
            // so, since until then a new container's events have no container
            String why = "events: cannot read the containers' records (" + e.getMessage() + "); their events stay"
                    + " unattributed until a later read succeeds";
            if (!why.equals(lastWarning)) {
                lastWarning = why;
                warn.accept(why);
            }
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
