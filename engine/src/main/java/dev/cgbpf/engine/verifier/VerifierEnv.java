package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Program;
import java.util.function.IntFunction;

/**
 * What one verification shares across its checks (the kernel's struct bpf_verifier_env): the
 * program and its type, the map table, the id generator for pointers that need one, per-insn
 * facts and the facts the runtime will need.
 */
final class VerifierEnv {
    final Program prog;
    final ProgType type;
    final AttachType attach;
    final IntFunction<MapSpec> maps;
    /** The value of the read-only (frozen, BPF_F_RDONLY_PROG) map at an fd, or null: see {@link Verifier}. */
    final IntFunction<byte[]> readOnlyValues;
    /** save_aux_ptr_type: which kind of pointer each load/store instruction used first */
    final RegType[] auxPtrType;
    private int idGen;
    /** Whether the store being checked is a BPF_ST, and its immediate: stack writes remember it as a spilled constant. */
    boolean stMem;
    int stImm;
    /** Stack slots written by the current instruction (bit k: slot k from fp-512), for the log. */
    long scratchedStack;
    /** Set when the program uses something the kernel accepts but the engine cannot run: refused at the end. */
    String unsupported;
    boolean enforceExpectedAttach;
    /** prog->gpl_compatible: the license allows GPL-only helpers */
    final boolean gplCompatible;
    boolean directPacketAccess;

    /** The path state the current instruction is checked in. */
    VerifierState state;
    /** First instruction of each subprogram, in order; subprogram 0 is the main program. */
    final int[] subprogStart;
    /** The kernel's subprog_info[].stack_depth: the deepest stack byte each subprogram touched, rounded up to 8. */
    final int[] stackDepth;

    VerifierEnv(Program prog, ProgType type, AttachType attach, IntFunction<MapSpec> maps,
                IntFunction<byte[]> readOnlyValues, int[] subprogStart, boolean gplCompatible) {
        this.readOnlyValues = readOnlyValues;
        this.prog = prog;
        this.gplCompatible = gplCompatible;
        this.type = type;
        this.attach = attach;
        this.maps = maps;
        this.auxPtrType = new RegType[prog.size()];
        this.subprogStart = subprogStart;
        this.stackDepth = new int[subprogStart.length];
    }

    /** The subprogram that starts at {@code insn}, or -1. */
    int subprogAt(int insn) {
        int i = java.util.Arrays.binarySearch(subprogStart, insn);
        return i >= 0 ? i : -1;
    }

    /** grow_stack_state: subprogram {@code subprog} uses at least {@code bytes} of stack. */
    void growStack(int subprog, int bytes) {
        int size = (bytes + 7) & ~7;
        if (stackDepth[subprog] < size) {
            stackDepth[subprog] = size;
        }
    }

    /** A fresh id (++env->id_gen). */
    int nextId() {
        return ++idGen;
    }
}
