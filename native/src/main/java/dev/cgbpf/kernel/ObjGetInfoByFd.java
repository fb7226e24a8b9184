package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import java.nio.charset.StandardCharsets;

/**
 * BPF_OBJ_GET_INFO_BY_FD for programs: the kernel's id, type and name of a loaded program
 * ({@code struct bpf_prog_info}).
 *
 * <p>info_len is set to the end of the last field read: the kernel copies min(info_len, its own
 * size) and requires bytes beyond its own size to be zero, so asking for less is always safe.
 */
public final class ObjGetInfoByFd {
    public static final UapiField BPF_FD = UapiField.attr("info.bpf_fd", 0, 4);
    public static final UapiField INFO_LEN = UapiField.attr("info.info_len", 4, 4);
    public static final UapiField INFO = UapiField.attr("info.info", 8, 8);

    static final String PROG_INFO = "struct bpf_prog_info";
    public static final UapiField PROG_TYPE = new UapiField(PROG_INFO, "type", 0, 4);
    public static final UapiField PROG_ID = new UapiField(PROG_INFO, "id", 4, 4);
    public static final UapiField PROG_TAG = new UapiField(PROG_INFO, "tag", 8, 8);
    public static final UapiField PROG_NAME = new UapiField(PROG_INFO, "name", 64, 16);

    /**
     * @param tag the kernel's program tag (hash of the instructions), 16 hex digits
     */
    public record ProgInfo(int id, int type, String name, String tag) {
    }

    private ObjGetInfoByFd() {
    }

    public static ProgInfo progInfo(Fd prog) throws BpfException {
        try (BpfAttr attr = new BpfAttr(INFO); UserMem info = UserMem.zeroed(PROG_NAME.end())) {
            attr.u32(BPF_FD, prog.get());
            attr.u32(INFO_LEN, PROG_NAME.end());
            attr.ptr(INFO, info);
            BpfSyscall.call(BpfCmd.BPF_OBJ_GET_INFO_BY_FD, attr, "prog " + prog);
            byte[] raw = info.read(PROG_NAME.end());
            int n = 0;
            while (n < PROG_NAME.size() && raw[PROG_NAME.offset() + n] != 0) {
                n++;
            }
            StringBuilder tag = new StringBuilder();
            for (int i = 0; i < PROG_TAG.size(); i++) {
                tag.append(String.format("%02x", raw[PROG_TAG.offset() + i] & 0xff));
            }
            return new ProgInfo(info.u32(PROG_ID.offset()), info.u32(PROG_TYPE.offset()),
                    new String(raw, PROG_NAME.offset(), n, StandardCharsets.UTF_8), tag.toString());
        }
    }
}
