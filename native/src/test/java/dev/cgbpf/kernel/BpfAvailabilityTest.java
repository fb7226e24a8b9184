package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The probe's answer and the test gate, in child JVMs whose capabilities setpriv(1) cut down:
 * the kernel decides, the probe must explain it in one line.
 */
class BpfAvailabilityTest {

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @Test
    void usableHere() {
        BpfAvailability a = BpfAvailability.probeNow();
        assertTrue(a.usable(), a.reason());
        assertEquals(null, a.reason());
    }

    private static Map<String, String> runProbe(List<String> setpriv, String requireKernel)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(setpriv);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ProbeMain.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove(KernelRequired.ENV);
        if (requireKernel != null) {
            pb.environment().put(KernelRequired.ENV, requireKernel);
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return m;
    }

    private static List<String> setpriv(String caps) {
        assertTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) is needed");
        // the bounding set caps what an exec'ed root process gets
        return List.of("/usr/bin/setpriv", "--inh-caps=-all", "--bounding-set=" + caps);
    }

    @Test
    void rootWithoutCapabilitiesGetsOneClearReasonAndTheGateObeysTheEnvironment() throws Exception {
        Map<String, String> skip = runProbe(setpriv("-all"), null);
        assertEquals("false", skip.get("usable"));
        assertEquals("bpf(2) refused with EPERM: running as uid 0 but without the capabilities (dropped, e.g. by"
                + " a container runtime); cgbpf needs CAP_SYS_ADMIN, or CAP_BPF and CAP_NET_ADMIN;"
                + " kernel.unprivileged_bpf_disabled=" + ProcFile.read(Path.of(
                        "/proc/sys/kernel/unprivileged_bpf_disabled")).strip(), skip.get("reason"));
        assertTrue(skip.get("gate").startsWith("skip bpf(2) unusable, kernel test skipped: bpf(2) refused"),
                skip.get("gate"));
        Map<String, String> fail = runProbe(setpriv("-all"), "1");
        assertTrue(fail.get("gate").startsWith("fail bpf(2) is required (CGBPF_REQUIRE_KERNEL=1) but unusable:"),
                fail.get("gate"));
    }

    @Test
    void capBpfAloneIsNotEnoughButWithNetAdminItIs() throws Exception {
        assertEquals("false", runProbe(setpriv("-all,+bpf"), null).get("usable"));
        Map<String, String> both = runProbe(setpriv("-all,+bpf,+net_admin"), "1");
        assertEquals("true", both.get("usable"), both.toString());
        assertEquals("pass", both.get("gate"));
        assertEquals("true", runProbe(setpriv("-all,+sys_admin"), null).get("usable"));
    }
}
