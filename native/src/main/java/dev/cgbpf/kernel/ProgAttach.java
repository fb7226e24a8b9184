package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.BpfException;
import java.util.Set;

/**
 * BPF_PROG_ATTACH and BPF_PROG_DETACH, which share one attr layout: attach a program to a
 * target (for cgbpf: a cgroup directory fd) at an attach type.
 */
public final class ProgAttach {
    public static final UapiField TARGET_FD = UapiField.attr("target_fd", 0, 4);
    public static final UapiField ATTACH_BPF_FD = UapiField.attr("attach_bpf_fd", 4, 4);
    public static final UapiField ATTACH_TYPE = UapiField.attr("attach_type", 8, 4);
    public static final UapiField ATTACH_FLAGS = UapiField.attr("attach_flags", 12, 4);
    public static final UapiField REPLACE_BPF_FD = UapiField.attr("replace_bpf_fd", 16, 4);

    private ProgAttach() {
    }

    /**
     * @param attachFlags the attach_flags ({@link AttachFlag})
     * @param replace the program to replace (only with {@link AttachFlag#REPLACE}), else null
     */
    public static void progAttach(Fd target, Fd prog, int attachType, Set<AttachFlag> attachFlags, Fd replace)
            throws BpfException {
        try (BpfAttr attr = new BpfAttr(REPLACE_BPF_FD)) {
            attr.u32(TARGET_FD, target.get());
            attr.u32(ATTACH_BPF_FD, prog.get());
            attr.u32(ATTACH_TYPE, attachType);
            attr.u32(ATTACH_FLAGS, AttachFlag.bits(attachFlags));
            attr.u32(REPLACE_BPF_FD, replace == null ? 0 : replace.get());
            BpfSyscall.call(BpfCmd.BPF_PROG_ATTACH, attr, "attach type " + attachType);
        }
    }

    /**
     * @param prog the program to detach; null detaches what is attached without naming it (only
     *             allowed by the kernel when the attachment is not {@link AttachFlag#ALLOW_MULTI})
     */
    public static void progDetach(Fd target, Fd prog, int attachType) throws BpfException {
        try (BpfAttr attr = new BpfAttr(REPLACE_BPF_FD)) {
            attr.u32(TARGET_FD, target.get());
            attr.u32(ATTACH_BPF_FD, prog == null ? 0 : prog.get());
            attr.u32(ATTACH_TYPE, attachType);
            BpfSyscall.call(BpfCmd.BPF_PROG_DETACH, attr, "attach type " + attachType);
        }
    }
}
