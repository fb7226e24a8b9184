package dev.cgbpf.engine.backend;

/**
 * BPF_OBJ_GET_INFO_BY_FD of a map (struct bpf_map_info).
 *
 * @param id   the map id
 * @param spec type, sizes, max_entries and map_flags as the kernel keeps them, and its copy of the
 *             name (characters outside {@code [A-Za-z0-9_.]} as {@code _}, cut to 15 bytes)
 */
public record MapInfo(int id, MapSpec spec) {
}
