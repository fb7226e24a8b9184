package dev.cgbpf.engine.backend;

/**
 * BPF_OBJ_GET_INFO_BY_FD of a program (struct bpf_prog_info).
 *
 * @param id   the kernel's prog id (the engine's, in the engine), as BPF_PROG_QUERY reports it
 * @param name the kernel's copy of the name: characters outside {@code [A-Za-z0-9_.]} as {@code _},
 *             cut to 15 bytes
 * @param tag  the first 8 bytes of the SHA-256 of the instructions with map fds zeroed, in hex (the
 *             kernel's prog tag since 6.18; bpftool shows it)
 */
public record ProgInfo(int id, ProgType type, String name, String tag) {
}
