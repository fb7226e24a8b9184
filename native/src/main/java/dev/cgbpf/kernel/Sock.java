package dev.cgbpf.kernel;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.net.InetAddress;

/**
 * One socket fd, owned and closed deterministically, with the few calls the probes and the
 * listeners make. Every failure is an {@link ErrnoException} with the kernel's errno.
 */
final class Sock implements AutoCloseable {
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_RAW = 3;
    static final int SOCK_NONBLOCK = 04000;
    static final int SOCK_CLOEXEC = 02000000;
    static final int SOL_SOCKET = 1;
    static final int SO_REUSEADDR = 2;
    static final int SO_ERROR = 4;
    static final int SO_PRIORITY = 12;
    static final int SO_MARK = 36;
    static final int SO_BINDTOIFINDEX = 62;
    static final int SOL_IP = 0;
    static final int IP_PKTINFO = 8;
    static final int SOL_IPV6 = 41;
    static final int IPV6_RECVPKTINFO = 49;
    static final int IPV6_PKTINFO = 50;
    static final int EINPROGRESS = 115;
    static final int EAGAIN = 11;
    static final short POLLIN = 1;
    static final short POLLOUT = 4;

    private final int fd;
    private final int family;
    private boolean closed;

    private Sock(int fd, int family) {
        this.fd = fd;
        this.family = family;
    }

    static Sock open(int family, int type, int protocol) throws ErrnoException {
        int fd = LibC.INSTANCE.socket(family, type | SOCK_CLOEXEC, protocol);
        if (fd < 0) {
            throw ErrnoException.last("socket");
        }
        return new Sock(fd, family);
    }

    int fd() {
        return fd;
    }

    int family() {
        return family;
    }

    void setInt(int level, int name, int value) throws ErrnoException {
        byte[] v = {(byte) value, (byte) (value >> 8), (byte) (value >> 16), (byte) (value >> 24)};
        if (LibC.INSTANCE.setsockopt(fd, level, name, v, 4) != 0) {
            throw ErrnoException.last("setsockopt " + level + "/" + name);
        }
    }

    int getInt(int level, int name) throws ErrnoException {
        byte[] v = new byte[4];
        IntByReference len = new IntByReference(4);
        if (LibC.INSTANCE.getsockopt(fd, level, name, v, len) != 0) {
            throw ErrnoException.last("getsockopt " + level + "/" + name);
        }
        return (v[0] & 0xff) | (v[1] & 0xff) << 8 | (v[2] & 0xff) << 16 | (v[3] & 0xff) << 24;
    }

    void bind(SockAddr a) throws ErrnoException {
        byte[] raw = a.encode(family);
        if (LibC.INSTANCE.bind(fd, raw, raw.length) != 0) {
            throw ErrnoException.last("bind");
        }
    }

    /** connect(2); a non-blocking socket's EINPROGRESS is returned as false, success as true. */
    boolean connect(SockAddr a) throws ErrnoException {
        byte[] raw = a.encode(family);
        if (LibC.INSTANCE.connect(fd, raw, raw.length) != 0) {
            int errno = SysErrno.last();
            if (errno == EINPROGRESS) {
                return false;
            }
            throw new ErrnoException(errno, "connect");
        }
        return true;
    }

    void listen(int backlog) throws ErrnoException {
        if (LibC.INSTANCE.listen(fd, backlog) != 0) {
            throw ErrnoException.last("listen");
        }
    }

    /** Accepts one pending connection of a non-blocking listener and closes it; false when none is pending. */
    boolean acceptAndClose() {
        int c = LibC.INSTANCE.accept4(fd, Pointer.NULL, Pointer.NULL, SOCK_CLOEXEC);
        if (c < 0) {
            return false;
        }
        LibC.INSTANCE.close(c);
        return true;
    }

    SockAddr localAddress() throws ErrnoException {
        return address("getsockname", LibC.INSTANCE::getsockname);
    }

    SockAddr peerAddress() throws ErrnoException {
        return address("getpeername", LibC.INSTANCE::getpeername);
    }

    /** getsockname(2) and getpeername(2), which fill a sockaddr_storage and say how much of it they used. */
    private interface NameCall {
        int call(int fd, byte[] addr, IntByReference len);
    }

