package dev.cgbpf.engine.backend;

/**
 * prog_name and map_name as the kernel keeps them: it accepts only {@code [A-Za-z0-9_.]} (EINVAL
 * otherwise) and BPF_OBJ_NAME_LEN (16) bytes with the NUL. Names of the user's are passed to the
 * kernel with every other character as {@code _}, cut to 15 bytes; both backends report that copy
 * in {@link ProgInfo} and {@link MapInfo}.
 */
public final class ObjNames {
    /** BPF_OBJ_NAME_LEN without the terminating NUL. */
    public static final int MAX_BYTES = 15;

    private ObjNames() {
    }

    /** The name with every character outside {@code [A-Za-z0-9_.]} as {@code _}; null is "". */
    public static String kernelName(String name) {
        if (name == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(name.length());
        name.codePoints().forEach(c -> b.append(accepted(c) ? (char) c : '_'));
        return b.toString();
    }

    /** The name as bpf_prog_info / bpf_map_info report it: {@link #kernelName}, cut to 15 bytes. */
    public static String infoName(String name) {
        String k = kernelName(name);
        return k.length() <= MAX_BYTES ? k : k.substring(0, MAX_BYTES);
    }

    /** True for the characters bpf_obj_name_cpy accepts. */
    public static boolean accepted(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    }
}
