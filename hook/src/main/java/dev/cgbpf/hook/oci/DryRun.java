package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.verifier.Verifier;
import dev.cgbpf.hook.compile.CompiledProgram;
import dev.cgbpf.hook.compile.DenialCounters;
import dev.cgbpf.hook.compile.PolicyCompiler;
import dev.cgbpf.hook.policy.Policy;

import java.util.ArrayList;
import java.util.List;

/**
 * The attach stage as a dry run, only when asked for ({@code CGBPF_BACKEND=dry-run} or
 * {@code cgbpf hook --dry-run}): every program is compiled and checked by the engine's verifier
 * exactly as it would be loaded, and what would be attached is recorded under the run directory;
 * nothing is enforced, and the hook says so loudly on stderr and in its log. A hook stage never
 * gets here by itself: bpf(2) that is not usable is a failure.
 */
public final class DryRun {
    /** The map fd the programs of a dry run refer to: any number works, the verifier maps it to the counter spec. */
    static final int COUNTERS_FD = 3;

    private DryRun() {
    }

    /** @param record the container's record as written with status {@code attaching} */
    public static AttachRecord attach(ContainerFiles files, AttachRecord record, Policy policy, String why,
                                      HookLog log) throws HookException {
        List<AttachRecord.Program> programs = new ArrayList<>();
        for (CompiledProgram p : PolicyCompiler.compile(policy, new DenialCounters(COUNTERS_FD))) {
            try {
                Verifier.verify(p.program(), p.type(), p.loadRequest(0).expectedAttach(),
                        fd -> fd == COUNTERS_FD ? DenialCounters.SPEC : null, 0);
            } catch (BpfException e) {
                throw new HookException("program " + p.name() + " fails verification in the engine: "
                        + KernelAttach.describe(e));
            }
            programs.add(new AttachRecord.Program(p.name(), p.attachType().scenarioName(), 0, p.program().size()));
        }
        AttachRecord r = record.with(AttachRecord.ATTACHED, programs);
        r.write(files);
        log.warn("DRY RUN: NOTHING IS ENFORCED for container " + record.id() + ": " + why + "; verified "
                + programs.size() + " program(s) in the engine and recorded them in " + files.record());
        return r;
    }
}
