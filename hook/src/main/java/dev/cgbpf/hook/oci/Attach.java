package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfLink;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.hook.compile.CompiledProgram;
import dev.cgbpf.hook.compile.DenialCounters;
import dev.cgbpf.hook.compile.ProgramMap;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The attach transaction of one container, on a {@link Backend}: the kernel, or the engine in a
 * dry run (the same calls, so a dry run shows what the kernel path would do). All of a container's
 * programs are attached, or none.
 *
 * <p>Order, chosen so that every object is findable from its first moment: the record (naming
 * the cgroup) is written first, by the caller; the pin directory is made; the counter map is
 * created and pinned; then per program: load, pin the program, attach it (a pinned bpf_link, or
 * BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI so the runtime's own programs keep running). Any failure
 * runs the same {@link Cleanup} that poststop runs, so what a failed attach leaves is exactly
 * nothing. A cgroup program attached with ALLOW_MULTI can only restrict further: a device access
 * must pass the runtime's program and ours.
 */
final class Attach {
    private Attach() {
    }

    /**
     * @param backend a backend of {@code Lifetime.PERSISTENT}: what it attaches must outlive it
     * @param cgroup the container's cgroup, relative to the backend's cgroup root
     * @param programs the container's programs, compiled once with {@link DenialCounters#UNBOUND}
     * @param record the container's record with status {@code attaching}, already written by the
     *               caller (under the run directory's lock, which makes its bind addresses taken)
     */
    static AttachRecord run(Backend backend, String cgroup, ContainerFiles files, List<CompiledProgram> programs,
                            HookSettings.AttachMode mode, AttachRecord record, HookLog log) throws HookException {
        try {
            List<AttachRecord.Program> done = new ArrayList<>();
            try {
                mkdirs(backend, files.pinDir());
                try (BpfMap counters = backend.createMap(DenialCounters.SPEC);
                     BpfMap events = programs.stream().anyMatch(CompiledProgram::reportsEvents)
                             ? HostEvents.openOrCreate(backend, files.events()) : null) {
                    backend.objPin(counters, files.counters());
                    for (CompiledProgram p : programs) {
                        CompiledProgram bound = events == null ? p : p.withEvents(events.fd());
                        AttachRecord.Program a = attachOne(backend, cgroup, files, bound, counters.fd(), mode);
                        done.add(a);
                        log.info("attached " + p.name() + " (prog id " + a.progId() + ") at "
                                + p.attachType().scenarioName() + " (" + p.program().size() + " insns) to "
                                + record.cgroup());
                    }
                }
            } catch (BpfException e) {
                throw new HookException(describe(e));
            } catch (IllegalArgumentException e) {
                throw new HookException(e.getMessage());
            }
            AttachRecord attached = record.with(AttachRecord.ATTACHED, done);
            attached.write(files);
            return attached;
        } catch (HookException | RuntimeException e) {
            try {
                Cleanup.run(backend, cgroup, files, record, log);
            } catch (HookException ce) {
                log.warn("cleanup after the failed attach: " + ce.getMessage());
            }
            throw e;
        }
    }

    static AttachRecord.Program attachOne(Backend b, String cgroup, ContainerFiles files, CompiledProgram p,
                                          int countersFd, HookSettings.AttachMode mode) throws BpfException {
        try (LoadedProg prog = load(b, p, countersFd, files)) {
            b.objPin(prog, files.progPin(p.name()));
            if (mode == HookSettings.AttachMode.LINK) {
                try (BpfLink link = b.linkCreate(cgroup, prog, p.attachType())) {
                    b.objPin(link, files.linkPin(p.name()));
                }
            } else {
                b.attach(cgroup, prog, p.attachType(), EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            }
            var info = b.progInfo(prog);
            return new AttachRecord.Program(p.name(), p.attachType(), info.id(), p.program().size(), info.tag(),
                    p.map() == null ? null : p.map().entries().size());
        }
    }

    /**
     * Loads {@code p} with the counter map {@code countersFd} bound; a program with a map of its
     * own gets that map made and filled first, and pinned in {@code files}' pin directory (when
     * {@code files} is not null) before the program exists, so that a cleanup finds it. The map's
     * fd is closed again: the loaded program holds the map.
     */
    static LoadedProg load(Backend b, CompiledProgram p, int countersFd, ContainerFiles files) throws BpfException {
        ProgramMap m = p.map();
        if (m == null) {
            return b.load(p.withCounters(countersFd).loadRequest(0));
        }
        try (BpfMap map = b.createMap(m.spec())) {
            if (files != null) {
                b.objPin(map, files.pinDir().resolve(m.pinName()));
            }
            m.fill(b, map);
            return b.load(p.bind(countersFd, map.fd()).loadRequest(0));
        }
    }

    /** Makes {@code dir} and its missing parents on the backend's bpf file system (each 0700). */
    static void mkdirs(Backend b, Path dir) throws BpfException {
        try {
            b.pinMkdir(dir);
        } catch (BpfException e) {
            if (Errno.EEXIST.name().equals(e.errno())) {
                b.pinList(dir); // ENOTDIR when a pin has the name
                return;
            }
            if (!Errno.ENOENT.name().equals(e.errno()) || dir.getParent() == null) {
                throw e;
            }
            mkdirs(b, dir.getParent());
            b.pinMkdir(dir);
        }
    }

    /** One line from a kernel refusal: the errno, the message, and the verifier's reason when it has one. */
    static String describe(BpfException e) {
        String reason = e.logReason();
        String m = e.getMessage();
        if (e.errno() != null && !m.contains(e.errno())) {
            m = m + " (" + e.errno() + ")";
        }
        if (reason != null && !reason.isBlank() && (m == null || !m.contains(reason))) {
            m = m + ": " + reason.strip();
        }
        return m.replace('\n', ' ');
    }
}
