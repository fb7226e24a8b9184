package dev.cgbpf.engine.interp;

import java.util.List;

import static dev.cgbpf.engine.interp.CtxField.Read.ANY;
import static dev.cgbpf.engine.interp.CtxField.Read.NARROW;
import static dev.cgbpf.engine.interp.CtxField.Read.NONE;

/**
 * {@code struct __sk_buff} as a socket_filter program sees it when BPF_PROG_TEST_RUN runs it on a
 * packet (net/bpf/test_run.c, bpf_prog_test_run_skb, without a ctx_in): the skb sits on the
 * loopback device, eth_type_trans() has pulled the 14-byte Ethernet header, so {@code len} and
 * LD_ABS offset 0 start at the network header.
 *
 * <p>Which fields a socket filter may touch is sk_filter_is_valid_access: the fields below marked
 * readable (narrow reads allowed), {@code cb[]} readable and writable at any aligned size, the
 * rest (data, data_end, tc_classid, family, addresses, ports, tstamp, wire_len, sk, ...) refused
 * with "invalid bpf_context access". Checked against the running kernel (6.18): every readable
 * field but len, pkt_type, protocol and ifindex reads 0 in a test run.
 */
public final class SkBuffContext extends StructContext {
    public static final int ETH_HLEN = 14;

    /** skb->pkt_type values (include/uapi/linux/if_packet.h). */
    static final int PACKET_HOST = 0;
    static final int PACKET_MULTICAST = 2;
    static final int PACKET_OTHERHOST = 3;

    public static final CtxLayout SOCKET_FILTER = new CtxLayout(192, List.of(
            new CtxField("len", 0, 4, NARROW, false),
            new CtxField("pkt_type", 4, 4, NARROW, false),
            new CtxField("mark", 8, 4, NARROW, false),
            new CtxField("queue_mapping", 12, 4, NARROW, false),
            new CtxField("protocol", 16, 4, NARROW, false),
            new CtxField("vlan_present", 20, 4, NARROW, false),
            new CtxField("vlan_tci", 24, 4, NARROW, false),
            new CtxField("vlan_proto", 28, 4, NARROW, false),
            new CtxField("priority", 32, 4, NARROW, false),
            new CtxField("ingress_ifindex", 36, 4, NARROW, false),
            new CtxField("ifindex", 40, 4, NARROW, false),
            new CtxField("tc_index", 44, 4, NARROW, false),
            new CtxField("cb", 48, 20, ANY, true),
            new CtxField("hash", 68, 4, NARROW, false),
            new CtxField("tc_classid", 72, 4, NONE, false),
            new CtxField("data", 76, 4, NONE, false),
            new CtxField("data_end", 80, 4, NONE, false),
            new CtxField("napi_id", 84, 4, NARROW, false),
            new CtxField("gso_segs", 164, 4, NARROW, false),
            new CtxField("gso_size", 176, 4, NARROW, false)));

    static final int OFF_LEN = 0;
    static final int OFF_PKT_TYPE = 4;
    static final int OFF_PROTOCOL = 16;
    static final int OFF_IFINDEX = 40;
    static final int LOOPBACK_IFINDEX = 1;

    private final Packet packet;

    /** A context over a whole Ethernet frame (at least {@link #ETH_HLEN} bytes, copied). */
    public SkBuffContext(byte[] frame) {
        super(SOCKET_FILTER);
        if (frame.length < ETH_HLEN) {
            throw new IllegalArgumentException("a frame needs at least " + ETH_HLEN + " bytes, got " + frame.length);
        }
        byte[] bytes = frame.clone();
        Region region = Region.packet(AddressSpace.PACKET_SLOT, bytes, false);
        this.packet = new Packet(region, 0, ETH_HLEN, ETH_HLEN, bytes.length);
        put(OFF_LEN, 4, bytes.length - ETH_HLEN);
        put(OFF_PKT_TYPE, 4, pktType(bytes));
        put(OFF_PROTOCOL, 4, protocol(bytes));
        put(OFF_IFINDEX, 4, LOOPBACK_IFINDEX);
    }

    /**
     * eth_type_trans() on the loopback device, whose address is all zeros and which has no
     * all-ones broadcast address: a zero destination is ours, a multicast bit makes it
     * multicast (ff:ff:ff:ff:ff:ff included), anything else is for another host.
     */
    static int pktType(byte[] frame) {
        boolean zero = true;
        for (int i = 0; i < 6; i++) {
            zero &= frame[i] == 0;
        }
        if (zero) {
            return PACKET_HOST;
        }
        return (frame[0] & 1) != 0 ? PACKET_MULTICAST : PACKET_OTHERHOST;
    }

    /**
     * skb->protocol as eth_type_trans() sets it, read back as the little-endian u32 the program
     * sees: an EtherType (>= 0x600) stays in network order; below that the frame is 802.3 with a
     * raw 0xffff "sap" (ETH_P_802_3) or 802.2 LLC (ETH_P_802_2).
     */
    static int protocol(byte[] frame) {
        int etherType = ((frame[12] & 0xff) << 8) | (frame[13] & 0xff);
        int hostOrder;
        if (etherType >= 0x600) {
            hostOrder = etherType;
        } else {
            boolean rawSap = frame.length >= ETH_HLEN + 2 && frame[14] == (byte) 0xff && frame[15] == (byte) 0xff;
            hostOrder = rawSap ? 0x0001 : 0x0004;
        }
        return Short.reverseBytes((short) hostOrder) & 0xffff;
    }

    @Override
    public Packet packet() {
        return packet;
    }

    /**
     * The frame as BPF_PROG_TEST_RUN hands it back for a non-L2 program type: the kernel pushes
     * the Ethernet header back as zeros after the run.
     */
    public byte[] dataOut() {
        byte[] out = packet.region().bytes().clone();
        java.util.Arrays.fill(out, 0, ETH_HLEN, (byte) 0);
        return out;
    }
}
