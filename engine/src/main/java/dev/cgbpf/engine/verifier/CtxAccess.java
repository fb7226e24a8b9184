package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;

/**
 * Which context loads and stores each program type allows: the kernel's *_is_valid_access
 * callbacks (net/core/filter.c, kernel/bpf/cgroup.c), with the struct layouts of the uapi
 * (__sk_buff, bpf_sock_addr, bpf_sock, bpf_sock_ops, bpf_cgroup_dev_ctx). A refused access is
 * "invalid bpf_context access off=X size=Y" (EACCES).
 */
final class CtxAccess {
    /** What a permitted load yields. */
    record Field(RegType type, boolean maybeNull) {
        static final Field SCALAR = new Field(RegType.SCALAR, false);
    }

    private static final int U32 = 4;
    private static final int U64 = 8;

    private CtxAccess() {
    }

    /** The result of a load, or for a store a non-null value when allowed; null when refused. */
    static Field check(ProgType type, AttachType attach, int off, int size, boolean write) {
        if (off < 0 || off % size != 0) {
            return null;
        }
        return switch (type) {
            case SOCKET_FILTER -> skFilter(off, size, write);
            case CGROUP_SKB -> cgSkb(off, size, write);
            case CGROUP_DEVICE -> cgroupDev(off, size, write);
            case CGROUP_SOCK_ADDR -> sockAddr(attach, off, size, write);
            case CGROUP_SOCK -> sockFilter(attach, off, size, write);
            case SOCK_OPS -> sockOps(off, size, write);
            case LIRC_MODE2 -> null;
        };
    }

    /** bpf_ctx_narrow_access_ok: a power-of-two load no wider than the field. */
    private static boolean narrow(int size, int fieldSize) {
        return size <= fieldSize && (size & (size - 1)) == 0;
    }

    // ---------------------------------------------------------------- __sk_buff
    static final int SKB_MARK = 8, SKB_PRIORITY = 32, SKB_CB = 48, SKB_CB_END = 68, SKB_TC_CLASSID = 72,
            SKB_DATA = 76, SKB_DATA_END = 80, SKB_FAMILY = 88, SKB_REMOTE_IP4 = 92, SKB_LOCAL_IP4 = 96,
            SKB_REMOTE_IP6 = 100, SKB_LOCAL_IP6 = 116, SKB_LOCAL_PORT = 136, SKB_DATA_META = 140,
            SKB_FLOW_KEYS = 144, SKB_TSTAMP = 152, SKB_WIRE_LEN = 160, SKB_SK = 168, SKB_TSTAMP_TYPE = 180,
            SKB_HWTSTAMP = 184, SKB_SIZE = 192;

    private static boolean in(int off, int start, int len) {
        return off >= start && off < start + len;
    }

    private static Field skFilter(int off, int size, boolean write) {
        if (in(off, SKB_TC_CLASSID, 4) || in(off, SKB_DATA, 4) || in(off, SKB_DATA_META, 4) || in(off, SKB_DATA_END, 4)
                || (off >= SKB_FAMILY && off < SKB_LOCAL_PORT + 4) || in(off, SKB_TSTAMP, 8)
                || in(off, SKB_WIRE_LEN, 4) || in(off, SKB_HWTSTAMP, 8)) {
            return null;
        }
        if (write && !in(off, SKB_CB, SKB_CB_END - SKB_CB)) {
            return null;
        }
        return skb(off, size, write);
    }

    private static Field cgSkb(int off, int size, boolean write) {
        if (in(off, SKB_TC_CLASSID, 4) || in(off, SKB_DATA_META, 4) || in(off, SKB_WIRE_LEN, 4)) {
            return null;
        }
        if (write && !(in(off, SKB_MARK, 4) || in(off, SKB_PRIORITY, 4) || in(off, SKB_CB, SKB_CB_END - SKB_CB)
                || in(off, SKB_TSTAMP, 8))) {
            return null;
        }
        Field f = skb(off, size, write);
        if (f == null) {
            return null;
        }
        if (in(off, SKB_DATA, 4)) {
            return new Field(RegType.PTR_TO_PACKET, false);
        }
        if (in(off, SKB_DATA_END, 4)) {
            return new Field(RegType.PTR_TO_PACKET_END, false);
        }
        return f;
    }

