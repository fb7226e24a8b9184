package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Machine;

/**
 * bpf_load_hdr_opt (142), bpf_store_hdr_opt (143) and bpf_reserve_hdr_opt (144) of sock_ops
 * programs, with the kernel's checks in the kernel's order (net/core/filter.c): argument errors
 * (EINVAL) first, then the callback (EPERM: reserve only in HDR_OPT_LEN_CB, store only in
 * WRITE_HDR_OPT_CB, load wherever there is a packet, except HDR_OPT_LEN_CB), then room (ENOSPC)
 * and the search of the header's options (ENOMSG, EEXIST). The experimental kinds 253 and 254
 * are told apart by their magic: 2 or 4 bytes for a load, the first 2 for a store's duplicate check.
 */
final class TcpHdrOpt {
    static final int LOAD_HDR_OPT = 142;
    static final int STORE_HDR_OPT = 143;
    static final int RESERVE_HDR_OPT = 144;
    /** BPF_LOAD_HDR_OPT_TCP_SYN: search the saved SYN instead of the current packet. */
    private static final long LOAD_SYN = 1;
    private static final int TCPOPT_EOL = 0;
    private static final int TCPOPT_NOP = 1;
    private static final int TCPOPT_EXP = 254;
    private static final int TCPOPT_EXP2 = 253;
    private static final int TCP_HLEN = 20;

    private TcpHdrOpt() {
    }

    private static BpfSockOpsCtx ctx(Machine m, String helper) {
        if (!(m.ctx() instanceof BpfSockOpsCtx c)) {
            throw new Fault(helper + ": the context is not a bpf_sock_ops");
        }
        return c;
    }

    /** The option room of a header-option callback, which the engine's TCP model always passes. */
    private static HdrOptSkb room(BpfSockOpsCtx c, String helper) {
        HdrOptSkb skb = c.hdrOptSkb();
        if (skb == null) {
            throw new Fault(helper + ": callback " + c.op() + " was made without its option room");
        }
        return skb;
    }

    /** long bpf_reserve_hdr_opt(skops, u32 len, u64 flags). */
    static long reserve(Machine m, long ctx, long len, long flags, long r4, long r5) {
        BpfSockOpsCtx c = ctx(m, "bpf_reserve_hdr_opt");
        if (c.op() != SockOpsHook.HDR_OPT_LEN_CB) {
            return -Errnos.EPERM;
        }
        long n = len & 0xffffffffL;
        if (flags != 0 || n < 2) {
            return -Errnos.EINVAL;
        }
        HdrOptSkb skb = room(c, "bpf_reserve_hdr_opt");
        if (n > skb.remaining) {
            return -Errnos.ENOSPC;
        }
        skb.remaining -= (int) n;
        return 0;
    }

    /** long bpf_store_hdr_opt(skops, const void *from, u32 len, u64 flags): appends one option. */
    static long store(Machine m, long ctx, long from, long len, long flags, long r5) {
        BpfSockOpsCtx c = ctx(m, "bpf_store_hdr_opt");
        if (c.op() != SockOpsHook.WRITE_HDR_OPT_CB) {
            return -Errnos.EPERM;
        }
        int n = (int) (len & 0xffffffffL);
        if (n < 2 || flags != 0) {
            return -Errnos.EINVAL;
        }
        byte[] opt = m.readBytes(from, n);
        int kind = opt[0] & 0xff;
        int kindLen = opt[1] & 0xff;
        if (kindLen > n || kind == TCPOPT_NOP || kind == TCPOPT_EOL) {
            return -Errnos.EINVAL;
        }
        HdrOptSkb skb = room(c, "bpf_store_hdr_opt");
        if (kindLen > skb.remaining) {
            return -Errnos.ENOSPC;
        }
        byte[] magic = null;
        if (kind == TCPOPT_EXP || kind == TCPOPT_EXP2) {
            if (kindLen < 4) {
                return -Errnos.EINVAL;
            }
            magic = new byte[] {opt[2], opt[3]};
        }
        Search s = search(skb.bytes, skb.dataEnd, kind, magic);
        if (s.at >= 0) {
            return -Errnos.EEXIST;
        }
        if (s.err != -Errnos.ENOMSG) {
            return s.err;
        }
        if (s.eol) {
            return -Errnos.ENOSPC; // the options were ended: nothing more may follow
        }
        System.arraycopy(opt, 0, skb.bytes, skb.dataEnd, kindLen);
        skb.remaining -= kindLen;
        skb.dataEnd += kindLen;
        return 0;
    }

