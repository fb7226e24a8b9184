package dev.cgbpf.engine.cgroup;

import dev.cgbpf.engine.backend.AttachFlag;
import java.util.List;
import java.util.Set;

/**
 * What BPF_PROG_QUERY hands back. The kernel writes attach_flags and prog_cnt even when the id
 * buffer is too small; then the call fails with ENOSPC, prog_cnt holds the full count and the
 * buffer the first ids that fit.
 *
 * @param flags    the cgroup's attach mode; always none for an effective query
 * @param progs    the ids written, in the kernel's order (at most the buffer size)
 * @param count    prog_cnt as returned: the total number, never cut to the buffer
 * @param noSpace  true when the call failed with ENOSPC
 */
public record QueryResult(Set<AttachFlag> flags, List<CgroupProg> progs, int count, boolean noSpace) {
    public QueryResult {
        flags = Set.copyOf(flags);
        progs = List.copyOf(progs);
    }
}
