package dev.cgbpf.kernel;

import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;

/** {@code r0 = N; exit}: the smallest program every cgroup program type accepts, for probes. */
final class TrivialProgram {
    private TrivialProgram() {
    }

    static byte[] returning(int value) {
        return Program.of(new Insn(Opcodes.ALU64 | Opcodes.MOV | Opcodes.K, 0, 0, 0, value),
                new Insn(Opcodes.JMP | Opcodes.EXIT, 0, 0, 0, 0)).encode();
    }
}
