package dev.cgbpf.engine.hooks;

/**
 * What a cgroup_skb program reads of a packet besides its bytes: the struct sk_buff fields that
 * __sk_buff exposes, as the kernel has them at the hook. The values are the running kernel's
 * (dumped from egress and ingress programs on loopback TCP and UDP):
 * <ul>
 * <li>egress (ip_finish_output): pkt_type 0, ifindex 1 (lo), ingress_ifindex 0, the socket's mark
 *     and priority, hash = the socket's tx hash (TCP; UDP over IPv6 the flow label's; UDP over
 *     IPv4 none), gso_segs 1 for TCP, tstamp the departure time of a TCP segment (CLOCK_MONOTONIC);</li>
 * <li>ingress (sk_filter on the receiving socket): pkt_type 0 (PACKET_HOST), ifindex and
 *     ingress_ifindex 1, mark and priority 0, a receive hash, tstamp 0; gso_segs 1 for segments
 *     of a full socket, 0 for a SYN-ACK (sent by a request socket) and a RST (the control socket).</li>
 * </ul>
 *
 * @param network the packet from its network header on (what data..data_end covers)
 */
record SkBuff(byte[] network, boolean ingress, int pktType, int mark, int priority, int ingressIfindex,
              int hash, int gsoSegs, long tstamp) {
    static final int LOOPBACK_IFINDEX = 1;

    static SkBuff egress(byte[] network, InetSock sk, int hash, boolean tcp) {
        return new SkBuff(network, false, 0, sk.mark, sk.priority, 0, hash, tcp ? 1 : 0,
                tcp ? System.nanoTime() : 0);
    }

    static SkBuff ingress(byte[] network, int hash, int gsoSegs) {
        return new SkBuff(network, true, 0, 0, 0, LOOPBACK_IFINDEX, hash, gsoSegs, 0);
    }

    /** 4 (IPv4) or 6 (IPv6) by the version nibble; anything else has no family. */
    int ipVersion() {
        return network.length == 0 ? 0 : (network[0] & 0xf0) >>> 4;
    }
}
