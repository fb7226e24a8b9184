package dev.cgbpf.engine.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The verifier's public contract, without the kernel: results, logs, errnos and the facts the
 * runtime needs. The expected reasons are the running kernel's (the differential corpus in
 * native/ checks them against it); here they pin the engine's behaviour.
 */
class VerifierApiTest {
    private static final MapSpec HASH = new MapSpec("h", MapType.HASH, 4, 8, 16, 0);
    private static final Map<Integer, MapSpec> MAPS = Map.of(7, HASH);

    private static Program asm(String text) {
        return new Assembler(name -> name.equals("h") ? 7 : null).assemble(text);
    }

    private static VerifierResult ok(ProgType t, AttachType a, String text, int level) throws BpfException {
        return Verifier.verify(asm(text), t, a, MAPS::get, level);
    }

    private static BpfException rejected(ProgType t, AttachType a, String text) {
        return assertThrows(BpfException.class, () -> Verifier.verify(asm(text), t, a, MAPS::get, 1));
    }

    @Test
    void acceptedProgramHasTheLogOfItsLevel() throws BpfException {
        String prog = "r0 = 0\nexit";
        assertEquals("", ok(ProgType.SOCKET_FILTER, null, prog, 0).log());
        VerifierResult one = ok(ProgType.SOCKET_FILTER, null, prog, 1);
        assertTrue(one.log().startsWith("processed 2 insns (limit 1000000)"), one.log());
        assertEquals(2, one.processedInsns());
        String two = ok(ProgType.SOCKET_FILTER, null, prog, 2).log();
        assertTrue(two.contains("0: (b7) r0 = 0"), two);
        assertTrue(two.contains("1: (95) exit"), two);
    }

    @Test
    void rejectionCarriesErrnoReasonAndTrace() {
        BpfException e = rejected(ProgType.SOCKET_FILTER, null, "r1 = 1\nexit");
        assertEquals("EACCES", e.errno());
        assertEquals("R0 !read_ok", e.logReason());
        assertTrue(e.verifierLog().contains("0: (b7) r1 = 1"), e.verifierLog());
        assertTrue(e.verifierLog().strip().endsWith("mark_read 0"), e.verifierLog());
    }

    @Test
    void levelZeroRejectionStillExplainsItself() {
        BpfException e = assertThrows(BpfException.class,
                () -> Verifier.verify(asm("exit"), ProgType.SOCKET_FILTER, null, MAPS::get, 0));
        assertEquals("R0 !read_ok", e.logReason());
    }

    @Test
    void badInputIsEinvalWithoutAStackTrace() {
        BpfException empty = assertThrows(BpfException.class,
                () -> Verifier.verify(Program.of(), ProgType.SOCKET_FILTER, null, MAPS::get, 1));
        assertEquals("EINVAL", empty.errno());
        BpfException level = assertThrows(BpfException.class,
                () -> Verifier.verify(asm("r0 = 0\nexit"), ProgType.SOCKET_FILTER, null, MAPS::get, 3));
        assertEquals("EINVAL", level.errno());
    }

    @Test
    void expectedAttachTypeIsCheckedBeforeVerification() throws BpfException {
        BpfException none = rejected(ProgType.CGROUP_SOCK_ADDR, null, "r0 = 1\nexit");
        assertEquals("EINVAL", none.errno());
        assertEquals("", none.verifierLog());
        BpfException wrong = rejected(ProgType.CGROUP_SKB, AttachType.CGROUP_DEVICE, "r0 = 1\nexit");
        assertEquals("EINVAL", wrong.errno());
        // cgroup_sock without one is sock_create; ingress (value 0) means "none" to the kernel
        ok(ProgType.CGROUP_SOCK, null, "r2 = 1\n*(u32 *)(r1 +16) = r2\nr0 = 1\nexit", 0);
        ok(ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_INGRESS, "r0 = 1\nexit", 0);
    }

    @Test
    void egressProgramsReturningTwoOrThreeEnforceTheirAttachType() throws BpfException {
        assertTrue(ok(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, "r0 = 3\nexit", 0).enforcesExpectedAttach());
        assertTrue(ok(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS,
                "r0 = *(u32 *)(r1 +0)\nr0 &= 1\nr0 |= 2\nexit", 0).enforcesExpectedAttach());
        assertFalse(ok(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, "r0 = 1\nexit", 0).enforcesExpectedAttach());
        assertFalse(ok(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS,
                "r0 = *(u32 *)(r1 +0)\nr0 &= 3\nexit", 0).enforcesExpectedAttach());
        BpfException ingress = rejected(ProgType.CGROUP_SKB, null, "r0 = 2\nexit");
        assertEquals("At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]", ingress.logReason());
    }

