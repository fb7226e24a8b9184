package dev.cgbpf.engine.hooks;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bind-conflict rule against the matrix the running kernel (6.18) answered: rows a socket
 * bound (TCP: listening) on a port, columns a second bind to the same port; identical for TCP and
 * UDP. "x" is EADDRINUSE, "." success.
 */
class InetHashinfoTest {
    private static final String[] ADDRS = {"0.0.0.0", "127.0.0.1", "127.0.0.2", "::", "::1", "::ffff:127.0.0.1", "::ffff:0.0.0.0"};
    private static final String[] KERNEL = {
        "xxxx.xx",
        "xx.x.xx",
        "x.xx..x",
        "xxxxxxx",
        "...xx..",
        "xx.x.xx",
        "xxxx.xx",
    };

    private static InetSock bound(String addr, int protocol) throws Exception {
        boolean v6 = addr.contains(":");
        InetSock sk = new InetSock(v6, protocol == InetSock.IPPROTO_TCP ? InetSock.SOCK_STREAM : InetSock.SOCK_DGRAM, protocol);
        byte[] ip = InetAddress.getByName(addr).getAddress();
        sk.rcvSaddr = new SockAddr(v6 && ip.length == 4 ? SockAddr.mapped(ip) : ip);
        return sk;
    }

    @Test
    void conflictMatrixMatchesTheKernel() throws Exception {
        for (int protocol : new int[] {InetSock.IPPROTO_TCP, InetSock.IPPROTO_UDP}) {
            for (int row = 0; row < ADDRS.length; row++) {
                StringBuilder got = new StringBuilder();
                for (String col : ADDRS) {
                    InetHashinfo hash = new InetHashinfo();
                    assertEquals(0, hash.getPort(bound(ADDRS[row], protocol), 6000));
                    got.append(hash.getPort(bound(col, protocol), 6000) == 0 ? '.' : 'x');
                }
                assertEquals(KERNEL[row], got.toString(), "protocol " + protocol + ", first bound " + ADDRS[row]);
            }
        }
    }

    @Test
    void tcpAndUdpAreSeparatePortSpacesAndEphemeralPortsAvoidTakenOnes() throws Exception {
        InetHashinfo hash = new InetHashinfo();
        assertEquals(0, hash.getPort(bound("0.0.0.0", InetSock.IPPROTO_TCP), InetHashinfo.EPHEMERAL_LOW));
        InetSock udp = bound("0.0.0.0", InetSock.IPPROTO_UDP);
        assertEquals(0, hash.getPort(udp, InetHashinfo.EPHEMERAL_LOW));
        InetSock eph = bound("127.0.0.1", InetSock.IPPROTO_TCP);
        assertEquals(0, hash.getPort(eph, 0));
        assertEquals(InetHashinfo.EPHEMERAL_LOW + 1, eph.num);
    }
}
