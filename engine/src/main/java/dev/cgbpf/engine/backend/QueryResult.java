package dev.cgbpf.engine.backend;

import java.util.List;
import java.util.Set;

/**
 * A BPF_PROG_QUERY answer. Programs are named by the names they were loaded with, in the order the
 * kernel reports them. When the caller's id buffer was too short the kernel fails with ENOSPC but still
 * fills in what fits and the total count: then {@code errno} is "ENOSPC", {@code progs} the ones that
 * fit and {@code count} the total. Otherwise {@code errno} is null.
 */
public record QueryResult(Set<AttachFlag> flags, List<String> progs, int count, String errno) {
    public QueryResult {
        flags = Set.copyOf(flags);
        progs = List.copyOf(progs);
    }
}