    private SockAddr address(String syscall, NameCall nameCall) throws ErrnoException {
        byte[] raw = new byte[SockAddr.SIZE_STORAGE];
        IntByReference len = new IntByReference(raw.length);
        if (nameCall.call(fd, raw, len) != 0) {
            throw ErrnoException.last(syscall);
        }
        return SockAddr.decode(raw, len.getValue());
    }

    /** Waits for {@code events} up to {@code timeoutMs}; true when they came. */
    boolean poll(short events, int timeoutMs) throws ErrnoException {
        byte[] pfd = pollfd(fd, events);
        int n = LibC.INSTANCE.poll(pfd, 1, timeoutMs);
        if (n < 0) {
            throw ErrnoException.last("poll");
        }
        return n > 0;
    }

    static byte[] pollfd(int fd, short events) {
        return new byte[] {(byte) fd, (byte) (fd >> 8), (byte) (fd >> 16), (byte) (fd >> 24),
            (byte) events, (byte) (events >> 8), 0, 0};
    }

    /**
     * An unconnected sendmsg(2) of {@code payload} to {@code to}; with {@code src} the source
     * address goes in an IP_PKTINFO (ipi_spec_dst) or IPV6_PKTINFO (ipi6_addr) control message.
     * struct msghdr, iovec and cmsghdr are laid out for 64-bit Linux.
     */
    void sendmsg(SockAddr to, InetAddress src, byte[] payload) throws ErrnoException {
        byte[] name = to.encode(family);
        int cmsgData = family == SockAddr.AF_INET ? 12 : 20;
        int cmsgSpace = src == null ? 0 : 16 + ((cmsgData + 7) & ~7);
        try (Memory nameMem = new Memory(name.length);
             Memory data = new Memory(Math.max(1, payload.length));
             Memory iov = new Memory(16);
             Memory control = new Memory(Math.max(1, cmsgSpace));
             Memory msg = new Memory(56)) {
            nameMem.write(0, name, 0, name.length);
            data.write(0, payload, 0, payload.length);
            iov.setPointer(0, data);
            iov.setLong(8, payload.length);
            control.clear();
            if (src != null) {
                control.setLong(0, 16 + cmsgData); // CMSG_LEN
                if (family == SockAddr.AF_INET) {
                    control.setInt(8, SOL_IP);
                    control.setInt(12, IP_PKTINFO);
                    byte[] a = src.getAddress();
                    if (a.length != 4) {
                        throw new ErrnoException(22, "an IPv6 source for an IPv4 socket");
                    }
                    control.write(16 + 4, a, 0, 4); // ipi_ifindex 0, ipi_spec_dst
                } else {
                    control.setInt(8, SOL_IPV6);
                    control.setInt(12, IPV6_PKTINFO);
                    byte[] a = new SockAddr(src, 0).encode(SockAddr.AF_INET6);
                    control.write(16, a, 8, 16); // ipi6_addr, then ipi6_ifindex 0
                }
            }
            msg.clear();
            msg.setPointer(0, nameMem);
            msg.setInt(8, name.length);
            msg.setPointer(16, iov);
            msg.setLong(24, 1);
            msg.setPointer(32, src == null ? Pointer.NULL : control);
            msg.setLong(40, cmsgSpace);
            if (LibC.INSTANCE.sendmsg(fd, msg, 0) < 0) {
                throw ErrnoException.last("sendmsg");
            }
        }
    }

    /** One datagram if one is waiting (non-blocking), with its source; null when none is. */
    Datagram receive() {
        byte[] buf = new byte[2048];
        byte[] from = new byte[SockAddr.SIZE_STORAGE];
        IntByReference fromLen = new IntByReference(from.length);
        long n = LibC.INSTANCE.recvfrom(fd, buf, buf.length, 0x40 /* MSG_DONTWAIT */, from, fromLen);
        if (n < 0) {
            return null;
        }
        byte[] payload = new byte[(int) n];
        System.arraycopy(buf, 0, payload, 0, (int) n);
        return new Datagram(payload, SockAddr.decode(from, fromLen.getValue()));
    }

    record Datagram(byte[] payload, SockAddr from) {
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            LibC.INSTANCE.close(fd);
        }
    }
}
