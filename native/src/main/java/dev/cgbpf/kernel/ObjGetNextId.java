package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import java.util.ArrayList;
import java.util.List;

/**
 * BPF_PROG_GET_NEXT_ID / BPF_MAP_GET_NEXT_ID and BPF_MAP_GET_FD_BY_ID: every program and map on
 * the host, as bpftool lists them (needs CAP_SYS_ADMIN). Used to prove that nothing leaks.
 */
public final class ObjGetNextId {
    public static final UapiField START_ID = UapiField.attr("start_id", 0, 4);
    public static final UapiField NEXT_ID = UapiField.attr("next_id", 4, 4);
    public static final UapiField MAP_ID = UapiField.attr("map_id", 0, 4);
    public static final UapiField OPEN_FLAGS = UapiField.attr("open_flags", 8, 4);

    private ObjGetNextId() {
    }

    /** The ids of all loaded programs, ascending. */
    public static List<Integer> progIds() throws BpfException {
        return ids(BpfCmd.BPF_PROG_GET_NEXT_ID);
    }

    /** The ids of all maps, ascending. */
    public static List<Integer> mapIds() throws BpfException {
        return ids(BpfCmd.BPF_MAP_GET_NEXT_ID);
    }

    private static List<Integer> ids(BpfCmd cmd) throws BpfException {
        List<Integer> out = new ArrayList<>();
        int id = 0;
        while (true) {
            try (BpfAttr attr = new BpfAttr(NEXT_ID)) {
                attr.u32(START_ID, id);
                long ret = BpfSyscall.invoke(cmd, attr);
                if (ret == -Errno.ENOENT.number()) {
                    return out;
                }
                if (ret < 0) {
                    throw BpfSyscall.failure(cmd, (int) -ret, "after id " + id, null);
                }
                id = attr.u32(NEXT_ID);
                out.add(id);
            }
        }
    }

    /** The name of map {@code id}; ENOENT when it is gone. */
    public static String mapName(int id) throws BpfException {
        Fd fd;
        try (BpfAttr attr = new BpfAttr(OPEN_FLAGS)) {
            attr.u32(MAP_ID, id);
            fd = new Fd(BpfSyscall.call(BpfCmd.BPF_MAP_GET_FD_BY_ID, attr, "map id " + id));
        }
        try (fd) {
            return ObjGetInfoByFd.mapName(fd, "map id " + id);
        }
    }

    /** The name of program {@code id}; ENOENT when it is gone. */
    public static String progName(int id) throws BpfException {
        try (Fd fd = ProgGetFdById.progGetFdById(id)) {
            return ObjGetInfoByFd.progInfo(fd).name();
        }
    }
}
