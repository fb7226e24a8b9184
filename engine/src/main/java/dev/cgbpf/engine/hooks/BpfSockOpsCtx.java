package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.Region;

import java.util.List;

/**
 * {@code struct bpf_sock_ops} (224 bytes): the context of sock_ops programs, called by TCP with
 * an {@code op} (BPF_SOCK_OPS_*) and up to four args, answering through {@code reply}.
 *
 * <p>Access (sock_ops_is_valid_access): writes only to reply (offset 4) and sk_txhash, 4 bytes;
 * reads of 4 bytes, except bytes_received, bytes_acked, sk, skb_data, skb_data_end and
 * skb_hwtstamp (8 bytes) and skb_tcp_flags (narrow). sk points to the full socket; without a
 * packet skb_data and skb_data_end read 0. The tcp_sock statistics (snd_cwnd, srtt_us, rcv_nxt,
 * ...) are the socket's {@link TcpSock} when the callback starts; bpf_sock_ops_cb_flags is read
 * live, since bpf_sock_ops_cb_flags_set changes it during the run.
 */
final class BpfSockOpsCtx extends UapiCtx {
    static final int SIZE = 224;
    static final int OP = 0;
    static final int ARGS = 4;
    static final int REPLY = 4;
    static final int FAMILY = 20;
    static final int REMOTE_IP4 = 24;
    static final int LOCAL_IP4 = 28;
    static final int REMOTE_IP6 = 32;
    static final int LOCAL_IP6 = 48;
    static final int REMOTE_PORT = 64;
    static final int LOCAL_PORT = 68;
    static final int IS_FULLSOCK = 72;
    static final int BPF_SOCK_OPS_CB_FLAGS = 84;
    static final int STATE = 88;
    /**
     * Where each of {@link TcpSock#counters()} lies: snd_cwnd 76, srtt_us 80, rtt_min 92 ...
     * packets_out 128, segs_in 140, segs_out 148, bytes_acked 176; no delivered, no icsk_retransmits.
     */
    private static final int[] COUNTERS = {76, 80, 92, 96, 100, 104, 108, 112, 120, 124, 128, 132, 136, 140, 148,
        156, 176, -1, -1};
    static final int SK_TXHASH = 164;
    static final int BYTES_RECEIVED = 168;
    static final int BYTES_ACKED = 176;
    static final int SK = 184;
    static final int SKB_DATA = 192;
    static final int SKB_DATA_END = 200;
    static final int SKB_TCP_FLAGS = 212;
    static final int SKB_HWTSTAMP = 216;

    static final int SKB_LEN = 208;

    private final InetSock sock;
    /** BPF_SOCK_OPS_*: the callback (read-only for the program). */
    private final int op;
    private final Region sockRegion;
    /** The packet TCP is handling, null when the callback has none. */
    private final HdrOptSkb skb;
    private final Region skbRegion;

    BpfSockOpsCtx(int op, int[] args, InetSock sock) {
        this(op, args, sock, (HdrOptSkb) null);
    }

    /** A callback on a received segment, from its TCP header on. */
    BpfSockOpsCtx(int op, int[] args, InetSock sock, byte[] segment) {
        this(op, args, sock, HdrOptSkb.received(segment));
    }

    /**
     * One callback. Addresses as convert_ctx_access reads them (an IPv6 connection's local_ip4 is
     * 127.0.0.6), remote_port in network order in the upper 16 bits, local_port in host order.
     *
     * @param skb the packet (the SYN-ACK at ACTIVE_ESTABLISHED_CB, a segment being built or received
     *            at the header-option callbacks), or null: then skb_data and skb_data_end read 0
     */
    BpfSockOpsCtx(int op, int[] args, InetSock sock, HdrOptSkb skb) {
        super(SIZE);
        if (args.length > 4) {
            throw new IllegalArgumentException("sock_ops takes at most 4 args, got " + args.length);
        }
        this.sock = sock;
        this.op = op;
        this.sockRegion = Region.ctx(AddressSpace.SOCK_SLOT, BpfSockCtx.pointerView(sock, BpfSockCtx.View.SOCKET));
        this.skb = skb;
        // the helpers write into the packet's own bytes (bpf_store_hdr_opt), the program only reads them
        this.skbRegion = skb == null || skb.bytes == null ? null
                : Region.packet(AddressSpace.PACKET_SLOT, skb.bytes, false);
        put(OP, 4, op);
        for (int i = 0; i < args.length; i++) {
            put(ARGS + 4 * i, 4, args[i]);
        }
        putSockFields(FAMILY, sock);
        put(IS_FULLSOCK, 4, 1);
        put(STATE, 4, sock.state);
        if (sock.tcp != null) {
            // the tcp_sock fields that sock_ops_convert_ctx_access reads from a full socket
            putCounters(COUNTERS, sock.tcp);
        }
        if (skb != null) {
            put(SKB_LEN, 4, skb.len);
            put(SKB_TCP_FLAGS, 4, skb.tcpFlags);
        }
    }

    @Override
    protected boolean allowed(int off, int size, boolean write) {
        if (write) {
            return (off == REPLY || off == SK_TXHASH) && size == 4;
        }
        return switch (off) {
            case BYTES_RECEIVED, BYTES_ACKED, SK, SKB_DATA, SKB_DATA_END, SKB_HWTSTAMP -> size == 8;
            default -> {
                if (within(off, 1, SKB_TCP_FLAGS, SKB_TCP_FLAGS + 4)) {
                    yield narrow(size);
                }
                if (within(off, 1, BYTES_RECEIVED, SKB_DATA_END + 8) || within(off, 1, SKB_HWTSTAMP, SIZE)) {
                    yield false; // the upper halves of the 8-byte fields
                }
                yield size == 4;
            }
        };
    }

    /** The rule depends on the class alone: computed from the first context, shared by all. */
    private static volatile byte[] directReads;

    /** The callback this context is for (BPF_SOCK_OPS_*). */
    int op() {
        return op;
    }

    @Override
    public byte[] directReads() {
        byte[] d = directReads;
        if (d == null) {
            d = directReadTable(SK, SKB_DATA, SKB_DATA_END, BPF_SOCK_OPS_CB_FLAGS);
            directReads = d;
        }
        return d;
    }

    @Override
    protected long read(int off, int size) {
        return switch (off) {
            case SK -> sockRegion.base();
            case SKB_DATA -> skbRegion == null ? 0 : skbRegion.base();
            case SKB_DATA_END -> skbRegion == null ? 0 : skbRegion.base() + skb.dataEnd;
            case BPF_SOCK_OPS_CB_FLAGS -> sock.tcp == null ? 0 : sock.tcp.cbFlags & 0xffffffffL;
            default -> get(off, size);
        };
    }

    @Override
    public List<Region> regions() {
        return skbRegion == null ? List.of(sockRegion) : List.of(sockRegion, skbRegion);
    }

    /** The callback's packet and option room, null when it has none. */
    HdrOptSkb hdrOptSkb() {
        return skb;
    }

    int reply() {
        return (int) get(REPLY, 4);
    }
}