    /**
     * long bpf_load_hdr_opt(skops, void *searchby_res, u32 len, u64 flags): copies the option of the
     * kind (and magic) given in the buffer's first bytes into it; its length, or -ENOSPC with the
     * first {@code len} bytes copied. With BPF_LOAD_HDR_OPT_TCP_SYN, ENOENT: the engine's sockets
     * are active opens, which save no SYN.
     */
    static long load(Machine m, long ctx, long buf, long len, long flags, long r5) {
        BpfSockOpsCtx c = ctx(m, "bpf_load_hdr_opt");
        int n = (int) (len & 0xffffffffL);
        if (n < 2 || (flags & ~LOAD_SYN) != 0) {
            return -Errnos.EINVAL;
        }
        byte[] by = m.readBytes(buf, n);
        int kind = by[0] & 0xff;
        int searchLen = by[1] & 0xff;
        if (searchLen > n || kind == TCPOPT_NOP || kind == TCPOPT_EOL) {
            return -Errnos.EINVAL;
        }
        byte[] magic = null;
        if (kind == TCPOPT_EXP || kind == TCPOPT_EXP2) {
            if (searchLen != 4 && searchLen != 6) {
                return -Errnos.EINVAL;
            }
            magic = java.util.Arrays.copyOfRange(by, 2, searchLen);
        } else if (searchLen != 0) {
            return -Errnos.EINVAL;
        }
        if ((flags & LOAD_SYN) != 0) {
            return -Errnos.ENOENT; // bpf_sock_ops_get_syn: no saved_syn
        }
        HdrOptSkb skb = c.hdrOptSkb();
        if (skb == null || skb.bytes == null || c.op() == SockOpsHook.HDR_OPT_LEN_CB) {
            return -Errnos.EPERM;
        }
        Search s = search(skb.bytes, skb.dataEnd, kind, magic);
        if (s.at < 0) {
            return s.err;
        }
        int optLen = skb.bytes[s.at + 1] & 0xff;
        int copy = Math.min(optLen, n);
        for (int i = 0; i < copy; i++) {
            m.store(buf + i, 1, skb.bytes[s.at + i] & 0xff);
        }
        return optLen > n ? -Errnos.ENOSPC : optLen;
    }

    /** Where the option was found (or -1), the error otherwise (-ENOMSG, -EFAULT), and whether an EOL ended the search. */
    private record Search(int at, int err, boolean eol) {
    }

    /**
     * bpf_search_tcp_opt over the options between the fixed header and {@code end}: NOPs skipped,
     * EOL ends them, a length that runs past the end or is below 2 is EFAULT (as tcp_parse_options
     * gives up). An experimental kind matches only with its magic.
     */
    private static Search search(byte[] h, int end, int kind, byte[] magic) {
        int op = TCP_HLEN;
        while (op < end) {
            int k = h[op] & 0xff;
            if (k == TCPOPT_EOL) {
                return new Search(-1, -Errnos.ENOMSG, true);
            }
            if (k == TCPOPT_NOP) {
                op++;
                continue;
            }
            int kindLen = end - op < 2 ? 0 : h[op + 1] & 0xff;
            if (end - op < 2 || end - op < kindLen || kindLen < 2) {
                return new Search(-1, -Errnos.EFAULT, false);
            }
            if (k == kind) {
                if (magic == null) {
                    return new Search(op, 0, false);
                }
                if (magic.length > kindLen - 2) {
                    return new Search(-1, -Errnos.ENOMSG, false);
                }
                if (java.util.Arrays.equals(h, op + 2, op + 2 + magic.length, magic, 0, magic.length)) {
                    return new Search(op, 0, false);
                }
            }
            op += kindLen;
        }
        return new Search(-1, -Errnos.ENOMSG, false);
    }
}
