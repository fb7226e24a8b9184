package dev.cgbpf.engine.interp;

/**
 * One field of a context struct and how a program may touch it.
 *
 * @param name the field name in the uapi struct
 * @param offset byte offset in the struct
 * @param size field size in bytes
 * @param read how reads are allowed
 * @param write whether full-size writes are allowed
 */
public record CtxField(String name, int offset, int size, Read read, boolean write) {
    /** Read permission of a field. */
    public enum Read {
        /** not readable */
        NONE,
        /** only at the field's full size */
        FULL,
        /** at the full size or narrower, aligned to the access size (bpf_ctx_narrow_access_ok) */
        NARROW,
        /** any aligned access inside the field, also wider than a word (e.g. __sk_buff.cb[]) */
        ANY
    }

    public int end() {
        return offset + size;
    }
}
