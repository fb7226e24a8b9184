package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ProgLoadTest {
    private final KernelBackend kernel = new KernelBackend();

    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    @AfterEach
    void close() {
        kernel.close();
    }

    private static LoadRequest socketFilter(String name, Program p, int logLevel) {
        return new LoadRequest(name, ProgType.SOCKET_FILTER, null, p, "GPL", logLevel);
    }

    @Test
    void loadsAtLevelZeroWithEmptyLog() throws BpfException {
        LoadedProg p = kernel.load(socketFilter("ret7", TestInsns.returning(7), 0));
        assertEquals("", p.verifierLog());
        assertEquals("ret7", p.name());
        assertEquals(ProgType.SOCKET_FILTER, p.type());
    }

    @Test
    void successfulLoadKeepsTheLogOfTheRequestedLevel() throws BpfException {
        String level1 = kernel.load(socketFilter("l1", TestInsns.returning(7), 1)).verifierLog();
        String level2 = kernel.load(socketFilter("l2", TestInsns.returning(7), 2)).verifierLog();
        assertTrue(level1.contains("processed 2 insns"), level1);
        // level 2 prints every instruction as it is verified; level 1 does not for a program without branches
        assertTrue(level2.contains("0: (b7) r0 = 7"), level2);
        assertTrue(!level1.contains("(b7) r0 = 7"), level1);
    }

    @Test
    void bareExitIsRejectedWithTheVerifierReason() {
        for (int level : new int[] {0, 1, 2}) {
            BpfException e = assertThrows(BpfException.class,
                    () -> kernel.load(socketFilter("bare", Program.of(TestInsns.exit()), level)));
            assertEquals("EACCES", e.errno(), "log level " + level);
            assertEquals("R0 !read_ok", e.logReason(), "log level " + level + ":\n" + e.verifierLog());
        }
    }

    @Test
    void unknownOpcodeIsEinval() {
        BpfException e = assertThrows(BpfException.class, () -> kernel.load(socketFilter("badop",
                Program.of(new Insn(0xff, 0, 0, 0, 0), TestInsns.exit()), 1)));
        assertEquals("EINVAL", e.errno());
        assertEquals("unknown opcode ff", e.logReason(), e.verifierLog());
    }

    @Test
    void tooSmallLogBufferIsGrownUntilTheWholeLogFits() throws BpfException {
        Program p = countingProgram(200);
        ProgLoad.Loaded big = ProgLoad.progLoad(ProgType.SOCKET_FILTER.value(), p.encode(), "GPL", "big", 0, 2);
        ProgLoad.Loaded small = ProgLoad.progLoad(ProgType.SOCKET_FILTER.value(), p.encode(), "GPL", "small", 0, 2, 64);
        try (Fd a = big.fd(); Fd b = small.fd()) {
            assertTrue(big.log().length() > 64 * 20, "log should be long: " + big.log().length());
            assertEquals(big.log(), small.log());
        }
    }

    @Test
    void rejectionLogIsCompleteEvenFromATinyBuffer() {
        // 100 accepted instructions, then a context read far out of __sk_buff: refused at the end
        List<Insn> insns = new ArrayList<>(countingProgram(100).insns());
        insns.add(insns.size() - 1, TestInsns.ldxW(2, 1, 4000));
        Program p = new Program(insns);
        BpfException e = assertThrows(BpfException.class,
                () -> ProgLoad.progLoad(ProgType.SOCKET_FILTER.value(), p.encode(), "GPL", "ctxoob", 0, 2, 32));
        assertEquals("EACCES", e.errno());
        assertEquals("invalid bpf_context access off=4000 size=4", e.logReason(), e.verifierLog());
        assertTrue(e.verifierLog().contains("99: (07) r0 += 1"), e.verifierLog());
    }

    @Test
    void objectNameCharactersAreTheKernels() throws BpfException {
        // the raw binding passes the name through: the kernel refuses characters outside [A-Za-z0-9_.]
        BpfException e = assertThrows(BpfException.class, () -> ProgLoad.progLoad(ProgType.SOCKET_FILTER.value(),
                TestInsns.returning(0).encode(), "GPL", "a-b", 0, 0));
        assertEquals("EINVAL", e.errno());
        // the backend maps them to '_' so a scenario's name never decides a load; its own name stays
        LoadedProg p = kernel.load(socketFilter("a-b/é", TestInsns.returning(0), 0));
        assertEquals("a-b/é", p.name());
        assertEquals("a_b__", ObjGetInfoByFd.progInfo(((KernelProg) p).fd()).name());
    }

    @Test
    void licenseIsPassedThrough() {
        // bpf_trace_printk (6) is gpl_only: the verifier refuses the call before it looks at arguments
        Program p = Program.of(TestInsns.call(6), TestInsns.exit());
        BpfException mit = assertThrows(BpfException.class,
                () -> kernel.load(new LoadRequest("mit", ProgType.SOCKET_FILTER, null, p, "MIT", 1)));
        assertEquals("EINVAL", mit.errno());
        assertEquals("cannot call GPL-restricted function from non-GPL compatible program", mit.logReason());
        BpfException gpl = assertThrows(BpfException.class, () -> kernel.load(socketFilter("gpl", p, 1)));
        assertEquals("EACCES", gpl.errno());
        // with GPL the verifier gets to the arguments: r1 still holds the context pointer
        assertTrue(gpl.logReason().startsWith("R1 type=ctx expected=fp"), gpl.logReason());
    }

    /** r0 = 0; then n-1 times r0 += 1; exit: a straight line of n+1 slots. */
    static Program countingProgram(int n) {
        List<Insn> insns = new ArrayList<>();
        insns.add(TestInsns.movImm(0, 0));
        for (int i = 1; i < n; i++) {
            insns.add(TestInsns.addImm(0, 1));
        }
        insns.add(TestInsns.exit());
        return new Program(insns);
    }

}
