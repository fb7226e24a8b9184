package dev.cgbpf.hook.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.hooks.BpfCgroupDevCtx;
import dev.cgbpf.engine.interp.ProgramFault;
import dev.cgbpf.engine.isa.AluOp;
import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.isa.Reg;
import dev.cgbpf.engine.isa.Size;
import dev.cgbpf.kernel.KernelBackend;
import dev.cgbpf.kernel.KernelRequired;
import org.junit.jupiter.api.Test;

/**
 * The engine's cgroup_device context against the running kernel: which loads and stores of
 * struct bpf_cgroup_dev_ctx the verifier accepts (cgroup_dev_is_valid_access), and what the
 * accepted narrow loads read in the engine.
 */
class BpfCgroupDevCtxTest {
    record Access(boolean store, Size size, int off) {
    }

    static final Access[] CASES = {
        new Access(false, Size.W, 0), new Access(false, Size.H, 0), new Access(false, Size.H, 2),
        new Access(false, Size.B, 0), new Access(false, Size.B, 3), new Access(false, Size.DW, 0),
        new Access(false, Size.H, 1), new Access(false, Size.W, 4), new Access(false, Size.H, 4),
        new Access(false, Size.B, 5), new Access(false, Size.W, 8), new Access(false, Size.DW, 8),
        new Access(false, Size.W, 12), new Access(true, Size.W, 0), new Access(true, Size.W, 4),
    };

    static Program prog(Access a) {
        Asm asm = new Asm().movImm(Reg.R0, 0);
        if (a.store()) {
            asm.stx(a.size(), Reg.R1, a.off(), Reg.R0);
        } else {
            asm.ldx(a.size(), Reg.R0, Reg.R1, a.off()).alu32(AluOp.AND, Reg.R0, 1);
        }
        return asm.movImm(Reg.R0, 1).exit().build();
    }

    @Test
    void engineAcceptsExactlyWhatTheKernelAccepts() throws Exception {
        KernelRequired.check();
        int accepted = 0;
        try (KernelBackend k = new KernelBackend()) {
            EngineRun engine = new EngineRun();
            for (Access a : CASES) {
                Program p = prog(a);
                boolean kernelOk;
                try (LoadedProg lp = k.load(new LoadRequest("ctx", ProgType.CGROUP_DEVICE, null, p, "GPL", 0))) {
                    kernelOk = true;
                } catch (BpfException e) {
                    assertEquals("EACCES", e.errno(), a + ": " + e.logReason());
                    kernelOk = false;
                }
                boolean engineOk;
                try {
                    engine.run(engine.decode(p), new BpfCgroupDevCtx(BpfCgroupDevCtx.DEV_CHAR, BpfCgroupDevCtx.ACC_READ, 1, 5));
                    engineOk = true;
                } catch (ProgramFault f) {
                    engineOk = false;
                }
                assertEquals(kernelOk, engineOk, a.toString());
                accepted += kernelOk ? 1 : 0;
            }
        }
        assertEquals(7, accepted);
    }

    @Test
    void narrowLoadsReadTheLittleEndianParts() {
        BpfCgroupDevCtx ctx = new BpfCgroupDevCtx(BpfCgroupDevCtx.DEV_BLOCK, BpfCgroupDevCtx.ACC_READ | BpfCgroupDevCtx.ACC_WRITE,
                0x80000001, 7);
        assertEquals((6L << 16) | 1, ctx.load(0, 4));
        assertEquals(1, ctx.load(0, 2));
        assertEquals(6, ctx.load(2, 2));
        assertEquals(6, ctx.load(2, 1));
        assertEquals(0x80000001L, ctx.load(4, 4));
        assertEquals(7, ctx.load(8, 4));
    }
}
