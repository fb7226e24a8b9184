package dev.cgbpf.hook.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.kernel.KernelRequired;
import org.junit.jupiter.api.Test;

/** {@code cgbpf verify}: the kernel's answer to a load, as a log and an exit status. */
class VerifyCommandTest {

    @Test
    void anAcceptedProgramPrintsTheStatisticsAndExitsZero() {
        CliRun r = CliRun.of("r0 = 1\nexit\n", "verify", "--type", "cgroup_device");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().startsWith("processed 2 insns"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void aRefusedProgramPrintsTheLogAndOneLineWithTheErrno() {
        CliRun r = CliRun.of("exit\n", "verify", "--type", "socket_filter");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.out().contains("R0 !read_ok\n"), r.out());
        assertEquals("cgbpf: verify: refused: EACCES: R0 !read_ok\n", r.err());
    }

    @Test
    void aMissingExpectedAttachTypeIsEinvalWithoutAVerifierLog() {
        CliRun r = CliRun.of("r0 = 1\nexit\n", "verify", "--type", "cgroup_sock_addr");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().startsWith("cgbpf: verify: refused: EINVAL: "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void theKernelGivesTheSameAnswerAsTheEngine() {
        KernelRequired.check();
        String prog = "r0 = *(u32 *)(r1 +0)\nexit\n";
        CliRun engine = CliRun.of(prog, "verify", "--type", "cgroup_device");
        CliRun kernel = CliRun.of(prog, "verify", "--type", "cgroup_device", "--backend", "kernel");
        assertEquals(1, kernel.status(), kernel.toString());
        assertEquals(kernel.status(), engine.status());
        assertEquals(kernel.err(), engine.err());
    }

    /**
     * The engine answers with its verifier, as the kernel's load would: a helper the engine's
     * interpreter cannot run (bpf_probe_read_kernel) is no reason to refuse here.
     */
    @Test
    void theEngineAnswersWithItsVerifierEvenForHelpersItCannotRun() {
        KernelRequired.check();
        String prog = "r1 = r10\nr1 += -8\nr2 = 8\nr3 = 0\ncall bpf_probe_read_kernel#113\nr0 = 1\nexit\n";
        CliRun engine = CliRun.of(prog, "verify", "--type", "cgroup_skb", "--attach", "cgroup_inet_ingress");
        CliRun kernel = CliRun.of(prog, "verify", "--type", "cgroup_skb", "--attach", "cgroup_inet_ingress",
                "--backend", "kernel");
        assertEquals(0, kernel.status(), kernel.toString());
        assertEquals(0, engine.status(), engine.toString());
        assertEquals(kernel.out(), engine.out());
    }

    @Test
    void badArgumentsAreUsageErrors() {
        assertEquals("cgbpf: verify: --type is required (see 'cgbpf help verify')\n",
                CliRun.of("exit\n", "verify").err());
        CliRun r = CliRun.of("exit\n", "verify", "--type", "nope");
        assertEquals(2, r.status());
        assertEquals("cgbpf: verify: unknown program type 'nope'\n", r.err());
        assertEquals(2, CliRun.of("exit\n", "verify", "--type", "socket_filter", "--log-level", "3").status());
    }
}