    /** bpf_skb_is_valid_access: the rules common to every __sk_buff program type. */
    private static Field skb(int off, int size, boolean write) {
        if (off >= SKB_SIZE) {
            return null;
        }
        if (in(off, SKB_CB, SKB_CB_END - SKB_CB)) {
            return off + size > SKB_CB_END ? null : Field.SCALAR;
        }
        if (in(off, SKB_REMOTE_IP4, 4) || in(off, SKB_LOCAL_IP4, 4) || in(off, SKB_REMOTE_IP6, 16)
                || in(off, SKB_LOCAL_IP6, 16) || in(off, SKB_DATA, 4) || in(off, SKB_DATA_META, 4)
                || in(off, SKB_DATA_END, 4)) {
            return size == U32 ? Field.SCALAR : null;
        }
        if (in(off, SKB_FLOW_KEYS, 8)) {
            return null;
        }
        if (in(off, SKB_HWTSTAMP, 8)) {
            return write || size != U64 ? null : Field.SCALAR;
        }
        if (in(off, SKB_TSTAMP, 8)) {
            return size == U64 ? Field.SCALAR : null;
        }
        if (off == SKB_SK) {
            return write || size != U64 ? null : new Field(RegType.PTR_TO_SOCK_COMMON, true);
        }
        if (off >= SKB_TSTAMP_TYPE && off < SKB_HWTSTAMP) {
            return null; // tstamp_type and the padding after it
        }
        if (in(off, SKB_SK, 8)) {
            return null;
        }
        if (write) {
            return size == U32 ? Field.SCALAR : null;
        }
        return narrow(size, U32) ? Field.SCALAR : null;
    }

    // ---------------------------------------------------------------- bpf_cgroup_dev_ctx
    private static Field cgroupDev(int off, int size, boolean write) {
        if (write || off + size > 12) {
            return null;
        }
        if (off < 4) {
            return narrow(size, U32) ? Field.SCALAR : null; // access_type
        }
        return size == U32 ? Field.SCALAR : null; // major, minor
    }

    // ---------------------------------------------------------------- bpf_sock_addr
    static final int SA_USER_IP4 = 4, SA_USER_IP6 = 8, SA_USER_PORT = 24, SA_MSG_SRC_IP4 = 40, SA_MSG_SRC_IP6 = 44,
            SA_SK = 64, SA_SIZE = 72;

    private static Field sockAddr(AttachType attach, int off, int size, boolean write) {
        if (off >= SA_SIZE) {
            return null;
        }
        boolean ip4 = attach == AttachType.CGROUP_INET4_BIND || attach == AttachType.CGROUP_INET4_CONNECT
                || attach == AttachType.CGROUP_UDP4_SENDMSG;
        boolean ip6 = attach == AttachType.CGROUP_INET6_BIND || attach == AttachType.CGROUP_INET6_CONNECT
                || attach == AttachType.CGROUP_UDP6_SENDMSG;
        if (in(off, SA_USER_IP4, 4) && !ip4 || in(off, SA_USER_IP6, 16) && !ip6
                || in(off, SA_MSG_SRC_IP4, 4) && attach != AttachType.CGROUP_UDP4_SENDMSG
                || in(off, SA_MSG_SRC_IP6, 16) && attach != AttachType.CGROUP_UDP6_SENDMSG) {
            return null;
        }
        if (in(off, SA_USER_IP4, 4) || in(off, SA_USER_IP6, 16) || in(off, SA_MSG_SRC_IP4, 4)
                || in(off, SA_MSG_SRC_IP6, 16) || in(off, SA_USER_PORT, 4)) {
            if (wide(off, size, SA_USER_IP6, 16) || wide(off, size, SA_MSG_SRC_IP6, 16)) {
                return Field.SCALAR;
            }
            if (write) {
                return size == U32 ? Field.SCALAR : null;
            }
            return narrow(size, U32) ? Field.SCALAR : null;
        }
        if (in(off, SA_SK, 8)) {
            return off != SA_SK || write || size != U64 ? null : new Field(RegType.PTR_TO_SOCKET, false);
        }
        if (in(off, SA_MSG_SRC_IP6 + 16, 4)) {
            return null; // padding before the 8-byte aligned sk pointer
        }
        if (write) {
            return null;
        }
        return size == U32 ? Field.SCALAR : null;
    }

    /** bpf_ctx_wide_access_ok: an aligned 8-byte access inside an array field. */
    private static boolean wide(int off, int size, int field, int fieldLen) {
        return size == U64 && off >= field && off + U64 <= field + fieldLen && off % U64 == 0;
    }

