package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;

/** BPF_OBJ_PIN and BPF_OBJ_GET: name a program, map or link in a bpf file system, and open it again. */
public final class ObjPin {
    public static final UapiField PATHNAME = UapiField.attr("pathname", 0, 8);
    public static final UapiField BPF_FD = UapiField.attr("bpf_fd", 8, 4);
    public static final UapiField FILE_FLAGS = UapiField.attr("file_flags", 12, 4);

    /** file_flags of OBJ_GET: open read-only or write-only (0 = read-write). */
    public static final int BPF_F_RDONLY = 1 << 3;
    public static final int BPF_F_WRONLY = 1 << 4;

    private ObjPin() {
    }

    public static void objPin(Fd obj, String path) throws BpfException {
        try (BpfAttr attr = new BpfAttr(FILE_FLAGS); UserMem p = UserMem.cString(path)) {
            attr.ptr(PATHNAME, p);
            attr.u32(BPF_FD, obj.get());
            BpfSyscall.call(BpfCmd.BPF_OBJ_PIN, attr, path);
        }
    }

    /** Opens a pinned object; the caller owns the new fd. */
    public static Fd objGet(String path, int fileFlags) throws BpfException {
        try (BpfAttr attr = new BpfAttr(FILE_FLAGS); UserMem p = UserMem.cString(path)) {
            attr.ptr(PATHNAME, p);
            attr.u32(FILE_FLAGS, fileFlags);
            return new Fd(BpfSyscall.call(BpfCmd.BPF_OBJ_GET, attr, path));
        }
    }
}
