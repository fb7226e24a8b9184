package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.compile.DenialCounters;
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
import dev.cgbpf.kernel.CgroupDir;
import dev.cgbpf.kernel.CgroupV2Mount;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.ProgQuery;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code cgbpf hook STAGE}: one stage of the OCI hook for one container.
 *
 * <p>Attach stages (createRuntime, prestart): state from stdin, the bundle's config.json, the host
 * policy and the annotations merged into the container's policy; the container's cgroup from
 * the state's pid; the programs attached on the kernel, or verified and recorded in a dry run
 * when bpf(2) is not usable. A second attach stage for the same container (a bundle with both
 * createRuntime and prestart hooks) finds its record and the programs in place and does
 * nothing. poststop removes by id what the attach stage made.
 *
 * <p>Failures: with {@code "failurePolicy": "closed"} (the default) the hook rolls back, prints
 * one line and exits non-zero, so the runtime does not start the container; with {@code open}
 * it rolls back, warns, and exits 0. Input the host policy cannot yet be known for (malformed
 * state, unreadable policy file) always fails closed.
 */
public final class OciHook {
    private final HookSettings settings;
    private final HookLog log;
    private final Supplier<BpfAvailability> availability;
    private final Supplier<Optional<CgroupV2Mount>> mount;

    /** What a stage did: the exit status and a warning line for stderr (null if none). */
    public record Outcome(int status, String warning) {
    }

    public OciHook(HookSettings settings, HookLog log) {
        this(settings, log, BpfAvailability::probe, CgroupV2Mount::discover);
    }

    public OciHook(HookSettings settings, HookLog log, Supplier<BpfAvailability> availability,
                   Supplier<Optional<CgroupV2Mount>> mount) {
        this.settings = settings;
        this.log = log;
        this.availability = availability;
        this.mount = mount;
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

    private Outcome cleanup(State state) throws HookException {
        ContainerFiles files = settings.files(state.id());
        AttachRecord record;
        try {
            record = AttachRecord.read(files);
        } catch (HookException e) {
            // a damaged record must not keep the pins alive: remove what the pins show, then report
            KernelCleanup.run(files, null, log);
            throw e;
        }
        if (record == null && !Files.isDirectory(files.pinDir(), LinkOption.NOFOLLOW_LINKS)) {
            log.info("nothing to remove");
            return new Outcome(0, null);
        }
        if (record != null && record.backend().equals(AttachRecord.DRY_RUN)) {
            AttachRecord.remove(files);
            log.info("removed the dry-run record");
            return new Outcome(0, null);
        }
        KernelCleanup.run(files, record, log);
        return new Outcome(0, null);
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
            if (host.failurePolicy() == FailurePolicy.OPEN) {
                String w = "failurePolicy open: container " + state.id() + " starts WITHOUT its cgbpf policy: "
                        + e.getMessage();
                log.warn(w);
                return new Outcome(0, w);
            }
            throw e;
        }
    }

