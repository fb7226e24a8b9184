package dev.cgbpf.hook.policy;

import dev.cgbpf.engine.hooks.BpfCgroupDevCtx;

/**
 * A set of device accesses as the kernel's BPF_DEVCG_ACC_* bits: mknod 1, read 2, write 4. Written
 * as a string of {@code r}, {@code w}, {@code m} (any order, repeats allowed, as the device
 * cgroup's own files accept).
 */
public final class Access {
    public static final int MKNOD = BpfCgroupDevCtx.ACC_MKNOD;
    public static final int READ = BpfCgroupDevCtx.ACC_READ;
    public static final int WRITE = BpfCgroupDevCtx.ACC_WRITE;
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
