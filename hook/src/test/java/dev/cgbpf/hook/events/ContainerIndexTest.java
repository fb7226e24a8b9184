package dev.cgbpf.hook.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.cgbpf.hook.oci.AttachRecord;
import dev.cgbpf.hook.oci.ContainerFiles;
import dev.cgbpf.hook.oci.HookSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which container an event's cgroup id belongs to, as containers come and go between full reads. */
class ContainerIndexTest {
    @TempDir
    Path dir;

    private HookSettings settings() throws Exception {
        return HookSettings.fromEnvironment(Map.of("CGBPF_RUN_DIR", dir.resolve("run").toString(),
                "CGBPF_PIN_DIR", dir.resolve("pins").toString()));
    }

    /** A dry run's record: the index then never needs the kernel to read it. */
    private static AttachRecord record(String id, long cgroupId) {
        return new AttachRecord(AttachRecord.VERSION, id, AttachRecord.ATTACHED, AttachRecord.DRY_RUN, "link",
                "createRuntime", "/bundles/" + id, "/sys/fs/cgroup/" + id, "/" + id, cgroupId, List.of(), null,
                "2026-12-07T00:00:00Z", List.of(), null, List.of());
    }

    @Test
    void aContainerStartedJustAfterAFullReadIsKnownFromItsFirstEvent() throws Exception {
        HookSettings s = settings();
        List<String> warnings = new ArrayList<>();
        ContainerIndex index = new ContainerIndex(s, warnings::add);
        index.refresh(System.currentTimeMillis());
        assertEquals(List.of(), index.statuses());

        // the record appears right after the read; the container's denials follow at once
        record("web", 4242).write(s.files(4242));
        assertEquals("web", index.lookup(4242).id());
        assertNull(index.lookup(4243), "a cgroup without a record has no container");

        index.refresh(System.currentTimeMillis());
        assertEquals(List.of("web"), index.statuses().stream().map(c -> c.record().id()).toList());
        assertEquals(List.of(), warnings);

        // a record read on its own is kept until the next full read, not read again per event
        record("db", 4244).write(s.files(4244));
        assertEquals("db", index.lookup(4244).id());
        Files.delete(s.files(4244).record());
        assertEquals("db", index.lookup(4244).id(), "read once, until the next full read");
        index.refresh(System.currentTimeMillis());
        assertNull(index.lookup(4244), "gone after the full read that no longer finds it");
    }

    @Test
    void aDamagedRecordCostsOnlyItsOwnCgroupAndIsSaidOnce() throws Exception {
        HookSettings s = settings();
        List<String> warnings = new ArrayList<>();
        ContainerIndex index = new ContainerIndex(s, warnings::add);
        record("web", 10).write(s.files(10));
        ContainerFiles bad = s.files(11);
        Files.createDirectories(bad.recordDir());
        Files.writeString(bad.record(), "{not json");

        for (int i = 0; i < 3; i++) {
            assertNull(index.lookup(11));
            assertEquals("web", index.lookup(10).id());
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertEquals(true, warnings.get(0).startsWith("events: cannot read the record of cgroup 11 ("), warnings.get(0));
        assertEquals(false, warnings.get(0).contains("{not json"), "no error echoes a file's contents");
    }
}
