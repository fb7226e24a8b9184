package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.compile.CompiledProgram;
import dev.cgbpf.hook.compile.DenialCounters;
import dev.cgbpf.hook.compile.DenialRules;
import dev.cgbpf.hook.compile.PolicyCompiler;
import dev.cgbpf.hook.policy.Access;
import dev.cgbpf.hook.policy.DeviceType;
import dev.cgbpf.hook.policy.FailurePolicy;
import dev.cgbpf.hook.policy.HostDevices;
import dev.cgbpf.hook.policy.HostPolicy;
import dev.cgbpf.hook.policy.LocalAddresses;
import dev.cgbpf.hook.policy.Policy;
import dev.cgbpf.hook.policy.PolicyException;
import dev.cgbpf.hook.spec.Config;
import dev.cgbpf.hook.spec.SpecException;
import dev.cgbpf.hook.spec.State;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.CgroupV2Mount;
import dev.cgbpf.kernel.KernelBackend;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code cgbpf hook STAGE}: one stage of the OCI hook for one container.
 *
 * <p>Attach stages (createRuntime, prestart): state from stdin, the bundle's config.json, the host
 * policy and the annotations merged into the container's policy (the host policy a ceiling the
 * container can only narrow); the container's cgroup from the state's pid; its bind address
 * taken from the host's pool under the run directory's lock; the programs attached on the
 * kernel. A second attach stage for the same container (a bundle with both createRuntime and
 * prestart hooks) finds its record and the programs in place and does nothing. poststop removes
 * what the attach stage made for the container with this id and bundle, once its cgroup is
 * empty or gone.
 *
 * <p>Failures: the hook rolls back, prints one line and exits non-zero, so the runtime does not
 * start the container. {@code "failurePolicy": "open"} lets only failures of the machine pass
 * (bpf(2) not usable, no cgroup v2, no bpffs; see {@link HookException#machineFailure()}), with a
 * warning: bad input, above all the container's own, always fails closed.
 */
public final class OciHook {
    private final HookSettings settings;
    private final HookLog log;
    private final Supplier<BpfAvailability> availability;
    private final Supplier<Optional<CgroupV2Mount>> mount;
    private final BooleanSupplier keep;

    /** What a stage did: the exit status and a warning line for stderr (null if none). */
    public record Outcome(int status, String warning) {
    }

    public OciHook(HookSettings settings, HookLog log) {
        this(settings, log, BpfAvailability::probe, CgroupV2Mount::discover);
    }

    public OciHook(HookSettings settings, HookLog log, Supplier<BpfAvailability> availability,
                   Supplier<Optional<CgroupV2Mount>> mount) {
        this(settings, log, availability, mount, () -> true);
    }

    private OciHook(HookSettings settings, HookLog log, Supplier<BpfAvailability> availability,
                    Supplier<Optional<CgroupV2Mount>> mount, BooleanSupplier keep) {
        this.settings = settings;
        this.log = log;
        this.availability = availability;
        this.mount = mount;
        this.keep = keep;
    }

    /**
     * This hook for a caller that may stop waiting for it (the daemon, whose requests have a
     * deadline). {@code keep} is asked once, when an attach stage has attached and recorded
     * everything: true means the caller still waits and takes the result (and from then on will
     * report it); false means it gave up and told its client the stage failed, so the stage
     * removes what it attached (the cleanup poststop runs) and fails. A killed hook process is
     * the same case, cleaned up later by poststop or the next attach.
     */
    public OciHook keepingOnlyIf(BooleanSupplier keep) {
        return new OciHook(settings, log, availability, mount, keep);
    }

    /** Runs {@code stage} on the state document {@code stateJson}; a closed failure is a HookException. */
    public Outcome run(HookStage stage, byte[] stateJson) throws HookException {
        State state;
        log.context(stage.specName());
        try {
            state = State.parse(stateJson);
        } catch (SpecException e) {
            log.failure(e.getMessage());
            throw new HookException(e.getMessage());
        }
        log.context(state.id() + " " + stage.specName());
        try {
            return stage.action() == HookStage.Action.ATTACH ? attach(stage, state) : cleanup(state);
        } catch (HookException e) {
            log.failure(e.getMessage());
            throw e;
        }
    }

    /**
     * poststop: every record of this container (id and bundle) whose cgroup is empty or gone is
     * undone, and any record directory a killed hook left without a record is removed. A record whose cgroup still has processes belongs to a container that still runs
     * (the same id and bundle under another runtime root): left alone.
     */
    private Outcome cleanup(State state) throws HookException {
        List<RunDir.Entry> mine;
        try (RunDir.Lock held = RunDir.lock(settings)) {
            RunDir.sweepUnwritten(settings, held, log);
            mine = RunDir.records(settings, log).stream()
                    .filter(e -> e.record().id().equals(state.id()) && e.record().bundle() != null
                            && e.record().bundle().equals(state.bundle()))
                    .toList();
        }
        if (mine.isEmpty()) {
            log.info("nothing to remove");
            return new Outcome(0, null);
        }
        undoUnpopulated(mine, true);
        return new Outcome(0, null);
    }

    /**
     * The daemon's start: undoes the attaches a killed predecessor (or a killed hook) left half
     * done, the records still {@code attaching} whose cgroup is empty or gone (its container never
     * started, or is over), with the cleanup poststop runs. A record whose cgroup still has
     * processes may be an attach in progress in another process: left alone, as are the
     * containers attached completely, whose poststop will come.
     *
     * @return the records undone
     */
    public List<AttachRecord> recoverInterrupted() throws HookException {
        log.context("daemon start");
        List<RunDir.Entry> halfDone;
        try (RunDir.Lock held = RunDir.lock(settings)) {
            RunDir.sweepUnwritten(settings, held, log);
            halfDone = RunDir.records(settings, log).stream()
                    .filter(e -> AttachRecord.ATTACHING.equals(e.record().status()))
                    .toList();
        }
        return undoUnpopulated(halfDone, false);
    }

    /** Undoes each entry whose cgroup has no process left; returns the records undone. */
    private List<AttachRecord> undoUnpopulated(List<RunDir.Entry> entries, boolean warnPopulated)
            throws HookException {
        List<AttachRecord> undone = new ArrayList<>();
        HookBackend kernel = null;
        try {
            for (RunDir.Entry e : entries) {
                AttachRecord r = e.record();
                if (ContainerCgroup.liveness(r.cgroup(), r.cgroupId()) == ContainerCgroup.Liveness.POPULATED) {
                    if (warnPopulated) {
                        log.warn("cgroup " + r.cgroup() + " of container " + r.id() + " still has processes; its"
                                + " programs stay (another container with this id and bundle?)");
                    }
                    continue;
                }
                if (kernel == null && r.backend().equals(AttachRecord.KERNEL)) {
                    kernel = openKernel();
                }
                undo(kernel, e.files(), r);
                undone.add(r);
            }
        } finally {
            if (kernel != null) {
                kernel.close();
            }
        }
        return undone;
    }

    /** Removes what {@code r} records: on the kernel through {@code kernel}; a dry run's record only. */
    private void undo(HookBackend kernel, ContainerFiles files, AttachRecord r) throws HookException {
        if (r.backend().equals(AttachRecord.DRY_RUN)) {
            AttachRecord.remove(files);
            log.info("removed the dry-run record of container " + r.id());
            return;
        }
        if (!(kernel.backend() instanceof KernelBackend)) {
            throw new HookException("container " + r.id() + " has programs on the kernel in cgroup " + r.cgroup()
                    + "; a dry run does not remove them");
        }
        Cleanup.run(kernel.backend(), kernel.cgroupOf(r.cgroup()), files, r, log);
    }

    /** The kernel's backend: bpf(2) usable and a cgroup v2 hierarchy, else a failure of the machine. */
    private HookBackend openKernel() throws HookException {
        BpfAvailability a = availability.get();
        if (!a.usable()) {
            throw HookException.machine("bpf(2) is not usable: " + a.reason());
        }
        CgroupV2Mount v2 = mount.get().orElseThrow(() -> HookException.machine(
                "no cgroup v2 (unified) hierarchy is mounted: cgroup-bpf needs one"));
        return HookBackend.kernel(v2.mountPoint(), settings.pinDir());
    }

    private Outcome attach(HookStage stage, State state) throws HookException {
        HostPolicy host;
        try {
            host = HostPolicy.load(settings.policy(), new HostDevices(), Policy.MAX_DEVICE_RULES);
        } catch (PolicyException e) {
            throw new HookException(e.getMessage());
        }
        try {
            return attach(stage, state, host);
        } catch (HookException e) {
            if (e.machineFailure() && host.failurePolicy() == FailurePolicy.OPEN) {
                String w = "failurePolicy open: container " + state.id() + " starts WITHOUT its cgbpf policy: "
                        + e.getMessage();
                log.warn(w);
                return new Outcome(0, w);
            }
            throw e;
        }
    }

    /**
     * The maps the programs are compiled for: counters and denial events, on the kernel and in a
     * dry run alike (the engine has the ring buffer map), so that a dry run verifies and records
     * the programs the kernel would get.
     */
    private DenialCounters unbound() {
        return DenialCounters.UNBOUND_WITH_EVENTS;
    }

    private Outcome attach(HookStage stage, State state, HostPolicy host) throws HookException {
        Policy policy;
        Config config;
        try {
            config = Config.read(Path.of(state.bundle()));
            policy = Policy.merge(config, host, state.annotations(), new HostDevices(), LocalAddresses.HOST);
        } catch (SpecException | PolicyException e) {
            throw new HookException(e.getMessage());
        }
        if (!policy.applies()) {
            log.info("the host policy does not apply (no dev.cgbpf.* annotation, appliesTo annotated): nothing to do");
            return new Outcome(0, null);
        }
        policy.warnings().forEach(w -> log.warn(w));
        checkRuntimeNeeds(policy);
        // compiled once, the counter map bound at load; a policy whose bind address is still to be
        // picked has programs whatever the address, and is compiled once the address is known
        List<CompiledProgram> programs = PolicyCompiler.compile(policy, unbound());
        if (programs.isEmpty() && !policy.bindRequest().auto()) {
            log.info("the policy needs no programs: nothing to attach");
            return new Outcome(0, null);
        }
        if (state.pid() == null) {
            throw new HookException("state: field 'pid': missing; the " + stage.specName()
                    + " stage needs the container's process to find its cgroup");
        }
        boolean dryRun = settings.backend() == HookSettings.BackendMode.DRY_RUN;
        if (!dryRun) {
            Optional<String> notRoot = HostRoot.missing(settings.procRoot());
            if (notRoot.isPresent()) {
                throw HookException.machine(notRoot.get());
            }
            BpfAvailability a = availability.get();
            if (!a.usable()) {
                throw HookException.machine("bpf(2) is not usable: " + a.reason());
            }
        }
        CgroupV2Mount v2 = mount.get().orElseThrow(() -> HookException.machine(
                "no cgroup v2 (unified) hierarchy is mounted: cgroup-bpf needs one"));
        String cgroupsPath = config.linux() == null ? null : config.linux().cgroupsPath();
        ContainerCgroup cg = ContainerCgroup.resolve(state.pid(), cgroupsPath, state.id(), v2, settings.procRoot());
        ContainerFiles files = settings.files(cg.id());

        try (HookBackend hb = dryRun ? HookBackend.engine(v2.mountPoint(), cg.dir(), settings.pinDir())
                : HookBackend.kernel(v2.mountPoint(), settings.pinDir())) {
            String cgroup = hb.cgroupOf(cg.dir().toString());
            AttachRecord record;
            try (RunDir.Lock held = RunDir.lock(settings)) {
                RunDir.sweepUnwritten(settings, held, log);
                List<RunDir.Entry> all = RunDir.records(settings, log);
                AttachRecord existing = null;
                for (RunDir.Entry e : all) {
                    if (e.files().key().equals(files.key())) {
                        existing = e.record();
                    }
                }
                if (existing != null) {
                    if (!existing.id().equals(state.id())) {
                        throw new HookException("cgroup " + cg.dir() + " already holds the cgbpf programs of container "
                                + existing.id() + "; refusing to attach container " + state.id() + " there");
                    }
                    if (stillInPlace(existing, hb, cgroup, dryRun)) {
                        log.info("already attached to " + cg.dir() + " by an earlier stage (" + existing.stage() + ")");
                        return new Outcome(0, null);
                    }
                    log.info("removing an incomplete record of this container's cgroup");
                    undo(hb, files, existing);
                }
                for (RunDir.Entry e : all) {
                    AttachRecord r = e.record();
                    if (r.id().equals(state.id()) && !e.files().key().equals(files.key())
                            && ContainerCgroup.liveness(r.cgroup(), r.cgroupId()) == ContainerCgroup.Liveness.GONE) {
                        log.info("removing the record of an earlier container " + r.id() + " whose cgroup is gone");
                        undo(hb, e.files(), r);
                    }
                }
                Policy leased = BindAddressLeases.take(policy, all, files.key());
                if (leased != policy) {
                    policy = leased;
                    programs = PolicyCompiler.compile(policy, unbound());
                }
                record = new AttachRecord(AttachRecord.VERSION, state.id(), AttachRecord.ATTACHING,
                        dryRun ? AttachRecord.DRY_RUN : AttachRecord.KERNEL,
                        dryRun ? "none" : settings.attachMode().word(), stage.specName(), state.bundle(),
                        cg.dir().toString(), cg.path(), cg.id(),
                        policy.network().bind().all().stream().map(InetAddress::getHostAddress).toList(),
                        dryRun ? null : files.pinDir().toString(), OffsetDateTime.now().toString(), List.of(),
                        null, DenialRules.of(policy));
                try {
                    record.write(files);
                } catch (HookException e) {
                    AttachRecord.remove(files);
                    throw e;
                }
            }
            String warning = policy.warnings().isEmpty() ? null : String.join("; ", policy.warnings());
            if (dryRun) {
                AttachRecord r = DryRun.attach(hb, cgroup, files, programs, record, "CGBPF_BACKEND=dry-run", log);
                keepOrUndo(hb, files, r);
                return new Outcome(0, "DRY RUN, NOTHING IS ENFORCED for container " + state.id() + " (asked for: "
                        + "dry-run; " + r.programs().size() + " program(s) verified and recorded in " + files.record()
                        + ")" + (warning == null ? "" : "; " + warning));
            }
            AttachRecord r = Attach.run(hb.backend(), cgroup, files, programs, settings.attachMode(), record, log);
            keepOrUndo(hb, files, r);
            log.info("attached " + r.programs().size() + " program(s) to " + cg.dir() + " (" + r.mode() + ")"
                    + (r.bindAddresses().isEmpty() ? "" : ", bind address " + String.join(",", r.bindAddresses())));
            return new Outcome(0, warning);
        }
    }

    /** Asks {@link #keep} whether the caller still takes the attach; if not, undoes it and fails. */
    private void keepOrUndo(HookBackend hb, ContainerFiles files, AttachRecord r) throws HookException {
        if (keep.getAsBoolean()) {
            return;
        }
        undo(hb, files, r);
        throw new HookException("the caller stopped waiting before the programs of container " + r.id()
                + " were in place (its deadline passed); removed them again");
    }

    /**
     * runc and crun open /dev/null (read-write) in the container while they start it; a device
     * program that refuses it makes the start fail with a bare "operation not permitted". Say so
     * before attaching anything.
     */
    public static void checkRuntimeNeeds(Policy policy) throws HookException {
        if (!policy.allowsDevice(DeviceType.CHAR, 1, 3, Access.READ | Access.WRITE)) {
            throw new HookException("the device policy denies read-write access to /dev/null (c 1:3): the runtime"
                    + " opens /dev/null while it starts the container, which would fail; allow c 1:3 rw");
        }
    }

    /** True when {@code r} describes programs still attached to the container's cgroup. */
    private static boolean stillInPlace(AttachRecord r, HookBackend hb, String cgroup, boolean dryRun) {
        if (!AttachRecord.ATTACHED.equals(r.status())) {
            return false;
        }
        if (r.backend().equals(AttachRecord.DRY_RUN)) {
            return dryRun;
        }
        if (dryRun || cgroup == null) {
            return false;
        }
        try {
            for (AttachRecord.Program p : r.programs()) {
                if (!hb.backend().isAttached(cgroup, p.attachType(), p.progId())) {
                    return false;
                }
            }
            return true;
        } catch (BpfException | IllegalArgumentException e) {
            return false;
        }
    }
}
