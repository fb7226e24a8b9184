package dev.cgbpf.hook.events;

import dev.cgbpf.hook.compile.EventKind;
import dev.cgbpf.hook.compile.EventLayout;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * One denial as a program reported it (the record of {@link EventLayout}), decoded.
 *
 * @param pid the process id (tgid); {@code tid} the thread
 * @param a0 see {@link EventLayout}: family or access_type
 * @param addr the 16 address bytes as written (network order)
 */
public record DenialEvent(long cgroupId, int pid, int tid, String comm, EventKind kind, int rule,
                          int a0, int a1, int a2, int port, byte[] addr) {
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;

    /** The record, or empty for bytes that are not one (another size, an unknown kind). */
    public static Optional<DenialEvent> decode(byte[] rec) {
        if (rec.length != EventLayout.SIZE) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(rec).order(ByteOrder.LITTLE_ENDIAN);
        Optional<EventKind> kind = EventKind.of(b.getInt(EventLayout.KIND));
        if (kind.isEmpty()) {
            return Optional.empty();
        }
        long pidTgid = b.getLong(EventLayout.PID_TGID);
        int n = 0;
        while (n < EventLayout.COMM_LEN && rec[EventLayout.COMM + n] != 0) {
            n++;
        }
        String comm = new String(rec, EventLayout.COMM, n, StandardCharsets.UTF_8);
        return Optional.of(new DenialEvent(b.getLong(EventLayout.CGROUP_ID), (int) (pidTgid >>> 32), (int) pidTgid,
                comm, kind.get(), b.getInt(EventLayout.RULE), b.getInt(EventLayout.A0), b.getInt(EventLayout.A1),
                b.getInt(EventLayout.A2), b.getInt(EventLayout.PORT),
                Arrays.copyOfRange(rec, EventLayout.ADDR, EventLayout.ADDR + 16)));
    }

    /** The address judged, for the sock_addr kinds: by the socket's family (a0). */
    public Optional<InetAddress> address() {
        if (kind == EventKind.DEVICE || kind == EventKind.SOCKET) {
            return Optional.empty();
        }
        try {
            return switch (a0) {
                case AF_INET -> Optional.of(InetAddress.getByAddress(Arrays.copyOf(addr, 4)));
                case AF_INET6 -> Optional.of(InetAddress.getByAddress(addr));
                default -> Optional.empty();
            };
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    /**
     * The object in the words of the human form: {@code open c 1:5 w}, {@code bind
     * 10.0.0.9:80}, {@code socket inet6 dgram udp}.
     */
    public String object() {
        return switch (kind) {
            case DEVICE -> "open " + DeviceWords.type(a0 & 0xffff) + " " + Integer.toUnsignedString(a1) + ":"
                    + Integer.toUnsignedString(a2) + " " + DeviceWords.access(a0 >>> 16);
            case SOCKET -> "socket " + SocketWords.family(a0) + " " + SocketWords.type(a1) + " "
                    + SocketWords.protocol(a2);
            case BIND_ADDRESS, BIND_PORT -> "bind " + endpoint();
            case CONNECT -> "connect " + endpoint();
            case SENDMSG -> "sendmsg from " + address().map(InetAddress::getHostAddress).orElse("?") + " to port " + port;
        };
    }

    private String endpoint() {
        String a = address().map(InetAddress::getHostAddress).orElse("?");
        return (a.indexOf(':') >= 0 ? "[" + a + "]" : a) + ":" + port;
    }
}