    @Test
    void directPacketAccessIsReported() throws BpfException {
        String prog = """
                r2 = *(u32 *)(r1 +76)
                r3 = *(u32 *)(r1 +80)
                r4 = r2
                r4 += 1
                if r4 > r3 goto out
                r5 = *(u8 *)(r2 +0)
                out: r0 = 1
                exit""";
        assertTrue(ok(ProgType.CGROUP_SKB, null, prog, 0).usesDirectPacketAccess());
        assertFalse(ok(ProgType.CGROUP_SKB, null, "r0 = 1\nexit", 0).usesDirectPacketAccess());
    }

    @Test
    void mapFdsAreResolvedLikeTheKernel() throws BpfException {
        ok(ProgType.SOCKET_FILTER, null, "r1 = map[h]\nr0 = 0\nexit", 0);
        Program unknown = asm("r1 = map[fd:9]\nr0 = 0\nexit");
        BpfException badf = assertThrows(BpfException.class,
                () -> Verifier.verify(unknown, ProgType.SOCKET_FILTER, null, MAPS::get, 1));
        assertEquals("EBADF", badf.errno());
        assertEquals("fd 9 is not pointing to valid bpf_map", badf.logReason());
        BpfException notMap = assertThrows(BpfException.class,
                () -> Verifier.verify(unknown, ProgType.SOCKET_FILTER, null, MAPS::get, fd -> fd == 9, 1));
        assertEquals("EINVAL", notMap.errno());
    }

    @Test
    void lookupResultMustBeNullChecked() throws BpfException {
        String lookup = """
                r1 = map[h]
                r2 = r10
                r2 += -4
                *(u32 *)(r2 +0) = 0
                call bpf_map_lookup_elem#1
                """;
        BpfException e = rejected(ProgType.SOCKET_FILTER, null, lookup + "r0 = *(u64 *)(r0 +0)\nexit");
        assertEquals("R0 invalid mem access 'map_value_or_null'", e.logReason());
        ok(ProgType.SOCKET_FILTER, null, lookup + "if r0 == 0 goto out\nr0 = *(u64 *)(r0 +0)\nout: r0 = 0\nexit", 0);
    }

    @Test
    void processedInstructionLimitStopsUnboundedLoops() {
        BpfException e = rejected(ProgType.SOCKET_FILTER, null, """
                r2 = *(u32 *)(r1 +0)
                r3 = 0
                l: r3 += 1
                if r3 < r2 goto l
                r0 = 0
                exit""");
        assertEquals("E2BIG", e.errno());
        assertEquals("BPF program is too large. Processed 1000001 insn", e.logReason());
    }

    @Test
    void programLongerThanTheLimitIsE2bigWithoutLog() {
        dev.cgbpf.engine.isa.Insn mov = new dev.cgbpf.engine.isa.Insn(0xb7, 0, 0, 0, 0);
        java.util.List<dev.cgbpf.engine.isa.Insn> slots = new java.util.ArrayList<>(
                java.util.Collections.nCopies(Verifier.MAX_INSNS, mov));
        slots.add(new dev.cgbpf.engine.isa.Insn(0x95, 0, 0, 0, 0));
        BpfException e = assertThrows(BpfException.class,
                () -> Verifier.verify(new Program(slots), ProgType.SOCKET_FILTER, null, MAPS::get, 1));
        assertEquals("E2BIG", e.errno());
        assertEquals("", e.verifierLog());
    }

    @Test
    void levelOneLogKeepsOnlyTheFailingPath() {
        BpfException e = rejected(ProgType.CGROUP_SKB, null, """
                r2 = *(u32 *)(r1 +0)
                if r2 > 10 goto out
                r0 = 1
                exit
                out: r0 = 2
                exit""");
        String log = e.verifierLog();
        assertTrue(log.contains("1: (25) if r2 > 0xa goto pc+2 4: R1=ctx() R2=scalar("), log);
        assertFalse(log.contains("2: (b7) r0 = 1"), log);
        assertTrue(log.contains("4: (b7) r0 = 2"), log);
    }

    @Test
    void levelTwoLogShowsEveryPathInTheKernelsNotation() throws BpfException {
        String log = ok(ProgType.CGROUP_SKB, null, """
                r2 = *(u32 *)(r1 +0)
                if r2 > 10 goto out
                r0 = 1
                exit
                out: r0 = 0
                exit""", 2).log();
        assertTrue(log.contains("0: (61) r2 = *(u32 *)(r1 +0)          ; R1=ctx() "
                + "R2=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))"), log);
        assertTrue(log.contains("1: (25) if r2 > 0xa goto pc+2         ; "
                + "R2=scalar(smin=smin32=0,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))"), log);
        assertTrue(log.contains("\nfrom 1 to 4: R1=ctx() R2=scalar(smin=umin=umin32=11,smax=umax=0xffffffff,"
                + "var_off=(0x0; 0xffffffff)) R10=fp0\n4: R1=ctx()"), log);
    }

    @Test
    void infiniteLoopIsFound() {
        BpfException e = rejected(ProgType.SOCKET_FILTER, null, "l: goto l");
        assertEquals("EINVAL", e.errno());
        assertTrue(e.verifierLog().contains("infinite loop detected at insn 0"), e.verifierLog());
    }
}
