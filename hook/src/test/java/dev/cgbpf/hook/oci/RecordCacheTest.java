package dev.cgbpf.hook.oci;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run directory's record cache: reused while the file is the same, never stale. */
class RecordCacheTest {
    @TempDir
    Path run;

    private ContainerFiles files(long cgroupId) {
        String key = Long.toUnsignedString(cgroupId);
        return new ContainerFiles(key, run.resolve(key), run.resolve("pins").resolve(key));
    }

    private static AttachRecord record(String id, long cgroupId, String status) {
        return new AttachRecord(AttachRecord.VERSION, id, status, AttachRecord.KERNEL, "link", "createRuntime",
                "/bundles/" + id, "/sys/fs/cgroup/" + id, "/" + id, cgroupId, List.of(), null,
                "2026-12-07T00:00:00Z", List.of(), null, List.of());
    }

    @Test
    void anUnchangedRecordIsNotReadAgainAndARewriteIsSeen() throws Exception {
        ContainerFiles f = files(4242);
        record("web-1", 4242, AttachRecord.ATTACHING).write(f);
        AttachRecord first = RecordCache.read(f);
        assertEquals(AttachRecord.ATTACHING, first.status());
        assertSame(first, RecordCache.read(f), "unchanged file: the record read before");

        record("web-1", 4242, AttachRecord.ATTACHED).write(f);
        AttachRecord second = RecordCache.read(f);
        assertNotSame(first, second);
        assertEquals(AttachRecord.ATTACHED, second.status(), "a rewrite (rename of a new file) is read again");
    }

    @Test
    void aChangeInPlaceWithTheSameSizeIsSeenByItsModificationTime() throws Exception {
        ContainerFiles f = files(7);
        record("aaaa", 7, AttachRecord.ATTACHED).write(f);
        assertEquals("aaaa", RecordCache.read(f).id());
        String text = Files.readString(f.record()).replace("\"aaaa\"", "\"bbbb\"");
        FileTime before = Files.getLastModifiedTime(f.record());
        Files.writeString(f.record(), text);
        Files.setLastModifiedTime(f.record(), FileTime.fromMillis(before.toMillis() + 1000));
        assertEquals("bbbb", RecordCache.read(f).id());
    }

    @Test
    void aRemovedRecordIsNoneAndADamagedOneIsAnErrorNotTheOldRecord() throws Exception {
        ContainerFiles f = files(9);
        record("c-9", 9, AttachRecord.ATTACHED).write(f);
        RecordCache.read(f);
        Files.delete(f.record());
        assertNull(RecordCache.read(f));

        record("c-9", 9, AttachRecord.ATTACHED).write(f);
        RecordCache.read(f);
        Files.writeString(f.record(), "{ not json");
        assertThrows(HookException.class, () -> RecordCache.read(f));
    }

    @Test
    void recordsOfGoneContainersAreForgotten() throws Exception {
        ContainerFiles a = files(1);
        ContainerFiles b = files(2);
        record("a", 1, AttachRecord.ATTACHED).write(a);
        record("b", 2, AttachRecord.ATTACHED).write(b);
        RecordCache.read(a);
        RecordCache.read(b);
        int before = RecordCache.size();
        RecordCache.retainOnly(run, Set.of(a.record()));
        assertEquals(before - 1, RecordCache.size());
        assertTrue(RecordCache.read(a) != null);
    }
}
