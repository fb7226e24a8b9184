package dev.cgbpf.engine.cgroup;

import dev.cgbpf.engine.backend.Errno;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An effective program array (the kernel's bpf_prog_array): immutable once built, replaced as a
 * whole when the hierarchy changes, so a hook that holds one sees a consistent set.
 */
public final class BpfProgArray {
    public static final BpfProgArray EMPTY = new BpfProgArray(List.of());

    private final List<ProgArrayItem> items;

    BpfProgArray(List<ProgArrayItem> items) {
        this.items = Collections.unmodifiableList(new ArrayList<>(items));
    }

    public List<ProgArrayItem> items() {
        return items;
    }

    public int length() {
        return items.size();
    }

    public List<CgroupProg> progs() {
        List<CgroupProg> out = new ArrayList<>(items.size());
        for (ProgArrayItem item : items) {
            out.add(item.prog());
        }
        return out;
    }

    /** What one pass returns: the final retval (0 or a negative errno) and the OR of R0 >> 1. */
    public record RunResult(int retval, int retFlags) {
        public boolean allowed() {
            return retval == 0;
        }
    }

    /**
     * Runs every program in order, as bpf_prog_run_array_cg does: there is no short cut, a
     * program returning 0 (or, with {@code splitRetFlags}, an even value) turns the result into
     * -EPERM unless the retval already holds an error (which bpf_set_retval may have put there).
     *
     * <p>kernel: bpf_prog_run_array_cg
     *
     * @param splitRetFlags true for egress skb, where R0 bit 0 is the verdict and the upper bits
     *                      are OR-ed into {@link RunResult#retFlags()} (congestion notification)
     */
    public RunResult run(ProgRunner runner, boolean splitRetFlags) {
        CgRunCtx ctx = new CgRunCtx(0);
        int retFlags = 0;
        for (ProgArrayItem item : items) {
            ctx.enter(item);
            long funcRet = runner.run(item.prog(), ctx) & 0xffff_ffffL;
            if (splitRetFlags) {
                retFlags |= (int) (funcRet >>> 1);
                funcRet &= 1;
            }
            if (funcRet == 0 && !isErrorValue(ctx.retval())) {
                ctx.setRetval(-Errno.EPERM.number());
            }
        }
        return new RunResult(ctx.retval(), retFlags);
    }

    /** The kernel's IS_ERR_VALUE on a sign-extended int: -4095..-1. */
    private static boolean isErrorValue(int retval) {
        return retval < 0 && retval >= -4095;
    }

    @Override
    public String toString() {
        List<String> names = new ArrayList<>();
        for (ProgArrayItem item : items) {
            names.add(item.prog().name());
        }
        return names.toString();
    }
}
