package dev.cgbpf.kernel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

/**
 * The probe worker: a child process that the runner moves into a scenario cgroup, asks to do one
 * thing there (a mknod, an access check, a socket call), and moves out again. cgroup-bpf programs
 * act on the task that makes the call and on sockets by the cgroup they were created in, so the
 * probe must run in a process of its own; its calls go through libc so that the errno is exact.
 *
 * <p>Line protocol on stdin/stdout, one request and one answer per line: the answer is
 * {@code ok [values...]} or {@code err ERRNO-NUMBER}. Paths travel as hex of their UTF-8 bytes,
 * addresses as hex of their raw bytes. The worker prints {@code ready PID} once JNA and the JDK's
 * address classes are initialised (so that nothing is loaded lazily, and no socket is opened,
 * while it sits in a cgroup whose programs might deny or count it) and
 * exits at {@code exit} or at end of input, i.e. when the runner goes away.
 */
public final class ProbeWorkerMain {
    static final int S_IFCHR = 0020000;
    static final int S_IFBLK = 0060000;
    static final int ETIMEDOUT = 110;

    private ProbeWorkerMain() {
    }

    public static void main(String[] args) throws IOException {
        LibC.INSTANCE.getpid();
        // InetAddress's first use probes the host's IPv4/IPv6 support by opening sockets: do it
        // here, outside any scenario cgroup, or sock_create programs would count those sockets
        InetAddress.getByAddress(new byte[4]);
        InetAddress.getByAddress(new byte[16]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        out.println("ready " + ProcessHandle.current().pid());
        out.flush();
        String line;
        while ((line = in.readLine()) != null && !line.equals("exit")) {
            String answer;
            try {
                answer = "ok" + handle(line.split(" "));
            } catch (ErrnoException e) {
                answer = "err " + e.errno();
            } catch (RuntimeException | Error e) {
                // say what went wrong and stay alive: the runner reports it for this probe only
                e.printStackTrace();
                answer = "bad " + e.toString().replace('\n', ' ');
            }
            out.println(answer);
            out.flush();
        }
    }

    /** Runs one request; returns the answer's values, each with a leading space. */
    static String handle(String[] t) throws ErrnoException {
        switch (t[0]) {
            case "mknod" -> {
                String path = unhexPath(t[1]);
                int mode = (t[2].equals("b") ? S_IFBLK : S_IFCHR) | 0600;
                if (LibC.INSTANCE.mknod(path, mode, makedev(Integer.parseInt(t[3]), Integer.parseInt(t[4]))) != 0) {
                    throw ErrnoException.last("mknod");
                }
                LibC.INSTANCE.unlink(path);
                return "";
            }
            case "access" -> {
                if (LibC.INSTANCE.access(unhexPath(t[1]), Integer.parseInt(t[2])) != 0) {
                    throw ErrnoException.last("access");
                }
                return "";
            }
            case "open" -> {
                int fd = LibC.INSTANCE.open(unhexPath(t[1]), Integer.parseInt(t[2]));
                if (fd < 0) {
                    throw ErrnoException.last("open");
                }
                LibC.INSTANCE.close(fd);
                return "";
            }
            case "socket" -> {
                try (Sock s = Sock.open(Integer.parseInt(t[1]), Integer.parseInt(t[2]), Integer.parseInt(t[3]))) {
                    return " " + s.getInt(Sock.SOL_SOCKET, Sock.SO_BINDTOIFINDEX)
                            + " " + s.getInt(Sock.SOL_SOCKET, Sock.SO_MARK)
                            + " " + s.getInt(Sock.SOL_SOCKET, Sock.SO_PRIORITY);
                }
            }
            case "bind" -> {
                try (Sock s = Sock.open(Integer.parseInt(t[1]), Integer.parseInt(t[2]), 0)) {
                    s.bind(new SockAddr(SockAddr.unhex(t[3]), Integer.parseInt(t[4])));
                    return " " + addr(s.localAddress());
                }
            }
            case "connect" -> {
                int type = Integer.parseInt(t[2]);
                try (Sock s = Sock.open(Integer.parseInt(t[1]), type | Sock.SOCK_NONBLOCK, 0)) {
                    if (!s.connect(new SockAddr(SockAddr.unhex(t[3]), Integer.parseInt(t[4])))) {
                        // a dropped SYN or SYN-ACK would make the kernel retry for minutes
                        if (!s.poll(Sock.POLLOUT, Integer.parseInt(t[5]))) {
                            throw new ErrnoException(ETIMEDOUT, "connect");
                        }
                        int err = s.getInt(Sock.SOL_SOCKET, Sock.SO_ERROR);
                        if (err != 0) {
                            throw new ErrnoException(err, "connect");
                        }
                    }
                    return " " + addr(s.peerAddress()) + " " + addr(s.localAddress());
                }
            }
            case "sendmsg" -> {
                try (Sock s = Sock.open(Integer.parseInt(t[1]), Sock.SOCK_DGRAM, 0)) {
                    InetAddress src = t[4].equals("-") ? null : SockAddr.unhex(t[4]);
                    s.sendmsg(new SockAddr(SockAddr.unhex(t[2]), Integer.parseInt(t[3])), src,
                            t[5].getBytes(StandardCharsets.US_ASCII));
                    return "";
                }
            }
            default -> throw new IllegalArgumentException("unknown request " + t[0]);
        }
    }

    private static String addr(SockAddr a) {
        return SockAddr.hex(a.addr()) + " " + a.port();
    }

    /** glibc's makedev: 12 bits of major and 20 of minor split across the 64-bit dev_t. */
    static long makedev(int major, int minor) {
        long maj = major & 0xffffffffL;
        long min = minor & 0xffffffffL;
        return ((maj & 0xfffff000L) << 32) | ((maj & 0xfffL) << 8) | ((min & 0xffffff00L) << 12) | (min & 0xffL);
    }

    static String hexPath(String path) {
        StringBuilder b = new StringBuilder();
        for (byte x : path.getBytes(StandardCharsets.UTF_8)) {
            b.append(String.format("%02x", x & 0xff));
        }
        return b.toString();
    }

    static String unhexPath(String hex) {
        byte[] a = new byte[hex.length() / 2];
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return new String(a, StandardCharsets.UTF_8);
    }
}
