package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.compile.CompiledProgram;
import dev.cgbpf.hook.compile.DenialCounters;
import dev.cgbpf.hook.compile.PolicyCompiler;
import dev.cgbpf.hook.policy.Policy;
import dev.cgbpf.kernel.BpfFs;
import dev.cgbpf.kernel.CgroupDir;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.LinkCreate;
import dev.cgbpf.kernel.MapCreate;
import dev.cgbpf.kernel.ObjGetInfoByFd;
import dev.cgbpf.kernel.ProgAttach;
import dev.cgbpf.kernel.ProgLoad;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

/**
 * The attach transaction on the host kernel: all of a container's programs attached, or none.
 *
 * <p>Order, chosen so that every kernel object is findable by id from its first moment: the
 * record (naming the cgroup) is written first; the counter map is created and pinned; then per
 * program: load, pin the program, attach it (a pinned bpf_link, or BPF_PROG_ATTACH with
 * BPF_F_ALLOW_MULTI so the runtime's own programs keep running). Any failure runs the same
 * {@link KernelCleanup} that poststop runs, so what a failed attach leaves is exactly nothing.
 * A cgroup program attached with ALLOW_MULTI can only restrict further: a device access must
 * pass the runtime's program and ours.
 */
public final class KernelAttach {
    private KernelAttach() {
    }

    /**
     * @param record the container's record with status {@code attaching}, already written by the
     *               caller (under the run directory's lock, which makes its bind addresses taken)
     */
    public static AttachRecord attach(ContainerFiles files, ContainerCgroup cgroup, Policy policy,
                                      HookSettings.AttachMode mode, AttachRecord record, HookLog log)
            throws HookException {
        try {
            prepareBpfFs(files.pinDir());
            try {
                Secure.mkdirs(files.pinDir());
            } catch (IOException e) {
                throw new HookException("cannot make the pin directory " + files.pinDir() + ": " + e.getMessage());
            }
            List<AttachRecord.Program> done = new ArrayList<>();
            try (Fd cg = CgroupDir.open(cgroup.dir());
                 Fd counters = MapCreate.mapCreate(DenialCounters.SPEC.type().value(), DenialCounters.SPEC.keySize(),
                         DenialCounters.SPEC.valueSize(), DenialCounters.SPEC.maxEntries(), 0,
                         DenialCounters.SPEC.name())) {
                BpfFs.pin(counters, files.counters());
                for (CompiledProgram p : PolicyCompiler.compile(policy, new DenialCounters(counters.get()))) {
                    AttachRecord.Program a = attachOne(files, cg, p, mode);
                    done.add(a);
                    log.info("attached " + p.name() + " (prog id " + a.progId() + ") at "
                            + p.attachType().scenarioName() + " (" + p.program().size() + " insns) to " + cgroup.dir());
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
                KernelCleanup.run(files, record, log);
            } catch (HookException ce) {
                log.warn("cleanup after the failed attach: " + ce.getMessage());
            }
            throw e;
        }
    }

    private static AttachRecord.Program attachOne(ContainerFiles files, Fd cg, CompiledProgram p,
                                                  HookSettings.AttachMode mode) throws BpfException {
        int expected = p.loadRequest(0).expectedAttach() == null ? 0 : p.attachType().value();
        ProgLoad.Loaded loaded = ProgLoad.progLoad(p.type().value(), p.program().encode(), "GPL", p.name(), expected, 0);
        try (Fd prog = loaded.fd()) {
            BpfFs.pin(prog, files.progPin(p.name()));
            if (mode == HookSettings.AttachMode.LINK) {
                try (Fd link = LinkCreate.linkCreate(prog, cg, p.attachType().value(), 0)) {
                    BpfFs.pin(link, files.linkPin(p.name()));
                }
            } else {
                ProgAttach.progAttach(cg, prog, p.attachType().value(), EnumSet.of(AttachFlag.ALLOW_MULTI), null);
            }
            int id = ObjGetInfoByFd.progInfo(prog).id();
            return new AttachRecord.Program(p.name(), p.attachType().scenarioName(), id, p.program().size());
        }
    }

    /**
     * The pin directory's bpffs: the pin root's nearest existing ancestor must be on one; when that
     * ancestor is /sys/fs/bpf and nothing is mounted there yet, mount it (as systemd would at boot).
     */
    static void prepareBpfFs(Path pinDir) throws HookException {
        Path existing = pinDir;
        while (existing != null && !Files.isDirectory(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            throw new HookException("pin directory " + pinDir + ": no parent directory exists");
        }
        if (BpfFs.isBpfFs(existing)) {
            return;
        }
        if (existing.equals(BpfFs.DEFAULT)) {
            try {
                BpfFs.ensureMounted(BpfFs.DEFAULT);
                return;
            } catch (BpfException e) {
                throw HookException.machine("cannot mount a bpf file system at " + BpfFs.DEFAULT + ": "
                        + e.getMessage());
            }
        }
        throw HookException.machine("pin directory " + pinDir + " is not on a bpf file system (" + existing
                + " is not bpffs)");
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
