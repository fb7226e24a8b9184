package dev.cgbpf.kernel;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * prog_name / map_name: BPF_OBJ_NAME_LEN (16) bytes including the terminating NUL. Longer names
 * are cut to 15 bytes, as libbpf does. The kernel accepts only [A-Za-z0-9_.] here (EINVAL
 * otherwise); this class passes what it is given, so the kernel's answer stays the kernel's
 * ({@link dev.cgbpf.engine.backend.ObjNames} is the backends' mapping of a user's name).
 */
final class ObjName {
    static final int BPF_OBJ_NAME_LEN = 16;

    private ObjName() {
    }

    static byte[] truncated(String name) {
        if (name == null) {
            return new byte[0];
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        return utf8.length < BPF_OBJ_NAME_LEN ? utf8 : Arrays.copyOf(utf8, BPF_OBJ_NAME_LEN - 1);
    }

    /** A name as bpf_prog_info / bpf_map_info report it: the bytes at {@code offset} up to the first NUL. */
    static String decoded(byte[] info, int offset) {
        int n = 0;
        while (n < BPF_OBJ_NAME_LEN && info[offset + n] != 0) {
            n++;
        }
        return new String(info, offset, n, StandardCharsets.UTF_8);
    }
}
