package dev.cgbpf.hook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.kernel.BpfAvailability;
import dev.cgbpf.kernel.CgroupMode;
import dev.cgbpf.kernel.HostReport;
import dev.cgbpf.kernel.KernelRequired;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code cgbpf doctor}: its output and exit status on a made-up host and on this one. */
class DoctorCommandTest {

    record Run(int status, String out) {
    }

    static Run run(HostReport report, String... args) throws CliException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Console c = new Console(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        int status = new DoctorCommand(() -> report).run(new Args("doctor", List.of(args)), c);
        return new Run(status, out.toString(StandardCharsets.UTF_8));
    }

    static HostReport hostWithoutBpf() {
        List<HostReport.AttachSupport> none = new ArrayList<>();
        for (AttachType t : AttachType.values()) {
            none.add(new HostReport.AttachSupport(t, false, "not tried: bpf(2) unusable"));
        }
        return new HostReport("6.1.0-test", new BpfAvailability(false, "bpf(2) is EPERM: not root"),
                CgroupMode.values()[0], Path.of("/sys/fs/cgroup"), List.of(), "1", none);
    }

    @Test
    void aHostWithoutBpfIsReportedInFullAndExitsOne() throws Exception {
        Run r = run(hostWithoutBpf());
        assertEquals(1, r.status());
        assertTrue(r.out().contains("6.1.0-test"), r.out());
        assertTrue(r.out().contains("bpf(2) is EPERM: not root"), r.out());
        assertTrue(r.out().contains("cgroup_device"), r.out());
    }

    @Test
    void jsonIsOneParsableObject() throws Exception {
        Run r = run(hostWithoutBpf(), "--json");
        assertEquals(1, r.status());
        assertEquals(1, r.out().lines().count(), r.out());
        JsonNode j = JsonMapper.builder().build().readTree(r.out());
        assertEquals("6.1.0-test", j.get("kernel").asText());
        assertEquals(false, j.get("bpf").get("usable").asBoolean());
        assertEquals(AttachType.values().length, j.get("attach_types").size());
    }

    @Test
    void badArgumentsAreUsageErrors() {
        CliException e = assertThrows(CliException.class, () -> run(hostWithoutBpf(), "--yaml"));
        assertEquals(CliException.USAGE, e.exitStatus());
        e = assertThrows(CliException.class, () -> run(hostWithoutBpf(), "extra"));
        assertEquals(CliException.USAGE, e.exitStatus());
        e = assertThrows(CliException.class, () -> run(hostWithoutBpf(), "--json=yes"));
        assertEquals(CliException.USAGE, e.exitStatus());
    }

    @Test
    void thisHostOffersTheDeviceAndSocketHooks() throws Exception {
        KernelRequired.check();
        CliRun r = CliRun.of("", "doctor", "--json");
        assertEquals(0, r.status(), r.out() + r.err());
        JsonNode j = JsonMapper.builder().build().readTree(r.out());
        assertTrue(j.get("bpf").get("usable").asBoolean());
        for (JsonNode a : j.get("attach_types")) {
            String name = a.get("name").asText();
            if (!name.equals("lirc_mode2")) {
                assertTrue(a.get("supported").asBoolean(), name + ": " + a.get("detail").asText());
            }
        }
    }
}
