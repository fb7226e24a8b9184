package dev.cgbpf.hook.events;

/** A device event's type and access as the device rules write them (c, b; r, w, m). */
final class DeviceWords {
    /** kernel: BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR */
    private static final int DEV_BLOCK = 1;
    private static final int DEV_CHAR = 2;
    /** kernel: BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE */
    private static final int ACC_MKNOD = 1;
    private static final int ACC_READ = 2;
    private static final int ACC_WRITE = 4;

    private DeviceWords() {
    }

    static String type(int t) {
        return switch (t) {
            case DEV_CHAR -> "c";
            case DEV_BLOCK -> "b";
            default -> "type" + t;
        };
    }

    static String access(int a) {
        StringBuilder b = new StringBuilder();
        if ((a & ACC_READ) != 0) {
            b.append('r');
        }
        if ((a & ACC_WRITE) != 0) {
            b.append('w');
        }
        if ((a & ACC_MKNOD) != 0) {
            b.append('m');
        }
        return b.toString();
    }
}
