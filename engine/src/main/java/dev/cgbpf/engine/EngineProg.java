package dev.cgbpf.engine;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.cgroup.CgroupProg;
import dev.cgbpf.engine.hooks.CgroupHelpers;
import dev.cgbpf.engine.hooks.HookFault;
import dev.cgbpf.engine.hooks.ProgExecutor;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.HelperTable;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.ProgramFault;
import dev.cgbpf.engine.interp.TailCall;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.jit.TieredProgram;
import dev.cgbpf.engine.maps.EngineMap;
import dev.cgbpf.engine.maps.ProgArrayMap;
import dev.cgbpf.engine.verifier.VerifierResult;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A loaded program (the kernel's struct bpf_prog): one object per load, shared by every fd, pin
 * and attachment that holds it, and the cgroup tree's {@link CgroupProg} (the tree compares
 * programs by identity, as the kernel compares bpf_prog pointers).
 *
 * <p>References: each fd, each pin, each attachment holds one; when the last goes
 * (__bpf_prog_put) the program lets go of its maps.
 */
final class EngineProg implements CgroupProg, ProgArrayMap.Prog {
    final String name;
    final ProgType type;
    final AttachType expectedAttach;
    /** The interpreter, and the compiled class once the host's JIT mode compiles it. */
    final TieredProgram code;
    final List<EngineMap> maps;
    final HelperTable helpers;
    final VerifierResult verified;
    final int id;
    final String tag;
    /** Whether the program calls bpf_tail_call (which a program array's owner check asks). */
    final boolean makesTailCalls;
    private int refs = 1;

    EngineProg(String name, ProgType type, AttachType expectedAttach, Program program, TieredProgram code,
               List<EngineMap> maps, VerifierResult verified, int id) {
        this.name = name;
        this.type = type;
        this.expectedAttach = expectedAttach;
        this.code = code;
        this.maps = maps;
        this.helpers = CgroupHelpers.tableFor(type, expectedAttach);
        this.verified = verified;
        this.id = id;
        this.tag = tag(program);
        this.makesTailCalls = TailCall.makesTailCalls(program);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ProgType type() {
        return type;
    }

    @Override
    public AttachType expectedAttach() {
        return expectedAttach;
    }

    @Override
    public boolean enforcesExpectedAttach() {
        return verified.enforcesExpectedAttach();
    }

    @Override
    public ProgArrayMap.Owner owner() {
        return ProgArrayMap.Owner.of(type, expectedAttach, maps, makesTailCalls);
    }

    @Override
    public int progId() {
        return id;
    }

    /** A tail call into this program: its own code, on the calling run's machine (same type, same helpers). */
    @Override
    public long runTail(Machine m, long budget) {
        return code.runTail(m, budget);
    }

    /** bpf_prog_inc. */
    @Override
    public synchronized void hold() {
        if (refs <= 0) {
            throw new IllegalStateException(this + " is already freed");
        }
        refs++;
    }

    /** bpf_prog_put: the last reference frees the program, which drops its maps. */
    @Override
    public void put() {
        synchronized (this) {
            if (refs <= 0 || --refs > 0) {
                return;
            }
        }
        code.free();
        maps.forEach(EngineMap::release);
    }

    /**
     * bpf_prog_run for the hooks: runs an engine program in {@code space}, at most {@code insnBudget}
     * instructions; a run-time fault becomes a {@link HookFault} naming the program.
     */
    static ProgExecutor executor(AddressSpace space, long insnBudget) {
        return (cgroupProg, ctx, env) -> {
            EngineProg p = (EngineProg) cgroupProg;
            Machine m = new Machine(space, p.helpers, ctx, env);
            try {
                return p.code.run(m, insnBudget) & 0xffffffffL;
            } catch (ProgramFault f) {
                throw new HookFault(p.name, f.getMessage());
            }
        };
    }

    /**
     * bpf_prog_calc_tag: the first 8 bytes of the SHA-256 of the instructions, with the fd of
     * every LD_IMM64 map reference (and the immediate of its second half) zeroed, since fds differ
     * from process to process. Linux 6.18 hashes with SHA-256 (earlier kernels with SHA-1).
     */
    static String tag(Program p) {
        byte[] raw = p.encode();
        boolean wasLdMap = false;
        for (int i = 0; i < p.size(); i++) {
            Insn insn = p.get(i);
            if (!wasLdMap && insn.isLdImm64() && (insn.src() == Opcodes.PSEUDO_MAP_FD
                    || insn.src() == Opcodes.PSEUDO_MAP_VALUE)) {
                wasLdMap = true;
                zeroImm(raw, i);
            } else if (wasLdMap && insn.code() == 0 && insn.dst() == 0 && insn.src() == 0 && insn.off() == 0) {
                wasLdMap = false;
                zeroImm(raw, i);
            } else {
                wasLdMap = false;
            }
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(raw);
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static void zeroImm(byte[] raw, int insn) {
        for (int b = 4; b < Insn.SIZE; b++) {
            raw[insn * Insn.SIZE + b] = 0;
        }
    }

    @Override
    public String toString() {
        return "engine prog " + name + " (id " + id + ")";
    }
}
