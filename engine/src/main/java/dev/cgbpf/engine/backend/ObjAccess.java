package dev.cgbpf.engine.backend;

/**
 * BPF_OBJ_GET's file_flags: how the new fd may use the object. Only maps honour them (an update
 * or delete through a read-only fd, a lookup or next-key through a write-only one, is EPERM); a
 * link must be opened {@link #READ_WRITE} (EINVAL otherwise); a program takes any of them and
 * ignores it (measured on Linux 6.18).
 */
public enum ObjAccess {
    READ_WRITE(0),
    /** BPF_F_RDONLY. */
    READ_ONLY(1 << 3),
    /** BPF_F_WRONLY. */
    WRITE_ONLY(1 << 4);

    private final int fileFlags;

    ObjAccess(int fileFlags) {
        this.fileFlags = fileFlags;
    }

    /** The file_flags bits of BPF_OBJ_GET. */
    public int fileFlags() {
        return fileFlags;
    }

    public boolean canRead() {
        return this != WRITE_ONLY;
    }

    public boolean canWrite() {
        return this != READ_ONLY;
    }
}
