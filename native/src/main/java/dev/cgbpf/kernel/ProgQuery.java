package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * BPF_PROG_QUERY: which programs are attached to a target at an attach type.
 *
 * <p>When the id buffer is too small the kernel still fills it, writes the total into prog_cnt
 * and fails with ENOSPC; that answer is data (the scenario format prints it), so it comes back as
 * a {@link Result} with {@code enospc} set rather than as an exception.
 */
public final class ProgQuery {
    public static final UapiField TARGET_FD = UapiField.attr("query.target_fd", 0, 4);
    public static final UapiField ATTACH_TYPE = UapiField.attr("query.attach_type", 4, 4);
    public static final UapiField QUERY_FLAGS = UapiField.attr("query.query_flags", 8, 4);
    public static final UapiField ATTACH_FLAGS = UapiField.attr("query.attach_flags", 12, 4);
    public static final UapiField PROG_IDS = UapiField.attr("query.prog_ids", 16, 8);
    public static final UapiField PROG_CNT = UapiField.attr("query.prog_cnt", 24, 4);
    public static final UapiField PROG_ATTACH_FLAGS = UapiField.attr("query.prog_attach_flags", 32, 8);

    /** query_flags: the programs that run for this cgroup, including inherited ones. */
    public static final int BPF_F_QUERY_EFFECTIVE = 1;

    /**
     * @param attachFlags the flags the programs were attached with (none for an effective query);
     *                    bits {@link AttachFlag} does not name are dropped
     * @param progIds the ids the kernel copied, at most the buffer's size
     * @param progAttachFlags per-program attach flags, parallel to progIds, when asked for
     * @param count the kernel's prog_cnt: the total number attached, even when more than fit
     * @param enospc true when the kernel answered ENOSPC (the buffer was too small)
     */
    public record Result(Set<AttachFlag> attachFlags, int[] progIds, List<Set<AttachFlag>> progAttachFlags, int count,
                         boolean enospc) {
    }

    private ProgQuery() {
    }

    /**
     * @param maxIds size of the id buffer; 0 passes no buffer and only counts
     * @param perProgFlags also ask for each program's attach flags (not allowed with
     *                     BPF_F_QUERY_EFFECTIVE: the kernel says EINVAL)
     */
    public static Result progQuery(Fd target, int attachType, int queryFlags, int maxIds, boolean perProgFlags)
            throws BpfException {
        try (BpfAttr attr = new BpfAttr(PROG_ATTACH_FLAGS);
             UserMem ids = UserMem.zeroed(4 * maxIds);
             UserMem flags = perProgFlags ? UserMem.zeroed(4 * maxIds) : null) {
            attr.u32(TARGET_FD, target.get());
            attr.u32(ATTACH_TYPE, attachType);
            attr.u32(QUERY_FLAGS, queryFlags);
            attr.ptr(PROG_IDS, ids);
            attr.u32(PROG_CNT, maxIds);
            attr.ptr(PROG_ATTACH_FLAGS, flags);
            long ret = BpfSyscall.invoke(BpfCmd.BPF_PROG_QUERY, attr);
            boolean enospc = ret == -Errno.ENOSPC.number();
            if (ret < 0 && !enospc) {
                throw BpfSyscall.failure(BpfCmd.BPF_PROG_QUERY, (int) -ret, "attach type " + attachType, null);
            }
            int count = attr.u32(PROG_CNT);
            int copied = Math.min(count, maxIds);
            List<Set<AttachFlag>> perProg = null;
            if (flags != null) {
                perProg = new ArrayList<>();
                for (int f : ints(flags, copied)) {
                    perProg.add(AttachFlag.of(f));
                }
            }
            return new Result(AttachFlag.of(attr.u32(ATTACH_FLAGS)), ints(ids, copied), perProg, count, enospc);
        }
    }

    private static int[] ints(UserMem mem, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = mem.u32(4 * i);
        }
        return out;
    }

    static String describe(Result r) {
        return "flags=" + r.attachFlags() + " ids=" + Arrays.toString(r.progIds()) + " count=" + r.count()
                + (r.enospc() ? " ENOSPC" : "");
    }
}
