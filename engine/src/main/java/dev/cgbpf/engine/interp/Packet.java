package dev.cgbpf.engine.interp;

/**
 * The packet of a socket buffer as the legacy LD_ABS/LD_IND instructions see it: one linear
 * buffer with the link-layer (mac) header, the network header and the data start, as offsets into
 * the packet region. {@code tail} is the end of the packet.
 */
public record Packet(Region region, int mac, int network, int data, int tail) {
}
