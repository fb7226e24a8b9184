package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.CtxField;
import dev.cgbpf.engine.interp.CtxLayout;
import dev.cgbpf.engine.interp.Packet;
import dev.cgbpf.engine.interp.StructContext;

import java.util.List;

/**
 * {@code struct bpf_cgroup_dev_ctx}, the context of a cgroup_device program: one device access
 * the kernel asks about (devcgroup_check_permission).
 *
 * <pre>
 *   __u32 access_type;  // (access << 16) | type: BPF_DEVCG_ACC_* in the upper half, BPF_DEVCG_DEV_* in the lower
 *   __u32 major;
 *   __u32 minor;
 * </pre>
 *
 * <p>Access rule of cgroup_dev_is_valid_access: nothing is writable; {@code access_type} may be
 * read at 1, 2 or 4 bytes at any offset aligned to the size (a narrow read takes the
 * little-endian bytes, so a 2-byte read at offset 2 yields the access bits alone); {@code major}
 * and {@code minor} only as whole 4-byte words. Anything else faults with the verifier's
 * "invalid bpf_context access" line.
 */
public final class BpfCgroupDevCtx extends StructContext {
    /** BPF_DEVCG_ACC_* of include/uapi/linux/bpf.h. */
    public static final int ACC_MKNOD = 1;
    public static final int ACC_READ = 2;
    public static final int ACC_WRITE = 4;
    /** BPF_DEVCG_DEV_* of include/uapi/linux/bpf.h. */
    public static final int DEV_BLOCK = 1;
    public static final int DEV_CHAR = 2;

    public static final int OFF_ACCESS_TYPE = 0;
    public static final int OFF_MAJOR = 4;
    public static final int OFF_MINOR = 8;

    public static final CtxLayout LAYOUT = new CtxLayout(12, List.of(
            new CtxField("access_type", OFF_ACCESS_TYPE, 4, CtxField.Read.NARROW, false),
            new CtxField("major", OFF_MAJOR, 4, CtxField.Read.FULL, false),
            new CtxField("minor", OFF_MINOR, 4, CtxField.Read.FULL, false)));

    private final int type;
    private final int access;
    private final int major;
    private final int minor;

    /**
     * @param type {@link #DEV_BLOCK} or {@link #DEV_CHAR}
     * @param access a non-empty combination of {@link #ACC_MKNOD}, {@link #ACC_READ}, {@link #ACC_WRITE}
     *               (an open for O_RDWR asks for read and write at once)
     * @param major any u32 (Java int bits)
     * @param minor any u32 (Java int bits)
     */
    public BpfCgroupDevCtx(int type, int access, int major, int minor) {
        super(LAYOUT);
        if (type != DEV_BLOCK && type != DEV_CHAR) {
            throw new IllegalArgumentException("device type must be BPF_DEVCG_DEV_BLOCK (1) or _CHAR (2), got " + type);
        }
        if (access == 0 || (access & ~(ACC_MKNOD | ACC_READ | ACC_WRITE)) != 0) {
            throw new IllegalArgumentException("access must be a non-empty subset of mknod|read|write (1|2|4), got " + access);
        }
        this.type = type;
        this.access = access;
        this.major = major;
        this.minor = minor;
        put(OFF_ACCESS_TYPE, 4, ((long) access << 16) | type);
        put(OFF_MAJOR, 4, major & 0xffffffffL);
        put(OFF_MINOR, 4, minor & 0xffffffffL);
    }

    public int type() {
        return type;
    }

    public int access() {
        return access;
    }

    public int major() {
        return major;
    }

    public int minor() {
        return minor;
    }

    /** A cgroup_device context has no packet: LD_ABS/LD_IND fault. */
    @Override
    public Packet packet() {
        return null;
    }

    @Override
    public String toString() {
        StringBuilder acc = new StringBuilder();
        if ((access & ACC_READ) != 0) {
            acc.append('r');
        }
        if ((access & ACC_WRITE) != 0) {
            acc.append('w');
        }
        if ((access & ACC_MKNOD) != 0) {
            acc.append('m');
        }
        return (type == DEV_CHAR ? "c " : "b ") + Integer.toUnsignedString(major) + ":"
                + Integer.toUnsignedString(minor) + " " + acc;
    }
}
