package dev.cgbpf.hook.policy;

/**
 * A set of device accesses: mknod 1, read 2, write 4 (the numbers the kernel's BPF_DEVCG_ACC_*
 * use too, but the policy model does not depend on them: the device compiler maps each bit).
 * Written as a string of {@code r}, {@code w}, {@code m} (any order, repeats allowed, as the
 * device cgroup's own files accept).
 */
public final class Access {
    public static final int MKNOD = 1;
    public static final int READ = 2;
    public static final int WRITE = 4;
    public static final int ALL = MKNOD | READ | WRITE;

    private Access() {
    }

    /** The bits of an access string, or -1 if it is empty or has another letter. */
    public static int parse(String s) {
        if (s == null || s.isEmpty() || s.length() > 16) {
            return -1;
        }
        int bits = 0;
        for (int i = 0; i < s.length(); i++) {
            switch (s.charAt(i)) {
                case 'r' -> bits |= READ;
                case 'w' -> bits |= WRITE;
                case 'm' -> bits |= MKNOD;
                default -> {
                    return -1;
                }
            }
        }
        return bits;
    }

    /** "rwm" order, as devices.list prints it. */
    public static String format(int bits) {
        StringBuilder b = new StringBuilder(3);
        if ((bits & READ) != 0) {
            b.append('r');
        }
        if ((bits & WRITE) != 0) {
            b.append('w');
        }
        if ((bits & MKNOD) != 0) {
            b.append('m');
        }
        return b.toString();
    }
}
