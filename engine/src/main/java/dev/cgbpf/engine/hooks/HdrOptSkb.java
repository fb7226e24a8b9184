package dev.cgbpf.engine.hooks;

/**
 * The packet of one sock_ops callback as {@code struct bpf_sock_ops_kern} holds it: the bytes
 * skb->data points at, where skb_data_end lies in them (bpf_skops_init_skb's end offset),
 * skb->len, the TCP flags, and remaining_opt_len, which bpf_reserve_hdr_opt and
 * bpf_store_hdr_opt take from. Mutable: a store moves skb_data_end.
 */
final class HdrOptSkb {
    /** From skb->data on; null when the callback has no packet (then skb_data reads 0). */
    final byte[] bytes;
    int dataEnd;
    final int len;
    final int tcpFlags;
    int remaining;

    private HdrOptSkb(byte[] bytes, int dataEnd, int len, int tcpFlags, int remaining) {
        this.bytes = bytes;
        this.dataEnd = dataEnd;
        this.len = len;
        this.tcpFlags = tcpFlags;
        this.remaining = remaining;
    }

    /** A received segment from its TCP header on: skb_data_end at the end of the header (tcp_hdrlen). */
    static HdrOptSkb received(byte[] tcpSegment) {
        return new HdrOptSkb(tcpSegment.clone(), headerLength(tcpSegment), tcpSegment.length,
                tcpSegment[13] & 0xff, 0);
    }

    /**
     * HDR_OPT_LEN_CB of a segment being built: skb->data is still at the payload (none in the
     * engine's segments) and skb_data_end equals it (end offset 0).
     */
    static HdrOptSkb beforeHeader(int payloadLen, int tcpFlags, int remaining) {
        return new HdrOptSkb(new byte[0], 0, payloadLen, tcpFlags, remaining);
    }

    /** HDR_OPT_LEN_CB from tcp_current_mss, which passes no packet. */
    static HdrOptSkb none(int remaining) {
        return new HdrOptSkb(null, 0, 0, 0, remaining);
    }

    /**
     * WRITE_HDR_OPT_CB: the header with the kernel's options written, skb_data_end where the
     * reserved space of {@code reserved} bytes starts.
     */
    static HdrOptSkb toWrite(byte[] header, int payloadLen, int reserved) {
        return new HdrOptSkb(header, header.length - reserved, header.length + payloadLen, header[13] & 0xff,
                reserved);
    }

    static int headerLength(byte[] tcp) {
        return ((tcp[12] & 0xff) >> 4) * 4;
    }
}
