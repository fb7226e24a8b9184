package dev.cgbpf.hook.compile;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Disassembler;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;

import java.util.ArrayList;
import java.util.List;

/**
 * A generated program with what loading and attaching it takes.
 *
 * @param name the program name bpftool shows (cgbpf_dev, cgbpf_bind4, ...)
 * @param attachType the cgroup hook; also the expected_attach_type of the load, except for
 *                   cgroup_device programs, which the kernel loads without one
 * @param map the program's own map, filled before the load (the device program's maps shape), or null
 */
public record CompiledProgram(String name, ProgType type, AttachType attachType, Program program, ProgramMap map) {

    public CompiledProgram(String name, ProgType type, AttachType attachType, Program program) {
        this(name, type, attachType, program, null);
    }

    public LoadRequest loadRequest(int logLevel) {
        AttachType expected = type == ProgType.CGROUP_DEVICE ? null : attachType;
        return new LoadRequest(name, type, expected, program, "GPL", logLevel);
    }

    /**
     * This program with its counter map bound: every map reference (LD_IMM64, src
     * BPF_PSEUDO_MAP_FD) to {@link DenialCounters#UNBOUND}'s placeholder becomes {@code mapFd}, as
     * libbpf relocates a map reference once the map exists. So a policy is compiled once, before
     * its map is made, and each backend binds the same program text to its own map.
     */
    public CompiledProgram withCounters(int mapFd) {
        return bind(mapFd, ProgramMap.UNBOUND_FD);
    }

    /**
     * This program with the counter map ({@code countersFd}) and its own map ({@code ownMapFd},
     * see {@link ProgramMap}) bound in place of their placeholders.
     */
    public CompiledProgram bind(int countersFd, int ownMapFd) {
        List<Insn> out = new ArrayList<>(program.insns());
        for (int i = 0; i < out.size(); i++) {
            Insn in = out.get(i);
            if (in.isLdImm64() && in.src() == Opcodes.PSEUDO_MAP_FD) {
                if (in.imm() == DenialCounters.UNBOUND.mapFd()) {
                    out.set(i, new Insn(in.code(), in.dst(), in.src(), in.off(), countersFd));
                } else if (in.imm() == ProgramMap.UNBOUND_FD) {
                    out.set(i, new Insn(in.code(), in.dst(), in.src(), in.off(), ownMapFd));
                }
            }
        }
        return new CompiledProgram(name, type, attachType, new Program(out), map);
    }

    /**
     * This program with the host's event ring buffer bound: every map reference to
     * {@link DenialCounters#EVENTS_UNBOUND}'s placeholder becomes {@code eventsFd} (the other
     * maps are bound by {@link #withCounters} and {@link #bind}).
     */
    public CompiledProgram withEvents(int eventsFd) {
        List<Insn> out = new ArrayList<>(program.insns());
        for (int i = 0; i < out.size(); i++) {
            Insn in = out.get(i);
            if (in.isLdImm64() && in.src() == Opcodes.PSEUDO_MAP_FD && in.imm() == DenialCounters.EVENTS_UNBOUND) {
                out.set(i, new Insn(in.code(), in.dst(), in.src(), in.off(), eventsFd));
            }
        }
        return new CompiledProgram(name, type, attachType, new Program(out), map);
    }

    /** Whether the program reports denial events, i.e. needs the ring buffer bound. */
    public boolean reportsEvents() {
        for (Insn in : program.insns()) {
            if (in.isLdImm64() && in.src() == Opcodes.PSEUDO_MAP_FD && in.imm() == DenialCounters.EVENTS_UNBOUND) {
                return true;
            }
        }
        return false;
    }

    /** The listing as the kernel's disassembler prints it, one instruction a line. */
    public String listing() {
        return String.join("\n", new Disassembler().listing(program)) + "\n";
    }
}
