package dev.cgbpf.kernel;

/**
 * One field of a uapi structure as this module reads or writes it: the C type
 * ({@code union bpf_attr}, {@code struct bpf_prog_info}), the member designator as
 * {@code offsetof} takes it ({@code test.retval}), its byte offset and its size. The layout test
 * compiles every designator against the system's uapi header and the running kernel's BTF and
 * compares.
 */
public record UapiField(String type, String member, int offset, int size) {
    static final String BPF_ATTR = "union bpf_attr";

    static UapiField attr(String member, int offset, int size) {
        return new UapiField(BPF_ATTR, member, offset, size);
    }

    /** The size to pass to bpf(2) when this is the last field a command uses (offsetofend). */
    public int end() {
        return offset + size;
    }
}
