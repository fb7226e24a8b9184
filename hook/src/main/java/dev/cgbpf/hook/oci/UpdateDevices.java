package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.ObjAccess;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.hook.compile.CompiledProgram;
import dev.cgbpf.hook.compile.DenialCounters;
import dev.cgbpf.hook.compile.DenialRules;
import dev.cgbpf.hook.compile.DeviceCompiler;
import dev.cgbpf.hook.compile.PolicyCompiler;
import dev.cgbpf.hook.compile.ProgramMap;
import dev.cgbpf.hook.policy.HostDevices;
import dev.cgbpf.hook.policy.HostPolicy;
import dev.cgbpf.hook.policy.LocalAddresses;
import dev.cgbpf.hook.policy.Policy;
import dev.cgbpf.hook.policy.PolicyException;
import dev.cgbpf.hook.spec.Config;
import dev.cgbpf.hook.spec.SpecException;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.CgroupV2Mount;

import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

/**
 * {@code cgbpf update ID --devices RULES}: a running container's device allowlist changed in
 * place, without restarting it.
 *
 * <p>The new list is the one the attach stage would build today with RULES appended after the
 * container's own rules (config.json, the runtime's defaults, the {@code dev.cgbpf.devices}
 * annotation of config.json): later rules override earlier ones as in runc, and each update
 * replaces the previous update's RULES rather than adding to them, so an update is repeatable
 * and the record says exactly what is in force. The host policy's ceiling is untouched: its own
 * program ({@code cgbpf_dev_host}) stays attached, so RULES can never open more than it allows
 * (a rule that asks for more is a warning, as for the annotation).
 *
 * <p>Atomic: the container's device program ({@code cgbpf_dev}) is compiled anew (linear or
 * maps, as the host policy chooses), its map made and filled, the program loaded, and then the
 * kernel swaps it for the old one in one step, BPF_LINK_UPDATE of the pinned link (attach mode
 * {@code link}) or BPF_PROG_ATTACH with BPF_F_REPLACE (mode {@code attach}). Both replace the
 * program in the cgroup's effective arrays in place, so every device check runs either the old
 * program with its old map or the new program with its new map, never a mixture or a half-filled
 * map (the old map is never written). Only then are the pins ({@code cgbpf_dev},
 * {@code cgbpf_dev_map}) moved to the new objects and the record rewritten, all under the run
 * directory's lock that the hook stages take, so a concurrent poststop waits.
 *
 * <p>A container that started without a device program of its own gets one attached.
 */
public final class UpdateDevices {
    private UpdateDevices() {
    }

    /**
     * What an update did.
     *
     * @param record the container's record as rewritten
     * @param oldProgId the replaced program's id, 0 when the container had none
     * @param program the new program
     * @param warnings rules that asked for more than the host policy allows
     */
    public record Outcome(AttachRecord record, int oldProgId, AttachRecord.Program program, List<String> warnings) {
        /** The line {@code cgbpf update} prints, in its own process or from the daemon's answer. */
        public String summary() {
            return "container " + record.id() + ": devices updated (program " + oldProgId + " -> " + program.progId()
                    + ", " + program.insns() + " insns"
                    + (program.mapEntries() == null ? "" : ", " + program.mapEntries() + " map entries") + ")";
        }
    }

    /** RULES that say nothing are refused before anything is asked of the kernel or the daemon. */
    public static void checkRules(String rules) throws HookException {
        if (rules.strip().replace(";", "").isBlank()) {
            throw new HookException("--devices: no rules (give at least one, e.g. 'allow c 10:200 rwm')");
        }
    }

