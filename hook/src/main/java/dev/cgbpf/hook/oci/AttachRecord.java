package dev.cgbpf.hook.oci;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.hook.compile.DenialRules;
import dev.cgbpf.hook.spec.ContainerId;
import dev.cgbpf.hook.spec.Json;
import dev.cgbpf.hook.spec.RecordJson;
import dev.cgbpf.hook.spec.SpecException;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * What the attach stage made for a container, kept in {@code /run/cgbpf/<cgroup id>/state.json}
 * (0600) so that poststop, {@code cgbpf status} and a repeated attach stage find it.
 *
 * <p>The record is written twice: with status {@code attaching} before the first kernel object
 * exists (it names the cgroup, which is all a cleanup needs besides the pins), and with status
 * {@code attached} and the program ids when everything is in place. A hook killed in between
 * (runtime timeout) thus leaves a record that poststop or the next attach can undo.
 *
 * @param backend {@code kernel} or {@code dry-run} (nothing attached, only recorded)
 * @param mode {@code link} or {@code attach}
 * @param bundle the bundle path of the runtime's state: with the id, what poststop knows its container by
 * @param cgroup the cgroup v2 directory the programs are attached to
 * @param cgroupPath the cgroup's path in the hierarchy
 * @param cgroupId the cgroup's id (its directory's inode number), the record's key
 * @param bindAddresses the bind addresses the container holds, so that no other container takes them
 * @param programs what is (or, dry-run: would be) attached, in attach order
 * @param deviceUpdate the container's latest {@code cgbpf update --devices}, or null (absent in the file) before any
 * @param rules the words of each rule index the programs' denial events can carry (docs/events.md);
 *              empty in records written before events
 */
public record AttachRecord(int version, String id, String status, String backend, String mode, String stage,
                           String bundle, String cgroup, String cgroupPath, long cgroupId, List<String> bindAddresses,
                           String pinDir, String time, List<Program> programs,
                           DeviceUpdate deviceUpdate, List<DenialRules.Rule> rules) {
    /** The record format: 2 keys records by cgroup id (1 keyed them by container id). */
    public static final int VERSION = 2;
    public static final String ATTACHING = "attaching";
    public static final String ATTACHED = "attached";
    public static final String KERNEL = "kernel";
    public static final String DRY_RUN = "dry-run";

    /**
     * One program.
     *
     * @param attachType where it is attached; in the file by its scenario-format name (cgroup_device, cgroup_inet4_bind...)
     * @param progId the kernel's program id (0 in a dry run)
     * @param insns instruction slots
     * @param tag the program's tag as the kernel reports it (bpftool shows it); the engine computes the same
     * @param mapEntries the entries of the program's own map (a device program of the maps shape,
     *                   pinned as {@code NAME_map}), or null for a program without one
     */
    public record Program(String name, AttachType attachType, int progId, int insns, String tag,
                          Integer mapEntries) {
        public Program(String name, AttachType attachType, int progId, int insns, String tag) {
            this(name, attachType, progId, insns, tag, null);
        }
    }

    /**
     * What {@code cgbpf update ID --devices RULES} last put in place.
     *
     * @param devices the RULES, applied after the container's own device rules (each update replaces the one before)
     * @param time when
     * @param count how many updates the container has had
     */
    public record DeviceUpdate(String devices, String time, int count) {
    }

    /** Records in JSON; an attach type by its scenario-format name. */
    private static final RecordJson JSON = RecordJson.PLAIN.withText(new RecordJson.TextValue<>(AttachType.class,
            AttachRecord::attachType, AttachType::scenarioName));

    private static AttachType attachType(String name) {
        try {
            return AttachType.fromScenarioName(name);
        } catch (IllegalArgumentException e) {
            // not the name itself: a damaged record is never quoted
            throw new IllegalArgumentException("not an attach type this version of cgbpf knows");
        }
    }

    public AttachRecord {
        programs = programs == null ? List.of() : List.copyOf(programs);
        bindAddresses = bindAddresses == null ? List.of() : List.copyOf(bindAddresses);
        rules = rules == null ? List.of() : List.copyOf(rules);
    }

    public AttachRecord(int version, String id, String status, String backend, String mode, String stage,
                        String bundle, String cgroup, String cgroupPath, long cgroupId, List<String> bindAddresses,
                        String pinDir, String time, List<Program> programs) {
        this(version, id, status, backend, mode, stage, bundle, cgroup, cgroupPath, cgroupId, bindAddresses, pinDir,
                time, programs, null, List.of());
    }

    public AttachRecord with(String newStatus, List<Program> newPrograms) {
        return new AttachRecord(version, id, newStatus, backend, mode, stage, bundle, cgroup, cgroupPath, cgroupId,
                bindAddresses, pinDir, time, newPrograms, deviceUpdate, rules);
    }

    /** This record after a device update: {@code newPrograms} in place, {@code update} recorded, {@code newRules} named. */
    public AttachRecord withUpdate(List<Program> newPrograms, DeviceUpdate update, List<DenialRules.Rule> newRules) {
        return new AttachRecord(version, id, status, backend, mode, stage, bundle, cgroup, cgroupPath, cgroupId,
                bindAddresses, pinDir, time, newPrograms, update, newRules);
    }

    /** Reads a record; a missing one is null, a damaged one (or one of another cgroup) a one-line error. */
    public static AttachRecord read(ContainerFiles files) throws HookException {
        Path f = files.record();
        if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        AttachRecord r = read(f);
        if (!Long.toUnsignedString(r.cgroupId()).equals(files.key())) {
            throw new HookException(f + ": a record of cgroup " + Long.toUnsignedString(r.cgroupId())
                    + ", not of " + files.key());
        }
        return r;
    }

    /**
     * The record of the container in the cgroup with id {@code cgroupId}, or null when there is
     * none: one lstat when the file is unchanged since the last read ({@link RecordCache}).
     */
    public static AttachRecord ofCgroup(HookSettings settings, long cgroupId) throws HookException {
        return RecordCache.read(settings.files(cgroupId));
    }

    /** Reads the record file {@code f}; damaged is a one-line error that does not quote the file. */
    static AttachRecord read(Path f) throws HookException {
        try {
            AttachRecord r = JSON.read(Json.readBytes(f, f.toString()), AttachRecord.class, f.toString());
            if (r == null || r.version() != VERSION || r.id() == null || r.status() == null || r.backend() == null) {
                throw new HookException(f + ": not a cgbpf record (version " + VERSION + ")");
            }
            ContainerId.validate(r.id(), f.toString());
            return r;
        } catch (SpecException e) {
            throw new HookException(e.getMessage());
        }
    }

    /** Writes the record atomically (temporary file, then rename), the directory 0700 and the file 0600. */
    public void write(ContainerFiles files) throws HookException {
        try {
            Secure.mkdirs(files.recordDir());
            Path tmp = files.recordDir().resolve(ContainerFiles.RECORD + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try {
                Files.write(tmp, JSON.write(this));
                try {
                    Files.move(tmp, files.record(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, files.record(), StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                // a full disk fails the write: leave no half-written file for nobody to remove
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new HookException("cannot write " + files.record() + ": " + e.getMessage());
        }
    }

    /** Removes the record and its directory; absent is fine. */
    public static void remove(ContainerFiles files) throws HookException {
        try {
            Files.deleteIfExists(files.recordDir().resolve(ContainerFiles.RECORD + ".tmp"));
            Files.deleteIfExists(files.record());
            Files.deleteIfExists(files.recordDir());
        } catch (IOException e) {
            throw new HookException("cannot remove " + files.recordDir() + ": " + e.getMessage());
        }
    }
}
