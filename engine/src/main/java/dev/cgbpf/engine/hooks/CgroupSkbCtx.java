package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.Region;

import java.util.List;

/**
 * {@code struct __sk_buff} as a cgroup_skb program sees it on ingress or egress: the packet
 * starts at the network header, data/data_end give direct (read-only) access to it, and sk
 * points to the socket (a PTR_TO_SOCK_COMMON: type..priority are not there).
 *
 * <p>Access: cg_skb_is_valid_access on top of bpf_skb_is_valid_access: tc_classid, data_meta,
 * wire_len, flow_keys, tstamp_type and the padding after it are refused; writable are mark,
 * priority, cb[0..4] (any aligned size inside cb) and tstamp (8 bytes); data, data_end and the
 * four address fields are 4-byte reads; sk an 8-byte read; tstamp and hwtstamp 8-byte; the rest
 * narrow reads of 1, 2 or 4 bytes and 4-byte writes where writable. LD_ABS/LD_IND are not for
 * this program type (no {@link #packet()}).
 */
public final class CgroupSkbCtx extends UapiCtx {
    // public: the hook's address guard compiler reads these fields by these offsets (one source of truth)
    static final int SIZE = 192;
    static final int LEN = 0;
    static final int PKT_TYPE = 4;
    static final int MARK = 8;
    public static final int PROTOCOL = 16;
    static final int PRIORITY = 32;
    static final int INGRESS_IFINDEX = 36;
    static final int IFINDEX = 40;
    static final int CB = 48;
    static final int CB_END = 68;
    static final int TC_CLASSID = 72;
    public static final int DATA = 76;
    public static final int DATA_END = 80;
    static final int FAMILY = 88;
    static final int REMOTE_IP4 = 92;
    static final int LOCAL_IP4 = 96;
    static final int REMOTE_IP6 = 100;
    static final int LOCAL_IP6 = 116;
    public static final int REMOTE_PORT = 132;
    static final int LOCAL_PORT = 136;
    static final int DATA_META = 140;
    static final int FLOW_KEYS = 144;
    static final int TSTAMP = 152;
    static final int WIRE_LEN = 160;
    public static final int SK = 168;
    static final int TSTAMP_TYPE = 180;
    static final int HWTSTAMP = 184;
    static final int LOOPBACK_IFINDEX = 1;

    static final int HASH = 68;
    static final int GSO_SEGS = 164;

    private final Region packet;
    private final Region sockRegion;
    /** The link-layer header before the packet, where the hook knows it (see {@link SkbHelpers}). */
    private byte[] macHeader;

    /**
     * The context of one packet at a hook. The address and port fields come from the socket as
     * convert_ctx_access reads them (see {@link #putSockFields}).
     */
    CgroupSkbCtx(SkBuff skb, InetSock sock) {
        super(SIZE);
        this.packet = Region.packet(AddressSpace.PACKET_SLOT, skb.network().clone(), false);
        this.sockRegion = Region.ctx(AddressSpace.SOCK_SLOT, BpfSockCtx.pointerView(sock, BpfSockCtx.View.SOCK_COMMON));
        int version = skb.ipVersion();
        put(LEN, 4, skb.network().length);
        put(PKT_TYPE, 4, skb.pktType());
        put(MARK, 4, skb.mark());
        put(PRIORITY, 4, skb.priority());
        if (version == 4 || version == 6) {
            put(PROTOCOL, 4, Short.reverseBytes((short) (version == 6 ? 0x86dd : 0x0800)) & 0xffff);
        }
        put(INGRESS_IFINDEX, 4, skb.ingressIfindex());
        put(IFINDEX, 4, LOOPBACK_IFINDEX);
        put(HASH, 4, skb.hash());
        put(GSO_SEGS, 4, skb.gsoSegs());
        put(TSTAMP, 8, skb.tstamp());
        putSockFields(FAMILY, sock);
    }

    /** The protocol field for a test-run frame: skb->protocol as eth_type_trans set it (little-endian u32 of a __be16). */
    void protocol(int networkOrderEtherType) {
        put(PROTOCOL, 4, networkOrderEtherType);
    }

    @Override
    protected boolean allowed(int off, int size, boolean write) {
        if (within(off, 1, TC_CLASSID, TC_CLASSID + 4) || within(off, 1, DATA_META, DATA_META + 4)
                || within(off, 1, WIRE_LEN, WIRE_LEN + 4) || within(off, 1, FLOW_KEYS, FLOW_KEYS + 8)
                || within(off, 1, TSTAMP_TYPE, HWTSTAMP)) {
            return false;
        }
        if (write && !(within(off, 1, MARK, MARK + 4) || within(off, 1, PRIORITY, PRIORITY + 4)
                || within(off, 1, CB, CB_END) || within(off, 1, TSTAMP, TSTAMP + 8))) {
            return false;
        }
        if (within(off, 1, CB, CB_END)) {
            return off + size <= CB_END;
        }
        if (within(off, 1, DATA, DATA + 4) || within(off, 1, DATA_END, DATA_END + 4)) {
            return size == 4;
        }
        if (within(off, 1, REMOTE_IP6, LOCAL_IP6 + 16) || within(off, 1, REMOTE_IP4, LOCAL_IP4 + 4)) {
            return size == 4;
        }
        if (within(off, 1, TSTAMP, TSTAMP + 8) || within(off, 1, HWTSTAMP, HWTSTAMP + 8)) {
            return size == 8 && !(write && off == HWTSTAMP);
        }
        if (off == SK) {
            return !write && size == 8;
        }
        if (within(off, 1, SK, SK + 8)) {
            return false;
        }
        return write ? size == 4 : narrow(size);
    }

    /** The rule depends on the class alone: computed from the first context, shared by all. */
    private static volatile byte[] directReads;

    @Override
    public byte[] directReads() {
        byte[] d = directReads;
        if (d == null) {
            d = directReadTable(DATA, DATA_END, SK);
            directReads = d;
        }
        return d;
    }

    @Override
    protected long read(int off, int size) {
        return switch (off) {
            case DATA -> packet.base();
            case DATA_END -> packet.base() + packet.length();
            case SK -> sockRegion.base();
            default -> get(off, size);
        };
    }

    @Override
    public List<Region> regions() {
        return List.of(packet, sockRegion);
    }

    /** Sets the Ethernet header that precedes the packet (a test run's frame header). */
    void macHeader(byte[] header) {
        this.macHeader = header.clone();
    }

    /** The Ethernet header set by {@link #macHeader(byte[])}, or null. */
    byte[] macHeader() {
        return macHeader;
    }

    /** The packet from its network header on (read-only for cgroup_skb programs). */
    byte[] packetBytes() {
        return packet.bytes();
    }

    long mark() {
        return get(MARK, 4);
    }
}
