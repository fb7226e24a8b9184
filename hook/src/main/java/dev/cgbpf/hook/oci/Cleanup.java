package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.QueryResult;
import dev.cgbpf.hook.compile.ProgramMap;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Removes everything the attach stage made for a container, by its files: poststop's work, and
 * the rollback of a failed attach. Idempotent: what is already gone is skipped.
 *
 * <ul>
 * <li>a link pin ({@code NAME_link}): unpinned; the last reference to the link gone, the kernel
 *     detaches the program (if the runtime removed the cgroup first, the link was already
 *     defunct).</li>
 * <li>a program pin: when the cgroup still exists, BPF_PROG_DETACH of that program if the cgroup
 *     lists it as attached with BPF_F_ALLOW_MULTI (see {@link #detach}), then unpinned.</li>
 * <li>the device maps' pins ({@code NAME_map}), the counter map pin, the pin directory, the record.</li>
 * </ul>
 * Files in the pin directory that cgbpf does not make are left alone and make the cleanup fail,
 * rather than deleting what somebody else put there.
 */
final class Cleanup {
    private Cleanup() {
    }

    /**
     * @param cgroup the container's cgroup relative to the backend's cgroup root, or null when it
     *               is not known (or not on this host's hierarchy any more)
     * @param record the container's record, or null when there is none (only pins are left to remove)
     */
    static void run(Backend b, String cgroup, ContainerFiles files, AttachRecord record, HookLog log)
            throws HookException {
        List<String> problems = new ArrayList<>();
        Path pinDir = files.pinDir();
        List<String> names;
        try {
            names = b.pinList(pinDir);
        } catch (BpfException e) {
            if (!Errno.ENOENT.name().equals(e.errno())) {
                throw new HookException("cannot list " + pinDir + ": " + Attach.describe(e));
            }
            names = List.of();
        } catch (IllegalArgumentException e) {
            throw new HookException("pin directory " + pinDir + ": " + e.getMessage());
        }
        if (!names.isEmpty() || exists(b, pinDir)) {
            Map<String, AttachType> types = new HashMap<>(ProgramNames.ATTACH_TYPES);
            if (record != null) {
                record.programs().forEach(p -> types.put(p.name(), p.attachType()));
            }
            List<String> links = new ArrayList<>();
            List<String> progs = new ArrayList<>();
            List<String> maps = new ArrayList<>();
            for (String n : names) {
                if (n.endsWith(ContainerFiles.LINK_SUFFIX)
                        && types.containsKey(n.substring(0, n.length() - ContainerFiles.LINK_SUFFIX.length()))) {
                    links.add(n);
                } else if (n.endsWith(ProgramMap.PIN_SUFFIX)
                        && types.containsKey(n.substring(0, n.length() - ProgramMap.PIN_SUFFIX.length()))) {
                    maps.add(n);
                } else if (types.containsKey(n)) {
                    progs.add(n);
                } else if (!n.equals(ContainerFiles.COUNTERS)) {
                    problems.add(pinDir.resolve(n) + " was not made by cgbpf; left in place");
                }
            }
            for (String l : links) {
                unpin(b, pinDir.resolve(l), problems);
            }
            for (String p : progs) {
                if (cgroup != null) {
                    detach(b, cgroup, pinDir.resolve(p), types.get(p), problems);
                }
                unpin(b, pinDir.resolve(p), problems);
            }
            for (String m : maps) {
                unpin(b, pinDir.resolve(m), problems);
            }
            unpin(b, files.counters(), problems);
            if (problems.isEmpty()) {
                try {
                    b.pinRmdir(pinDir);
                } catch (BpfException e) {
                    if (!Errno.ENOENT.name().equals(e.errno())) {
                        problems.add("cannot remove " + pinDir + ": " + e.errno());
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new HookException("cleanup of " + whose(files, record) + ": " + String.join("; ", problems));
        }
        AttachRecord.remove(files);
        log.info("removed the programs, pins and record of " + whose(files, record));
    }

    private static boolean exists(Backend b, Path dir) {
        try {
            b.pinList(dir);
            return true;
        } catch (BpfException | IllegalArgumentException e) {
            return false;
        }
    }

    private static String whose(ContainerFiles files, AttachRecord record) {
        return (record == null ? "the container" : "container " + record.id()) + " in cgroup " + files.key();
    }

    /**
     * Detaches the pinned program only when the cgroup's attached list has exactly that program
     * with BPF_F_ALLOW_MULTI: for an attachment made without it the kernel's BPF_PROG_DETACH
     * removes whatever program is attached, whichever fd it is given (legacy compatibility in
     * find_detach_entry), so a blind detach could remove another tool's program. A program
     * attached through a link is not detached this way (ENOENT); its link pin's removal does it.
     */
    private static void detach(Backend b, String cgroup, Path pin, AttachType type, List<String> problems) {
        try (LoadedProg prog = b.progGet(pin)) {
            int id = b.progInfo(prog).id();
            QueryResult q = b.query(cgroup, type, false, -1);
            if (q.flags().contains(AttachFlag.ALLOW_MULTI) && b.isAttached(cgroup, type, id)) {
                b.detach(cgroup, type, prog);
            }
        } catch (BpfException e) {
            // ENOENT: the cgroup is gone, the program detached meanwhile, or attached through a link
            if (!Errno.ENOENT.name().equals(e.errno())) {
                problems.add("detach " + pin.getFileName() + ": " + e.errno());
            }
        }
    }

    private static void unpin(Backend b, Path pin, List<String> problems) {
        try {
            b.unpin(pin);
        } catch (BpfException e) {
            if (!Errno.ENOENT.name().equals(e.errno())) {
                problems.add("cannot unpin " + pin + ": " + e.errno());
            }
        }
    }
}
