package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.BpfException;

/** BPF_LINK_UPDATE: swap the program behind a link atomically. */
public final class LinkUpdate {
    public static final UapiField LINK_FD = UapiField.attr("link_update.link_fd", 0, 4);
    public static final UapiField NEW_PROG_FD = UapiField.attr("link_update.new_prog_fd", 4, 4);
    public static final UapiField FLAGS = UapiField.attr("link_update.flags", 8, 4);
    public static final UapiField OLD_PROG_FD = UapiField.attr("link_update.old_prog_fd", 12, 4);

    private LinkUpdate() {
    }

    /** @param old the program expected behind the link (sets {@link AttachFlag#REPLACE}: EPERM when it runs another), or null */
    public static void linkUpdate(Fd link, Fd newProg, Fd old) throws BpfException {
        try (BpfAttr attr = new BpfAttr(OLD_PROG_FD)) {
            attr.u32(LINK_FD, link.get());
            attr.u32(NEW_PROG_FD, newProg.get());
            attr.u32(FLAGS, old == null ? 0 : AttachFlag.REPLACE.bit());
            attr.u32(OLD_PROG_FD, old == null ? 0 : old.get());
            BpfSyscall.call(BpfCmd.BPF_LINK_UPDATE, attr, "link " + link);
        }
    }
}