    private Outcome attach(HookStage stage, State state, HostPolicy host) throws HookException {
        Path bundle = Path.of(state.bundle());
        Policy policy;
        try {
            Config config = Config.read(bundle);
            policy = Policy.merge(config, host, state.annotations(), new HostDevices(), LocalAddresses.HOST);
            ContainerFiles files = settings.files(state.id());
            AttachRecord existing = AttachRecord.read(files);
            if (!policy.applies()) {
                removeStale(files, existing, "the policy does not apply to this container");
                log.info("the host policy does not apply (no dev.cgbpf.* annotation, appliesTo annotated): nothing to do");
                return new Outcome(0, null);
            }
            checkRuntimeNeeds(policy);
            if (PolicyCompiler.compile(policy, DenialCounters.NONE).isEmpty()) {
                removeStale(files, existing, "the policy has no programs");
                log.info("the policy needs no programs: nothing to attach");
                return new Outcome(0, null);
            }
            if (state.pid() == null) {
                throw new HookException("state: field 'pid': missing; the " + stage.specName()
                        + " stage needs the container's process to find its cgroup");
            }
            CgroupV2Mount v2 = mount.get().orElseThrow(() -> new HookException(
                    "no cgroup v2 (unified) hierarchy is mounted: cgroup-bpf needs one"));
            String cgroupsPath = config.linux() == null ? null : config.linux().cgroupsPath();
            ContainerCgroup cg = ContainerCgroup.resolve(state.pid(), cgroupsPath, state.id(), v2, settings.procRoot());
            if (existing != null) {
                if (stillInPlace(existing, cg)) {
                    log.info("already attached to " + cg.dir() + " by an earlier stage (" + existing.stage() + ")");
                    return new Outcome(0, null);
                }
                removeStale(files, existing, "a record of an earlier container with this id");
            } else if (Files.isDirectory(files.pinDir(), LinkOption.NOFOLLOW_LINKS)) {
                removeStale(files, null, "pins without a record");
            }
            String why = dryRunReason();
            if (why != null) {
                AttachRecord r = DryRun.attach(files, cg, policy, stage, state.bundle(), why, log);
                return new Outcome(0, "DRY RUN, NOTHING IS ENFORCED for container " + state.id() + ": " + why
                        + " (" + r.programs().size() + " program(s) verified and recorded in " + files.record() + ")");
            }
            AttachRecord r = KernelAttach.attach(files, cg, policy, settings.attachMode(), stage, state.bundle(), log);
            log.info("attached " + r.programs().size() + " program(s) to " + cg.dir() + " (" + r.mode() + ")");
            return new Outcome(0, null);
        } catch (SpecException | PolicyException e) {
            throw new HookException(e.getMessage());
        }
    }

    /** Why this attach is a dry run, or null when the kernel is used. */
    private String dryRunReason() throws HookException {
        switch (settings.backend()) {
            case DRY_RUN:
                return "CGBPF_BACKEND=dry-run";
            case KERNEL: {
                BpfAvailability a = availability.get();
                if (!a.usable()) {
                    throw new HookException("bpf(2) is not usable: " + a.reason());
                }
                return null;
            }
            default: {
                BpfAvailability a = availability.get();
                return a.usable() ? null : "bpf(2) is not usable: " + a.reason();
            }
        }
    }

    /**
     * runc and crun open /dev/null (read-write) in the container while they start it; a device
     * program that refuses it makes the start fail with a bare "operation not permitted". Say so
     * before attaching anything.
     */
    public static void checkRuntimeNeeds(Policy policy) throws HookException {
        if (policy.devices() != null
                && !policy.devices().allows(DeviceType.CHAR, 1, 3, Access.READ | Access.WRITE)) {
            throw new HookException("the device policy denies read-write access to /dev/null (c 1:3): the runtime"
                    + " opens /dev/null while it starts the container, which would fail; allow c 1:3 rw");
        }
    }

    /** True when {@code r} describes programs still attached to cgroup {@code cg}. */
    private boolean stillInPlace(AttachRecord r, ContainerCgroup cg) {
        if (!AttachRecord.ATTACHED.equals(r.status()) || !cg.dir().toString().equals(r.cgroup())) {
            return false;
        }
        if (r.backend().equals(AttachRecord.DRY_RUN)) {
            return dryRunReasonQuiet() != null;
        }
        try (Fd fd = CgroupDir.open(cg.dir())) {
            for (AttachRecord.Program p : r.programs()) {
                ProgQuery.Result q = ProgQuery.progQuery(fd, AttachType.fromScenarioName(p.attachType()).value(), 0,
                        64, false);
                boolean found = false;
                for (int id : q.progIds()) {
                    found |= id == p.progId();
                }
                if (!found) {
                    return false;
                }
            }
            return true;
        } catch (BpfException | IllegalArgumentException e) {
            return false;
        }
    }

    private String dryRunReasonQuiet() {
        try {
            return dryRunReason();
        } catch (HookException e) {
            return null;
        }
    }

    private void removeStale(ContainerFiles files, AttachRecord r, String what) throws HookException {
        if (r == null && !Files.isDirectory(files.pinDir(), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        log.info("removing " + what);
        if (r != null && r.backend().equals(AttachRecord.DRY_RUN)) {
            AttachRecord.remove(files);
            return;
        }
        KernelCleanup.run(files, r, log);
    }
}
