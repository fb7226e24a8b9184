package dev.cgbpf.engine.hooks;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Packets rebuilt from the random parts (IP id, ports, sequence numbers, timestamps, flow label,
 * payload) of packets that an egress or ingress program dumped on the running kernel (6.18): every
 * other byte, the checksums included, must come out the same.
 */
class LoopbackPacketTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final SockAddr LO4 = new SockAddr(SockAddr.V4_LOOPBACK);
    private static final SockAddr LO6 = new SockAddr(SockAddr.V6_LOOPBACK);

    private static byte[] hex(String s) {
        return HEX.parseHex(s);
    }

    @Test
    void synAsTheKernelSendsIt() {
        byte[] options = hex("0204ffd70402080a0c7cadbe000000000103030a");
        byte[] tcp = LoopbackPacket.tcp(LO4, LO4, 0x9826, 0xf10d, 0xa05798ca, 0, LoopbackPacket.SYN, 65495, options, false);
        assertEquals("4500003cf7914000400645287f0000017f0000019826f10da05798ca00000000a002ffd7fe3000000204ffd70402080a"
                + "0c7cadbe000000000103030a", HEX.formatHex(LoopbackPacket.ip(LO4, LO4, 6, 0xf791, 0, tcp)));
    }

    @Test
    void rstCarriesAFullChecksum() {
        byte[] tcp = LoopbackPacket.tcp(LO4, LO4, 0xf10d, 0x9826, 0, 0xa05798cb, LoopbackPacket.RST | LoopbackPacket.ACK,
                0, new byte[0], true);
        assertEquals("450000280000400040063cce7f0000017f000001f10d982600000000a05798cb50140000ef760000",
                HEX.formatHex(LoopbackPacket.ip(LO4, LO4, 6, 0, 0, tcp)));
    }

    @Test
    void udpOverIpv4AndIpv6() {
        byte[] payload = "cgbpf-6baab198fdb42a33-1".getBytes(StandardCharsets.US_ASCII);
        assertEquals("45000034e55740004011575f7f0000017f000001e36df1050020fe33" + HEX.formatHex(payload),
                HEX.formatHex(LoopbackPacket.ip(LO4, LO4, 17, 0xe557, 0, LoopbackPacket.udp(LO4, LO4, 0xe36d, 0xf105, payload))));
        byte[] payload6 = "cgbpf-4a1ab3aa7bbfbe74-1".getBytes(StandardCharsets.US_ASCII);
        assertEquals("600fb42400201140" + "00000000000000000000000000000001".repeat(2) + "d827f10500200033"
                        + HEX.formatHex(payload6),
                HEX.formatHex(LoopbackPacket.ip(LO6, LO6, 17, 0, 0xfb424, LoopbackPacket.udp(LO6, LO6, 0xd827, 0xf105, payload6))));
    }

    @Test
    void tcpOverIpv6SynAck() {
        byte[] options = hex("0204ffc40402080a7ee32282a07a9a7c0103030a");
        byte[] tcp = LoopbackPacket.tcp(LO6, LO6, 0xf104, 0xdfa4, 0xe85521d6, 0xa647e9b1,
                LoopbackPacket.SYN | LoopbackPacket.ACK, 0xffb8, options, false);
        assertEquals("60097f2900280640" + "00000000000000000000000000000001".repeat(2)
                        + "f104dfa4e85521d6a647e9b1a012ffb8003000000204ffc40402080a7ee32282a07a9a7c0103030a",
                HEX.formatHex(LoopbackPacket.ip(LO6, LO6, 6, 0, 0x97f29, tcp)));
    }
}
