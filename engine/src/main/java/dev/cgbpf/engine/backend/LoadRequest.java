package dev.cgbpf.engine.backend;

import dev.cgbpf.engine.isa.Program;

/**
 * What BPF_PROG_LOAD takes. Map references in the program are LD_IMM64 with
 * src=PSEUDO_MAP_FD and imm = the map's {@link BpfMap#fd()} in the same backend.
 *
 * @param name program name (the kernel keeps the first 15 bytes; bpftool shows it)
 * @param expectedAttach null when the program type needs none
 * @param logLevel 0, 1 or 2 as for the kernel's log_level
 */
public record LoadRequest(String name, ProgType type, AttachType expectedAttach, Program program,
                          String license, int logLevel) {
    public LoadRequest {
        if (license == null) {
            license = "GPL";
        }
    }
}
