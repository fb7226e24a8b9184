package dev.cgbpf.hook.compile;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.Disassembler;
import dev.cgbpf.engine.isa.Program;

/**
 * A generated program with what loading and attaching it takes.
 *
 * @param name the program name bpftool shows (cgbpf_dev, cgbpf_bind4, ...)
 * @param attachType the cgroup hook; also the expected_attach_type of the load, except for
 *                   cgroup_device programs, which the kernel loads without one
 */
public record CompiledProgram(String name, ProgType type, AttachType attachType, Program program) {

    public LoadRequest loadRequest(int logLevel) {
        AttachType expected = type == ProgType.CGROUP_DEVICE ? null : attachType;
        return new LoadRequest(name, type, expected, program, "GPL", logLevel);
    }

    /** The listing as the kernel's disassembler prints it, one instruction a line. */
    public String listing() {
        return String.join("\n", new Disassembler().listing(program)) + "\n";
    }
}
