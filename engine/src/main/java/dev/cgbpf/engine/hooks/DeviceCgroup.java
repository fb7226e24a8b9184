package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.cgroup.Cgroup;

/**
 * The device probe: what devcgroup_check_permission asks the cgroup_device programs when a task
 * in the cgroup makes or opens a device node. {@code m} is one check with BPF_DEVCG_ACC_MKNOD (a
 * mknod); {@code r}/{@code w} one check with READ and/or WRITE together (one open, O_RDONLY,
 * O_WRONLY or O_RDWR), made after the mknod check whatever it answered. Opening a block device
 * asks twice when the first check passes (the inode permission, then blkdev's bdev_permission):
 * observed with a counting program on 6.18, {@code b 8:0} runs it twice per open, {@code c 1:3} once.
 * The access is allowed when no check failed with EPERM (the kernel backend counts every other
 * failure, e.g. ENXIO from a missing driver, as allowed).
 */
public final class DeviceCgroup {
    private final HookRunner runner;

    public DeviceCgroup(HookRunner runner) {
        this.runner = runner;
    }

    /** kernel: devcgroup_check_permission, __cgroup_bpf_check_dev_permission */
    public boolean check(Cgroup cgroup, Probe.DeviceAccess access) {
        int type = switch (access.type()) {
            case 'c' -> BpfCgroupDevCtx.DEV_CHAR;
            case 'b' -> BpfCgroupDevCtx.DEV_BLOCK;
            default -> throw new IllegalArgumentException("device type must be 'c' or 'b', got '" + access.type() + "'");
        };
        String acc = access.access();
        if (acc == null || acc.isEmpty() || !acc.chars().allMatch(ch -> ch == 'r' || ch == 'w' || ch == 'm')) {
            throw new IllegalArgumentException("device access must be a non-empty subset of \"rwm\", got '" + acc + "'");
        }
        boolean allowed = true;
        if (acc.indexOf('m') >= 0) {
            allowed = permits(cgroup, type, BpfCgroupDevCtx.ACC_MKNOD, access);
        }
        int open = (acc.indexOf('r') >= 0 ? BpfCgroupDevCtx.ACC_READ : 0) | (acc.indexOf('w') >= 0 ? BpfCgroupDevCtx.ACC_WRITE : 0);
        if (open != 0) {
            boolean ok = permits(cgroup, type, open, access);
            if (ok && type == BpfCgroupDevCtx.DEV_BLOCK) {
                ok = permits(cgroup, type, open, access);
            }
            allowed &= ok;
        }
        return allowed;
    }

    private boolean permits(Cgroup cgroup, int type, int acc, Probe.DeviceAccess access) {
        BpfCgroupDevCtx ctx = new BpfCgroupDevCtx(type, acc, access.major(), access.minor());
        HookEnv env = new HookEnv(cgroup, AttachType.CGROUP_DEVICE, null, null);
        return runner.run(cgroup, AttachType.CGROUP_DEVICE, ctx, env, false).retval() != -Errnos.EPERM;
    }
}
