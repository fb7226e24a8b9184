package dev.cgbpf.engine.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import org.junit.jupiter.api.Test;

/**
 * bpf-to-bpf calls in the engine verifier, without the kernel: the call frames as the log shows
 * them and the rules that span frames. The expected log lines and reasons were taken from Linux
 * 6.18 (calls.txt in the differential corpus checks the reasons against the running kernel).
 */
class CallFramesVerifierTest {

    private static Program asm(String text) {
        return new Assembler().assemble(text);
    }

    private static String log2(String text) throws BpfException {
        return Verifier.verify(asm(text), ProgType.SOCKET_FILTER, null, fd -> null, 2).log();
    }

    private static BpfException rejected(String text) {
        return assertThrows(BpfException.class,
                () -> Verifier.verify(asm(text), ProgType.SOCKET_FILTER, null, fd -> null, 1));
    }

    @Test
    void levelTwoLogShowsCallerCalleeAndTheReturn() throws BpfException {
        String log = log2("""
                r1 = 5
                call f
                exit
                f:
                r0 = r1
                r0 += 1
                exit
                """);
        String expected = """
                0: R1=ctx() R10=fp0
                0: (b7) r1 = 5                        ; R1=5
                1: (85) call pc+1
                caller:
                 R10=fp0
                callee:
                 frame1: R1=5 R10=fp0
                3: frame1: R1=5 R10=fp0
                3: (bf) r0 = r1                       ; frame1: R0=5 R1=5
                4: (07) r0 += 1                       ; frame1: R0=6
                5: (95) exit
                returning from callee:
                 frame1: R0=6 R1=5 R10=fp0
                to caller at 2:
                 R0=6 R10=fp0

                from 5 to 2: R0=6 R10=fp0
                2: (95) exit
                """;
        assertEquals(expected, log.substring(0, log.indexOf("processed ")), log);
    }

    @Test
    void pointersIntoOtherFramesNameTheirFrame() throws BpfException {
        String log = log2("""
                r1 = r10
                r1 += -8
                call f
                r0 = 0
                exit
                f:
                r2 = r10
                r2 += -16
                *(u64 *)(r10 -16) = r1
                call g
                r0 = 0
                exit
                g:
                r3 = *(u64 *)(r2 +0)
                *(u64 *)(r3 +0) = 1
                r0 = *(u64 *)(r1 +0)
                r0 = 0
                exit
                """);
        assertTrue(log.contains("7: (7b) *(u64 *)(r10 -16) = r1        ; frame1: R1=fp[0]-8 R10=fp0 fp-16=fp[0]-8\n"), log);
        assertTrue(log.contains("callee:\n frame2: R1=fp[0]-8 R2=fp[1]-16 R10=fp0\n"), log);
        // the callee wrote 1 into frame 0's fp-8 through the pointer and read it back
        assertTrue(log.contains("13: (79) r0 = *(u64 *)(r1 +0)         ; frame2: R0=1 R1=fp[0]-8\n"), log);
        assertTrue(log.contains("to caller at 3:\n R0=0 R10=fp0 fp-8=1\n"), log);
    }

    @Test
    void theCalleeDoesNotCheckR0TheCallerDoes() throws BpfException {
        log2("call f\nr0 = 0\nexit\nf:\nexit");
        BpfException e = rejected("call f\nexit\nf:\nexit");
        assertEquals("EACCES", e.errno());
        assertEquals("R0 !read_ok", e.logReason());
        // the error is at the main program's exit, after the return
        assertTrue(e.verifierLog().contains("to caller at 1:\n R10=fp0\n"), e.verifierLog());
    }

    @Test
    void depthRecursionAndStackLimits() {
        BpfException deep = rejected("call f\nexit\nf:\ncall f\nr0 = 0\nexit");
        assertEquals("E2BIG", deep.errno());
        assertEquals("the call stack of 9 frames is too deep", deep.logReason());
        BpfException bounded = rejected("r1 = 3\ncall f\nexit\nf:\nif r1 == 0 goto out\nr1 += -1\ncall f\n"
                + "out:\nr0 = 0\nexit");
        assertEquals("E2BIG", bounded.errno());
        assertEquals("the call stack of 8 frames is too deep !", bounded.logReason());
        BpfException stack = rejected("*(u32 *)(r10 -500) = 0\ncall f\nr0 = 0\nexit\nf:\n*(u64 *)(r10 -8) = 0\n"
                + "r0 = 0\nexit");
        assertEquals("EACCES", stack.errno());
        // 504 rounds up to 512, 8 to 16
        assertEquals("combined stack size of 2 calls is 528. Too large", stack.logReason());
    }

    @Test
    void stackPointersStayInTheirFrames() {
        BpfException spill = rejected("r1 = r10\nr1 += -8\ncall f\nr0 = 0\nexit\nf:\n*(u64 *)(r1 +0) = r10\nr0 = 0\nexit");
        assertEquals("EINVAL", spill.errno());
        assertEquals("cannot spill pointers to stack into stack frame of the caller", spill.logReason());
        BpfException ret = rejected("r1 = r10\nr1 += -8\ncall f\nr0 = 0\nexit\nf:\nr0 = r1\nexit");
        assertEquals("EINVAL", ret.errno());
        assertEquals("cannot return stack pointer to the caller", ret.logReason());
    }

    @Test
    void statesOfDifferentCallSitesDoNotPruneEachOther() {
        // the first call proves f safe with a stack pointer in R1; the second passes a scalar
        BpfException e = rejected("""
                call bpf_get_prandom_u32
                r6 = r0
                r1 = r10
                r1 += -8
                *(u64 *)(r10 -8) = 0
                call f
                r1 = 3
                call f
                exit
                f:
                if r6 > 3 goto m
                m:
                r0 = *(u64 *)(r1 +0)
                exit
                """);
        assertEquals("R6 !read_ok", e.logReason());
        BpfException second = rejected("""
                r1 = r10
                r1 += -8
                *(u64 *)(r10 -8) = 0
                call f
                r1 = 5
                call f
                exit
                f:
                r0 = *(u64 *)(r1 +0)
                exit
                """);
        assertEquals("R1 invalid mem access 'scalar'", second.logReason());
    }
}
