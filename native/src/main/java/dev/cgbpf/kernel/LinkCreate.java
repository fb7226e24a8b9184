package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/**
 * BPF_LINK_CREATE for cgroups: a bpf_link attaches the program like BPF_F_ALLOW_MULTI, and the
 * attachment lives as long as the link fd (or its pin), which makes it leak-proof.
 */
public final class LinkCreate {
    public static final UapiField PROG_FD = UapiField.attr("link_create.prog_fd", 0, 4);
    public static final UapiField TARGET_FD = UapiField.attr("link_create.target_fd", 4, 4);
    public static final UapiField ATTACH_TYPE = UapiField.attr("link_create.attach_type", 8, 4);
    public static final UapiField FLAGS = UapiField.attr("link_create.flags", 12, 4);

    private LinkCreate() {
    }

    /** Creates the link; the caller owns its fd, closing it (with no pin) detaches the program. */
    public static Fd linkCreate(Fd prog, Fd target, int attachType, int flags) throws BpfException {
        try (BpfAttr attr = new BpfAttr(FLAGS)) {
            attr.u32(PROG_FD, prog.get());
            attr.u32(TARGET_FD, target.get());
            attr.u32(ATTACH_TYPE, attachType);
            attr.u32(FLAGS, flags);
            return new Fd(BpfSyscall.call(BpfCmd.BPF_LINK_CREATE, attr, "attach type " + attachType));
        }
    }
}