    /** Updates the running container {@code id}'s device rules to {@code rules} (the annotation's syntax). */
    public static Outcome run(HookSettings settings, String id, String rules, HookLog log) throws HookException {
        checkRules(rules);
        HostPolicy host;
        try {
            host = HostPolicy.load(settings.policy(), new HostDevices(), Policy.MAX_DEVICE_RULES);
        } catch (PolicyException e) {
            throw new HookException(e.getMessage());
        }
        BpfAvailability a = BpfAvailability.probe();
        if (!a.usable()) {
            throw HookException.machine("bpf(2) is not usable: " + a.reason());
        }
        CgroupV2Mount v2 = CgroupV2Mount.discover().orElseThrow(() -> HookException.machine(
                "no cgroup v2 (unified) hierarchy is mounted: cgroup-bpf needs one"));
        log.context(id + " update");
        try (RunDir.Lock held = RunDir.lock(settings)) {
            RunDir.Entry e = running(settings, id, log);
            AttachRecord r = e.record();
            Policy policy;
            try {
                Config config = Config.read(Path.of(r.bundle()));
                policy = Policy.merge(config, host, Map.of(), new HostDevices(), LocalAddresses.HOST, rules);
            } catch (SpecException | PolicyException ex) {
                throw new HookException(ex.getMessage());
            }
            if (!policy.applies() || policy.devices() == null) {
                throw new HookException("the host policy does not apply to container " + id + " any more (appliesTo"
                        + " annotated, and its config.json has no dev.cgbpf.* annotation): not updated");
            }
            OciHook.checkRuntimeNeeds(policy);
            // with events, as the attach stage compiles it: the ring buffer is bound once it is open
            CompiledProgram compiled = PolicyCompiler.devices(DeviceCompiler.NAME, policy.devices(), policy,
                    DenialCounters.UNBOUND_WITH_EVENTS);
            try (HookBackend hb = HookBackend.kernel(v2.mountPoint(), settings.pinDir());
                 BpfMap events = openEvents(hb.backend(), e.files())) {
                CompiledProgram p = compiled.withEvents(events.fd());
                String cgroup = hb.cgroupOf(r.cgroup());
                if (cgroup == null) {
                    throw new HookException("cgroup " + r.cgroup() + " of container " + id + " is not below "
                            + v2.mountPoint());
                }
                HookSettings.AttachMode mode = HookSettings.AttachMode.parse(r.mode());
                List<AttachRecord.Program> programs = new ArrayList<>(r.programs());
                int at = -1;
                for (int i = 0; i < programs.size(); i++) {
                    if (programs.get(i).name().equals(DeviceCompiler.NAME)) {
                        at = i;
                    }
                }
                AttachRecord.Program now;
                int oldId = 0;
                try {
                    if (at < 0) {
                        try (BpfMap counters = hb.backend().mapGet(e.files().counters(), ObjAccess.READ_WRITE)) {
                            now = Attach.attachOne(hb.backend(), cgroup, e.files(), p, counters.fd(), mode);
                        }
                        programs.add(now);
                    } else {
                        oldId = programs.get(at).progId();
                        now = swap(hb.backend(), cgroup, e.files(), mode, programs.get(at), p);
                        programs.set(at, now);
                    }
                } catch (BpfException ex) {
                    throw new HookException(Attach.describe(ex));
                } catch (IllegalArgumentException ex) {
                    throw new HookException(ex.getMessage());
                }
                AttachRecord.DeviceUpdate before = r.deviceUpdate();
                // the record names the new list's device rules, so the events of the new program read right
                AttachRecord updated = r.withUpdate(programs, new AttachRecord.DeviceUpdate(rules,
                        OffsetDateTime.now().toString(), before == null ? 1 : before.count() + 1),
                        DenialRules.withDevices(r.rules(), policy));
                updated.write(e.files());
                log.info("devices updated: " + DeviceCompiler.NAME + " prog id " + oldId + " -> " + now.progId() + " ("
                        + now.insns() + " insns" + (now.mapEntries() == null ? "" : ", " + now.mapEntries()
                        + " map entries") + "), rules: " + rules);
                policy.warnings().forEach(log::warn);
                return new Outcome(updated, oldId, now, policy.warnings());
            }
        }
    }

    /** The host's ring buffer (made if it is not there yet, as by an attach), for the new program's events. */
    private static BpfMap openEvents(Backend b, ContainerFiles files) throws HookException {
        try {
            return HostEvents.openOrCreate(b, files.events());
        } catch (BpfException ex) {
            throw new HookException(Attach.describe(ex));
        }
    }

