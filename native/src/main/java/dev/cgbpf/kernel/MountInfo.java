package dev.cgbpf.kernel;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of /proc/PID/mountinfo (proc(5)): {@code id parent major:minor root mountpoint options
 * [optional fields...] - fstype source superoptions}. Paths are unescaped: the kernel writes
 * space, tab, newline and backslash in them as {@code \040}-style octal escapes.
 *
 * @param root the directory of the file system that is mounted here ("/" for the whole fs)
 */
record MountInfo(String root, String mountPoint, String fsType, String source, String superOptions) {

    /** Every well-formed line of a mountinfo file, in mount order; other lines are skipped. */
    static List<MountInfo> parse(String text) {
        List<MountInfo> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            int sep = line.indexOf(" - ");
            if (sep < 0) {
                continue;
            }
            String[] before = line.substring(0, sep).split(" ");
            String[] after = line.substring(sep + 3).split(" ");
            if (before.length < 6 || after.length < 2) {
                continue;
            }
            out.add(new MountInfo(unescape(before[3]), unescape(before[4]), after[0], unescape(after[1]),
                    after.length > 2 ? after[2] : ""));
        }
        return out;
    }

    /** Undoes the kernel's show_path/mangle escaping: a backslash and three octal digits is one byte. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] raw = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == '\\' && i + 3 < raw.length + 0 && isOctal(raw[i + 1]) && isOctal(raw[i + 2])
                    && isOctal(raw[i + 3])) {
                b.write(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0'));
                i += 3;
            } else {
                b.write(raw[i]);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte c) {
        return c >= '0' && c <= '7';
    }
}
