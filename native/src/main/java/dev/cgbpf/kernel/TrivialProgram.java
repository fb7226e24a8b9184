package dev.cgbpf.kernel;

import dev.cgbpf.engine.isa.Asm;
import dev.cgbpf.engine.isa.Reg;

/** {@code r0 = N; exit}: the smallest program every cgroup program type accepts, for probes. */
final class TrivialProgram {
    private TrivialProgram() {
    }

    static byte[] returning(int value) {
        return new Asm().movImm(Reg.R0, value).exit().build().encode();
    }
}