    // ---------------------------------------------------------------- bpf_sock
    static final int SK_BOUND_DEV_IF = 0, SK_FAMILY = 4, SK_TYPE = 8, SK_PROTOCOL = 12, SK_MARK = 16,
            SK_PRIORITY = 20, SK_SRC_IP4 = 24, SK_SRC_IP6 = 28, SK_SRC_PORT = 44, SK_DST_PORT = 48,
            SK_DST_IP4 = 52, SK_DST_IP6 = 56, SK_STATE = 72, SK_RX_QUEUE_MAPPING = 76, SK_SIZE = 80;

    /** bpf_sock_is_valid_access: sizes only. Also used for loads through sock pointers. */
    static boolean bpfSock(int off, int size) {
        if (off < 0 || off >= SK_SIZE || off % size != 0) {
            return false;
        }
        if (off == SK_STATE || off == SK_FAMILY || off == SK_TYPE || off == SK_PROTOCOL || off == SK_SRC_PORT
                || off == SK_RX_QUEUE_MAPPING || in(off, SK_SRC_IP4, 4) || in(off, SK_SRC_IP6, 16)
                || in(off, SK_DST_IP4, 4) || in(off, SK_DST_IP6, 16)) {
            return narrow(size, U32);
        }
        if (in(off, SK_DST_PORT, 2)) {
            return narrow(size, size == U32 ? U32 : 2);
        }
        if (in(off, SK_DST_PORT + 2, 2)) {
            return false;
        }
        return size == U32;
    }

    private static Field sockFilter(AttachType attach, int off, int size, boolean write) {
        if (!bpfSock(off, size)) {
            return null;
        }
        boolean create = attach == null || attach == AttachType.CGROUP_INET_SOCK_CREATE
                || attach == AttachType.CGROUP_INET_INGRESS;
        boolean ok;
        if (off == SK_BOUND_DEV_IF || off == SK_MARK || off == SK_PRIORITY) {
            return create ? Field.SCALAR : null;
        } else if (in(off, SK_SRC_IP4, 4)) {
            ok = attach == AttachType.CGROUP_INET4_POST_BIND;
        } else if (in(off, SK_SRC_IP6, 16)) {
            ok = attach == AttachType.CGROUP_INET6_POST_BIND;
        } else if (in(off, SK_SRC_PORT, 4)) {
            ok = attach == AttachType.CGROUP_INET4_POST_BIND || attach == AttachType.CGROUP_INET6_POST_BIND;
        } else {
            ok = true;
        }
        return ok && !write ? Field.SCALAR : null;
    }

    // ---------------------------------------------------------------- bpf_sock_ops
    static final int SO_REPLY = 4, SO_SK_TXHASH = 164, SO_BYTES_RECEIVED = 168, SO_BYTES_ACKED = 176, SO_SK = 184,
            SO_SKB_DATA = 192, SO_SKB_DATA_END = 200, SO_SKB_TCP_FLAGS = 212, SO_SKB_HWTSTAMP = 216, SO_SIZE = 224;

    private static Field sockOps(int off, int size, boolean write) {
        if (off >= SO_SIZE) {
            return null;
        }
        if (write) {
            return (off == SO_REPLY || off == SO_SK_TXHASH) && size == U32 ? Field.SCALAR : null;
        }
        if (off >= SO_BYTES_RECEIVED && off < SO_BYTES_ACKED + 8) {
            return size == U64 ? Field.SCALAR : null;
        }
        if (off > SO_SK && off < SO_SKB_DATA_END + 8 && off % 8 != 0 || in(off, SO_SKB_HWTSTAMP, 8) && off != SO_SKB_HWTSTAMP) {
            return null; // the upper halves of pointer and u64 fields
        }
        if (off == SO_SK) {
            return size == U64 ? new Field(RegType.PTR_TO_SOCKET, true) : null;
        }
        if (off == SO_SKB_DATA) {
            return size == U64 ? new Field(RegType.PTR_TO_PACKET, false) : null;
        }
        if (off == SO_SKB_DATA_END) {
            return size == U64 ? new Field(RegType.PTR_TO_PACKET_END, false) : null;
        }
        if (off == SO_SKB_TCP_FLAGS) {
            return narrow(size, U32) ? Field.SCALAR : null;
        }
        if (off == SO_SKB_HWTSTAMP) {
            return size == U64 ? Field.SCALAR : null;
        }
        return size == U32 ? Field.SCALAR : null;
    }
}
