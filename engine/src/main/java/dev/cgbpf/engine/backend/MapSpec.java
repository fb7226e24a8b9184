package dev.cgbpf.engine.backend;

/** What BPF_MAP_CREATE takes. */
public record MapSpec(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags) {
}
