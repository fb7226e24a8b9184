package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/** BPF_PROG_GET_FD_BY_ID: a new fd for a loaded program, from the id a query returned (needs CAP_SYS_ADMIN). */
public final class ProgGetFdById {
    public static final UapiField PROG_ID = UapiField.attr("prog_id", 0, 4);
    public static final UapiField NEXT_ID = UapiField.attr("next_id", 4, 4);
    public static final UapiField OPEN_FLAGS = UapiField.attr("open_flags", 8, 4);

    private ProgGetFdById() {
    }

    public static Fd progGetFdById(int id) throws BpfException {
        try (BpfAttr attr = new BpfAttr(OPEN_FLAGS)) {
            attr.u32(PROG_ID, id);
            return new Fd(BpfSyscall.call(BpfCmd.BPF_PROG_GET_FD_BY_ID, attr, "prog id " + id));
        }
    }
}
