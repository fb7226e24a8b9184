package dev.cgbpf.engine.cgroup;

/**
 * The run context of one pass over an effective array (the kernel's bpf_cg_run_ctx): the retval
 * so far, which bpf_get_retval/bpf_set_retval read and write, and the slot being run.
 */
public final class CgRunCtx {
    private int retval;
    private ProgArrayItem item;

    CgRunCtx(int retval) {
        this.retval = retval;
    }

    /**
     * The run context of BPF_PROG_TEST_RUN (bpf_test_run): a slot of the program alone, attached
     * to no cgroup (its owner is null), retval 0.
     */
    public static CgRunCtx testRun(CgroupProg prog) {
        CgRunCtx ctx = new CgRunCtx(0);
        ctx.enter(new ProgArrayItem(prog, null));
        return ctx;
    }

    public int retval() {
        return retval;
    }

    /** bpf_set_retval. */
    public void setRetval(int retval) {
        this.retval = retval;
    }

    /** The slot being run: its program and the cgroup it is attached to. */
    public ProgArrayItem item() {
        return item;
    }

    void enter(ProgArrayItem item) {
        this.item = item;
    }
}
