package dev.cgbpf.hook.oci;

import dev.cgbpf.hook.compile.CompiledProgram;

import java.util.List;

/**
 * The attach stage as a dry run, only when asked for ({@code CGBPF_BACKEND=dry-run} or
 * {@code cgbpf hook --dry-run}): the kernel path's own code ({@link Attach}) on an engine laid
 * out like the host ({@link HookBackend#engine}), so every program is loaded (verified by the
 * engine's verifier), pinned and attached exactly as it would be, its denial event tail included
 * (the host's event ring made and pinned in the engine's bpf file system, as {@link HostEvents}
 * does on the kernel; nothing runs the programs in a dry run, so no event is reported); what would be attached is
 * recorded under the run directory. Nothing is enforced, and the hook says so loudly on stderr
 * and in its log. A hook stage never gets here by itself: bpf(2) that is not usable is a failure.
 */
final class DryRun {
    private DryRun() {
    }

    /** @param record the container's record as written with status {@code attaching} */
    static AttachRecord attach(HookBackend engine, String cgroup, ContainerFiles files, List<CompiledProgram> programs,
                               AttachRecord record, String why, HookLog log) throws HookException {
        AttachRecord onEngine = Attach.run(engine.backend(), cgroup, files, programs, HookSettings.AttachMode.LINK,
                record, log);
        // the engine's ids and pins end with this process: the record keeps what the programs are
        AttachRecord r = record.with(AttachRecord.ATTACHED, onEngine.programs().stream()
                .map(p -> new AttachRecord.Program(p.name(), p.attachType(), 0, p.insns(), p.tag(), p.mapEntries())).toList());
        r.write(files);
        log.warn("DRY RUN: NOTHING IS ENFORCED for container " + record.id() + ": " + why + "; loaded, pinned and"
                + " attached " + r.programs().size() + " program(s) on the engine and recorded them in " + files.record());
        return r;
    }
}