    /** The one record of {@code id} whose cgroup still has processes, attached on the kernel. */
    private static RunDir.Entry running(HookSettings settings, String id, HookLog log) throws HookException {
        List<RunDir.Entry> mine = new ArrayList<>();
        boolean any = false;
        for (RunDir.Entry e : RunDir.records(settings, log)) {
            AttachRecord r = e.record();
            if (r.id().equals(id)) {
                any = true;
                if (ContainerCgroup.liveness(r.cgroup(), r.cgroupId()) == ContainerCgroup.Liveness.POPULATED) {
                    mine.add(e);
                }
            }
        }
        if (mine.isEmpty()) {
            throw new HookException(any ? "container " + id + " is not running (its cgroup is empty or gone)"
                    : "no cgbpf record for container " + id + " in " + settings.runDir()
                    + " (not started with the hook, no policy applied, or already stopped)");
        }
        if (mine.size() > 1) {
            throw new HookException(mine.size() + " running containers have the id " + id + " (two runtimes);"
                    + " cgbpf update cannot tell which is meant");
        }
        AttachRecord r = mine.get(0).record();
        if (r.backend().equals(AttachRecord.DRY_RUN)) {
            throw new HookException("container " + id + " runs without enforcement (a dry run): nothing to update");
        }
        if (!AttachRecord.ATTACHED.equals(r.status())) {
            throw new HookException("container " + id + "'s programs are not attached (record status " + r.status()
                    + ")");
        }
        return mine.get(0);
    }

    /**
     * Loads {@code p} (with a new map of its own when it has one) and has the kernel swap it for
     * the recorded program {@code old} in one step; then the pins follow.
     */
    private static AttachRecord.Program swap(Backend b, String cgroup, ContainerFiles files,
                                             HookSettings.AttachMode mode, AttachRecord.Program old,
                                             CompiledProgram p) throws BpfException, HookException {
        try (BpfMap counters = b.mapGet(files.counters(), ObjAccess.READ_WRITE);
             LoadedProg oldProg = b.progGet(files.progPin(old.name()))) {
            int pinnedId = b.progInfo(oldProg).id();
            if (pinnedId != old.progId()) {
                throw new HookException(files.progPin(old.name()) + " is program " + pinnedId + ", the record says "
                        + old.progId() + ": not updated");
            }
            ProgramMap m = p.map();
            BpfMap map = m == null ? null : b.createMap(m.spec());
            try {
                LoadedProg next;
                if (map == null) {
                    next = b.load(p.withCounters(counters.fd()).loadRequest(0));
                } else {
                    m.fill(b, map);
                    next = b.load(p.bind(counters.fd(), map.fd()).loadRequest(0));
                }
                try (next) {
                    if (mode == HookSettings.AttachMode.LINK) {
                        try (BpfLink link = b.linkGet(files.linkPin(old.name()))) {
                            b.linkUpdate(link, next, oldProg);
                        }
                    } else {
                        b.attach(cgroup, next, p.attachType(), EnumSet.of(AttachFlag.ALLOW_MULTI, AttachFlag.REPLACE),
                                oldProg);
                    }
                    // the swap is done; the pins name the new objects from here on (a crash in
                    // between leaves the old program's pin: poststop still unpins the link, and
                    // a multi-attached new program goes with the container's cgroup)
                    b.unpin(files.progPin(old.name()));
                    b.objPin(next, files.progPin(p.name()));
                    Path mapPin = files.pinDir().resolve(p.name() + ProgramMap.PIN_SUFFIX);
                    if (old.mapEntries() != null) {
                        b.unpin(mapPin);
                    }
                    if (map != null) {
                        b.objPin(map, mapPin);
                    }
                    var info = b.progInfo(next);
                    return new AttachRecord.Program(p.name(), p.attachType(), info.id(), p.program().size(), info.tag(),
                            m == null ? null : m.entries().size());
                }
            } finally {
                if (map != null) {
                    map.close();
                }
            }
        }
    }
}
