package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * linux.cgroupsPath in the systemd driver's {@code slice:prefix:name} form: the slice expands
 * the way systemd (and runc's ExpandSlice) names slice directories, each dash one level deeper;
 * the unit is {@code prefix-name.scope}, or {@code name} itself when it is a slice.
 */
class CgroupsPathTest {

    private static List<String> path(String p) {
        return Arrays.stream(p.split("/")).filter(s -> !s.isEmpty()).toList();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "system.slice:runc:ctr1              | /system.slice/runc-ctr1.scope",
        "machine-app.slice:cgbpf:ctr1        | /machine.slice/machine-app.slice/cgbpf-ctr1.scope",
        "a-b-c.slice:crun:x                  | /a.slice/a-b.slice/a-b-c.slice/crun-x.scope",
        "user-1000.slice:podman:abc          | /user.slice/user-1000.slice/podman-abc.scope",
        "-.slice:runc:ctr1                   | /runc-ctr1.scope",
        "system.slice:runc:sub.slice         | /system.slice/sub.slice",
    })
    void systemdSlicesExpandLevelByLevel(String cgroupsPath, String expected) throws HookException {
        CgroupsPath p = CgroupsPath.parse(cgroupsPath, "ctr1");
        assertEquals(path(expected), p.suffix());
        assertFalse(p.absolute());
        assertTrue(p.matches(path(expected), "ctr1"));
        // the same path below a runtime's parent cgroup (a nested systemd, a cgroup namespace) is the container's too
        assertTrue(p.matches(path("/outer.slice" + expected), "ctr1"));
    }

    @Test
    void aSystemdPathMatchesOnlyItsOwnExpansion() throws HookException {
        CgroupsPath p = CgroupsPath.parse("machine-app.slice:cgbpf:ctr1", "ctr1");
        // the unit alone, without the slice levels systemd puts it in
        assertFalse(p.matches(path("/cgbpf-ctr1.scope"), "ctr1"));
        // flat slice directory (no expansion), another prefix, another container, a deeper cgroup
        assertFalse(p.matches(path("/machine-app.slice/cgbpf-ctr1.scope"), "ctr1"));
        assertFalse(p.matches(path("/machine.slice/machine-app.slice/runc-ctr1.scope"), "ctr1"));
        assertFalse(p.matches(path("/machine.slice/machine-app.slice/cgbpf-ctr2.scope"), "ctr1"));
        assertFalse(p.matches(path("/machine.slice/machine-app.slice/cgbpf-ctr1.scope/sub"), "ctr1"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "notaslice:runc:ctr1    | has slice 'notaslice', not a systemd slice name",
        "a--b.slice:runc:ctr1   | has an invalid slice name 'a--b.slice'",
        "-a.slice:runc:ctr1     | has an invalid slice name '-a.slice'",
        "a-.slice:runc:ctr1     | has an invalid slice name 'a-.slice'",
        ".slice:runc:ctr1       | has an invalid slice name '.slice'",
        "system.slice:runc:     | has no unit name (slice:prefix:name)",
    })
    void malformedSystemdPathsAreOneLineErrors(String cgroupsPath, String why) {
        HookException e = assertThrows(HookException.class, () -> CgroupsPath.parse(cgroupsPath, "ctr1"));
        assertEquals("config.json: field 'linux.cgroupsPath': '" + cgroupsPath + "' " + why, e.getMessage());
    }

    @Test
    void cgroupfsPathsAbsoluteRelativeAndAbsent() throws HookException {
        CgroupsPath abs = CgroupsPath.parse("/a/b", "ctr1");
        assertTrue(abs.absolute());
        assertTrue(abs.matches(path("/a/b"), "ctr1"));
        assertFalse(abs.matches(path("/a/b/c"), "ctr1"));
        CgroupsPath rel = CgroupsPath.parse("a/b", "ctr1");
        assertFalse(rel.absolute());
        assertTrue(rel.matches(path("/runtime/a/b"), "ctr1"));
        CgroupsPath none = CgroupsPath.parse(null, "ctr1");
        assertTrue(none.matches(path("/ctr1"), "ctr1"));
        assertTrue(none.matches(path("/system.slice/runc-ctr1.scope"), "ctr1"));
        assertFalse(none.matches(path("/ctr2"), "ctr1"));
        assertFalse(none.matches(List.of(), "ctr1"));
    }
}
