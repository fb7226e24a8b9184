package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Assembler;
import java.util.Arrays;
import java.util.Map;

/** Loads test programs written in the verifier-log syntax into a backend. */
final class Progs {
    private Progs() {
    }

    static LoadedProg load(Backend b, String name, ProgType type, AttachType expected, String... lines)
            throws BpfException {
        return load(b, name, type, expected, Map.of(), lines);
    }

    static LoadedProg load(Backend b, String name, ProgType type, AttachType expected, Map<String, BpfMap> maps,
                           String... lines) throws BpfException {
        Assembler asm = new Assembler(n -> maps.containsKey(n) ? maps.get(n).fd() : null);
        return b.load(new LoadRequest(name, type, expected, asm.assemble(Arrays.asList(lines)), "GPL", 0));
    }

    static LoadedProg device(Backend b, String name, int ret) throws BpfException {
        return load(b, name, ProgType.CGROUP_DEVICE, null, "r0 = " + ret, "exit");
    }
}
