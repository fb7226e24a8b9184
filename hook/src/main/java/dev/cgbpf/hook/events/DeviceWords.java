package dev.cgbpf.hook.events;

import dev.cgbpf.hook.compile.DenialRules;

/** A device event's type and access as the device rules write them (c, b; r, w, m), and its rule index. */
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

    /**
     * A rule index whose words the record does not hold (past {@link DenialRules#MAX_NAMED_DEVICE_RULES},
     * or a record written before device events): which list, and which exception or the default.
     */
    static String rule(int rule) {
        String list = (rule & DenialRules.DEVICE_HOST) != 0 ? "the host policy's device list" : "the container's device list";
        int index = rule & ~DenialRules.DEVICE_HOST;
        return index == DenialRules.DEVICE_DEFAULT ? list + " (its default)" : list + ", exception " + index
                + " (counted from 0 in the merged list cgbpf policy explain shows)";
    }
}
