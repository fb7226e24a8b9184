package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.kernel.CgroupDir;
import dev.cgbpf.kernel.Fd;
import dev.cgbpf.kernel.ObjGetInfoByFd;
import dev.cgbpf.kernel.ObjPin;
import dev.cgbpf.kernel.ProgQuery;
import dev.cgbpf.kernel.ProgAttach;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Removes everything the attach stage made for a container, by its files: poststop's work,
 * and the rollback of a failed attach. Idempotent: what is already gone is skipped.
 *
 * <ul>
 * <li>a link pin ({@code NAME_link}): unpinned; the last reference to the link gone, the kernel
 *     detaches the program (if the runtime removed the cgroup first, the link was already
 *     defunct).</li>
 * <li>a program pin: when the cgroup still exists, BPF_PROG_DETACH of that program (ENOENT: it
 *     was attached by link or is already detached), then unpinned.</li>
 * <li>the counter map pin, the pin directory, the record.</li>
 * </ul>
 * Files in the pin directory that cgbpf does not make are left alone and make the cleanup fail,
 * rather than deleting what somebody else put there.
 */
public final class KernelCleanup {
    private KernelCleanup() {
    }

    /** @param record the container's record, or null when there is none (only pins are left to remove) */
    public static void run(ContainerFiles files, AttachRecord record, HookLog log) throws HookException {
        List<String> problems = new ArrayList<>();
        Path pinDir = files.pinDir();
        if (Files.isDirectory(pinDir, LinkOption.NOFOLLOW_LINKS)) {
            Map<String, AttachType> types = new HashMap<>(ProgramNames.ATTACH_TYPES);
            if (record != null) {
                for (AttachRecord.Program p : record.programs()) {
                    types.put(p.name(), AttachType.fromScenarioName(p.attachType()));
                }
            }
            Fd cg = openCgroup(record);
            try {
                List<Path> links = new ArrayList<>();
                List<Path> progs = new ArrayList<>();
                List<Path> other = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(pinDir)) {
                    for (Path p : ds) {
                        String n = p.getFileName().toString();
                        if (n.endsWith(ContainerFiles.LINK_SUFFIX)
                                && types.containsKey(n.substring(0, n.length() - ContainerFiles.LINK_SUFFIX.length()))) {
                            links.add(p);
                        } else if (types.containsKey(n)) {
                            progs.add(p);
                        } else if (!n.equals(ContainerFiles.COUNTERS)) {
                            other.add(p);
                        }
                    }
                } catch (IOException e) {
                    throw new HookException("cannot list " + pinDir + ": " + e.getMessage());
                }
                for (Path l : links) {
                    unpin(l, problems);
                }
                for (Path p : progs) {
                    if (cg != null) {
                        detach(cg, p, types.get(p.getFileName().toString()), problems);
                    }
                    unpin(p, problems);
                }
                unpin(files.counters(), problems);
                for (Path o : other) {
                    problems.add(o + " was not made by cgbpf; left in place");
                }
                if (other.isEmpty()) {
                    try {
                        Files.deleteIfExists(pinDir);
                    } catch (IOException e) {
                        problems.add("cannot remove " + pinDir + ": " + e.getMessage());
                    }
                }
            } finally {
                if (cg != null) {
                    cg.close();
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new HookException("cleanup of " + whose(files, record) + ": " + String.join("; ", problems));
        }
        AttachRecord.remove(files);
        log.info("removed the programs, pins and record of " + whose(files, record));
    }

    private static String whose(ContainerFiles files, AttachRecord record) {
        return (record == null ? "the container" : "container " + record.id()) + " in cgroup " + files.key();
    }

    /** The recorded cgroup, if it still exists (runc removes it before poststop). */
    private static Fd openCgroup(AttachRecord record) {
        if (record == null || record.cgroup() == null) {
            return null;
        }
        Path dir = Path.of(record.cgroup());
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        try {
            return CgroupDir.open(dir);
        } catch (BpfException e) {
            return null;
        }
    }

    /**
     * Detaches the pinned program only when the cgroup's attached list has exactly that program:
     * for an attachment made without BPF_F_ALLOW_MULTI the kernel's BPF_PROG_DETACH removes
     * whatever program is attached, whichever fd it is given (legacy compatibility in
     * find_detach_entry), so a blind detach could remove another tool's program.
     */
    private static void detach(Fd cg, Path pin, AttachType type, List<String> problems) {
        try (Fd prog = ObjPin.objGet(pin.toString(), 0)) {
            int id = ObjGetInfoByFd.progInfo(prog).id();
            ProgQuery.Result q = ProgQuery.progQuery(cg, type.value(), 0, 64, false);
            boolean ours = false;
            for (int attached : q.progIds()) {
                ours |= attached == id;
            }
            if (ours && q.attachFlags().contains(AttachFlag.ALLOW_MULTI)) {
                ProgAttach.progDetach(cg, prog, type.value());
            }
        } catch (BpfException e) {
            // ENOENT: detached meanwhile (or attached through a link, which the unpin releases)
            if (!e.errno().equals(Errno.ENOENT.name())) {
                problems.add("detach " + pin.getFileName() + ": " + e.errno());
            }
        }
    }

    private static void unpin(Path pin, List<String> problems) {
        try {
            Files.deleteIfExists(pin);
        } catch (IOException e) {
            problems.add("cannot unpin " + pin + ": " + e.getMessage());
        }
    }
}
