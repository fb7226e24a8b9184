package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/**
 * BPF_LINK_DETACH: detach a link's program now, while the link fd stays open (it becomes
 * "defunct"; a later update on it fails with ENOLINK).
 */
public final class LinkDetach {
    public static final UapiField LINK_FD = UapiField.attr("link_detach.link_fd", 0, 4);

    private LinkDetach() {
    }

    public static void linkDetach(Fd link) throws BpfException {
        try (BpfAttr attr = new BpfAttr(LINK_FD)) {
            attr.u32(LINK_FD, link.get());
            BpfSyscall.call(BpfCmd.BPF_LINK_DETACH, attr, "link " + link);
        }
    }
}
