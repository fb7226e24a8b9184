package dev.cgbpf.engine.hooks;

import dev.cgbpf.engine.interp.Machine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * bpf_setsockopt and bpf_getsockopt from cgroup_sock_addr and sock_ops programs (kernel: bpf_sock_addr_setsockopt,
 * _bpf_setsockopt, __bpf_setsockopt and its sol_socket / sol_ip / sol_ipv6 / sol_tcp switches), on
 * the hook's socket. Only the options the kernel lets a program use exist; each takes an int
 * (optlen 4) and anything else is EINVAL. A failed getsockopt zeroes optval, as the kernel does.
 * What an option changes is kept on the socket ({@link Options}) and read back by getsockopt;
 * SO_MARK, SO_PRIORITY and SO_BINDTOIFINDEX are the socket's own fields, which ctx->sk shows.
 * Defaults come from the host's sysctls, as the kernel's do (tcp_wmem, tcp_rmem, wmem_default,
 * rmem_default, wmem_max, rmem_max, tcp_keepalive_*, tcp_syn_retries, auto_flowlabels, txrehash).
 * TCP_CONGESTION takes a name among tcp_available_congestion_control (ENOENT otherwise: a program
 * loads no module). Not modelled: TCP_SAVED_SYN and the TCP_BPF_* options other than TCP_BPF_IW and
 * TCP_BPF_SNDCWND_CLAMP (EINVAL here, where the kernel may accept), SO_BINDTODEVICE (by name,
 * EINVAL here), the receive buffer a large TCP SO_RCVLOWAT grows, and the side effects of an
 * option on the probe that follows (a mark or a priority changes no answer the scenarios print).
 */
final class SockOpt {
    static final int SETSOCKOPT = 49;
    static final int GETSOCKOPT = 57;

    static final int SOL_IP = 0;
    static final int SOL_SOCKET = 1;
    static final int SOL_TCP = 6;
    static final int SOL_IPV6 = 41;

    static final int SO_REUSEADDR = 2;
    static final int SO_KEEPALIVE = 9;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    static final int SO_PRIORITY = 12;
    static final int SO_REUSEPORT = 15;
    static final int SO_RCVLOWAT = 18;
    static final int SO_BINDTODEVICE = 25;
    static final int SO_MARK = 36;
    static final int SO_MAX_PACING_RATE = 47;
    static final int SO_BINDTOIFINDEX = 62;
    static final int SO_TXREHASH = 74;
    static final int IP_TOS = 1;
    static final int IPV6_TCLASS = 67;
    static final int IPV6_AUTOFLOWLABEL = 70;
    static final int TCP_NODELAY = 1;
    static final int TCP_MAXSEG = 2;
    static final int TCP_KEEPIDLE = 4;
    static final int TCP_KEEPINTVL = 5;
    static final int TCP_KEEPCNT = 6;
    static final int TCP_SYNCNT = 7;
    static final int TCP_WINDOW_CLAMP = 10;
    static final int TCP_USER_TIMEOUT = 18;
    static final int TCP_NOTSENT_LOWAT = 25;
    static final int TCP_THIN_LINEAR_TIMEOUTS = 16;
    static final int TCP_SAVE_SYN = 27;
    static final int TCP_CONGESTION = 13;
    /** The bpf-only TCP options (bpf_sol_tcp_setsockopt). */
    static final int TCP_BPF_IW = 1001;
    static final int TCP_BPF_SNDCWND_CLAMP = 1002;
    /** TCP_CA_NAME_MAX. */
    static final int CA_NAME_MAX = 16;

    /** SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF of this kernel (observed: 4608 and 2304). */
    static final int SOCK_MIN_SNDBUF = 4608;
    static final int SOCK_MIN_RCVBUF = 2304;
    /** TCP_MSS_DEFAULT, TCP_MIN_MSS, MAX_TCP_WINDOW, MAX_TCP_KEEPIDLE/INTVL, MAX_TCP_KEEPCNT, MAX_TCP_SYNCNT. */
    static final int TCP_MSS_DEFAULT = 536;
    static final int TCP_MIN_MSS = 88;
    static final int MAX_TCP_WINDOW = 32767;
    static final int MAX_TCP_KEEPIDLE = 32767;
    static final int MAX_TCP_KEEPINTVL = 32767;
    static final int MAX_TCP_KEEPCNT = 127;
    static final int MAX_TCP_SYNCNT = 127;
    /** INET_ECN_MASK: a stream socket keeps its ECN bits whatever IP_TOS or IPV6_TCLASS says. */
    static final int ECN_MASK = 3;

    private SockOpt() {
    }

    /** What the options of one socket are now; made at the first bpf_setsockopt/getsockopt on it. */
    static final class Options {
        boolean reuseAddr;
        boolean reusePort;
        boolean keepAlive;
        int sndBuf;
        int rcvBuf;
        int rcvLowat = 1;
        long maxPacingRate = 0xffffffffL;
        int txRehash;
        int tos;
        int tclass;
        boolean autoFlowLabel;
        boolean noDelay;
        int userMss;
        int keepIdle;
        int keepIntvl;
        int keepCnt;
        int synCnt;
        int windowClamp;
        int userTimeout;
        int notsentLowat;
        boolean thinLinear;
        int saveSyn;
        boolean rcvBufLocked;
        int sndCwnd;
        int sndCwndClamp;
        String congestion;

        Options(InetSock sk) {
            boolean tcp = sk.protocol() == InetSock.IPPROTO_TCP;
            sndBuf = tcp ? sysctlField("ipv4/tcp_wmem", 1, 16384) : sysctlField("core/wmem_default", 0, 212992);
            rcvBuf = tcp ? sysctlField("ipv4/tcp_rmem", 1, 131072) : sysctlField("core/rmem_default", 0, 212992);
            txRehash = sysctlField("core/txrehash", 0, 1);
            int labels = sysctlField("ipv6/auto_flowlabels", 0, 1);
            autoFlowLabel = labels == 1 || labels == 3;
            congestion = sysctlString("ipv4/tcp_congestion_control", "cubic");
        }
    }

    static long setsockopt(Machine m, long ctx, long level, long optname, long optval, long optlen) {
        InetSock sk = m.env(HookEnv.class).sock();
        if ((int) level == SOL_TCP && (int) optname == TCP_CONGESTION && sk.protocol() == InetSock.IPPROTO_TCP) {
            return setCongestion(opts(sk), m.readBytes(optval, (int) optlen));
        }
        if ((int) optlen != 4) {
            return -Errnos.EINVAL;
        }
        int val = (int) m.load(optval, 4);
        return set(sk, (int) level, (int) optname, val);
    }

    /** The bpf-only TCP_BPF_SYN, TCP_BPF_SYN_IP, TCP_BPF_SYN_MAC get options of sock_ops programs. */
    static final int TCP_BPF_SYN = 1005;
    static final int TCP_BPF_SYN_MAC = 1007;

    /**
     * bpf_sock_ops_setsockopt: is_locked_tcp_sock_ops holds for every callback the engine makes (ops
     * up to WRITE_HDR_OPT_CB; the unlocked ones, EOPNOTSUPP in the kernel, are never called), and
     * the socket of an active open is a full socket, so this is _bpf_setsockopt on it; answers
     * that depend on the connection's state read {@link InetSock#state}.
     */
    static long sockOpsSetsockopt(Machine m, long ctx, long level, long optname, long optval, long optlen) {
        return setsockopt(m, ctx, level, optname, optval, optlen);
    }

    /**
     * bpf_sock_ops_getsockopt: TCP_BPF_SYN* copy the SYN the socket saved; an active open saves
     * none (bpf_sock_ops_get_syn: -ENOENT), and optval is zeroed. Everything else is _bpf_getsockopt.
     */
    static long sockOpsGetsockopt(Machine m, long ctx, long level, long optname, long optval, long optlen) {
        if ((int) level == SOL_TCP && (int) optname >= TCP_BPF_SYN && (int) optname <= TCP_BPF_SYN_MAC) {
            for (int i = 0; i < (int) optlen; i++) {
                m.store(optval + i, 1, 0);
            }
            return -Errnos.ENOENT;
        }
        return getsockopt(m, ctx, level, optname, optval, optlen);
    }

    static long getsockopt(Machine m, long ctx, long level, long optname, long optval, long optlen) {
        InetSock sk = m.env(HookEnv.class).sock();
        int len = (int) optlen;
        long err;
        if ((int) level == SOL_TCP && (int) optname == TCP_CONGESTION && sk.protocol() == InetSock.IPPROTO_TCP) {
            // the name, NUL-padded, cut to optlen - 1 bytes and NUL-terminated (BPF wants a C string)
            byte[] name = opts(sk).congestion.getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < len; i++) {
                m.store(optval + i, 1, i < len - 1 && i < CA_NAME_MAX && i < name.length ? name[i] & 0xff : 0);
            }
            return 0;
        }
        if (len != 4) {
            err = -Errnos.EINVAL;
        } else {
            long[] out = new long[1];
            err = get(sk, (int) level, (int) optname, out);
            if (err == 0) {
                m.store(optval, 4, out[0]);
                return 0;
            }
        }
        for (int i = 0; i < len; i++) {
            m.store(optval + i, 1, 0);
        }
        return err;
    }

    /** The socket's congestion control: what TCP_CONGESTION set, else the host's default. */
    static String congestion(InetSock sk) {
        return sk.options != null ? sk.options.congestion : sysctlString("ipv4/tcp_congestion_control", "cubic");
    }

    private static Options opts(InetSock sk) {
        if (sk.options == null) {
            sk.options = new Options(sk);
        }
        return sk.options;
    }

    private static int set(InetSock sk, int level, int name, int val) {
        Options o = opts(sk);
        boolean tcp = sk.protocol() == InetSock.IPPROTO_TCP;
        switch (level) {
            case SOL_SOCKET -> {
                switch (name) {
                    case SO_REUSEADDR -> o.reuseAddr = val != 0;
                    case SO_REUSEPORT -> o.reusePort = val != 0;
                    case SO_KEEPALIVE -> o.keepAlive = val != 0;
                    case SO_PRIORITY -> sk.priority = val;
                    case SO_MARK -> sk.mark = val;
                    case SO_SNDBUF -> o.sndBuf = buf(val, sysctlField("core/wmem_max", 0, 212992), SOCK_MIN_SNDBUF);
                    case SO_RCVBUF -> {
                        o.rcvBuf = buf(val, sysctlField("core/rmem_max", 0, 212992), SOCK_MIN_RCVBUF);
                        o.rcvBufLocked = true;
                    }
                    case SO_RCVLOWAT -> {
                        int v = val < 0 ? Integer.MAX_VALUE : val;
                        if (tcp) {
                            // tcp_set_rcvlowat: at most half the receive buffer (locked) or of tcp_rmem's maximum
                            int cap = (o.rcvBufLocked ? o.rcvBuf : sysctlField("ipv4/tcp_rmem", 2, 6291456)) >> 1;
                            v = Math.min(v, cap);
                        }
                        o.rcvLowat = v == 0 ? 1 : v;
                    }
                    case SO_MAX_PACING_RATE -> o.maxPacingRate = Integer.toUnsignedLong(val);
                    case SO_BINDTOIFINDEX -> {
                        if (val < 0) {
                            return -Errnos.EINVAL;
                        }
                        sk.boundDevIf = val;
                    }
                    case SO_TXREHASH -> {
                        if (!tcp) {
                            return -Errnos.EOPNOTSUPP;
                        }
                        if (val < -1 || val > 1) {
                            return -Errnos.EINVAL;
                        }
                        o.txRehash = val == -1 ? sysctlField("core/txrehash", 0, 1) : val;
                    }
                    default -> {
                        return -Errnos.EINVAL;
                    }
                }
            }
            case SOL_IP -> {
                if (name != IP_TOS) {
                    return -Errnos.EINVAL;
                }
                int v = tcp ? (val & ~ECN_MASK) | (o.tos & ECN_MASK) : val;
                o.tos = v & 0xff;
            }
            case SOL_IPV6 -> {
                if (!sk.v6()) {
                    return -Errnos.EINVAL;
                }
                switch (name) {
                    case IPV6_TCLASS -> {
                        if (val < -1 || val > 0xff) {
                            return -Errnos.EINVAL;
                        }
                        int v = val == -1 ? 0 : val;
                        o.tclass = tcp ? (v & ~ECN_MASK) | (o.tclass & ECN_MASK) : v;
                    }
                    case IPV6_AUTOFLOWLABEL -> o.autoFlowLabel = val != 0;
                    default -> {
                        return -Errnos.EINVAL;
                    }
                }
            }
            case SOL_TCP -> {
                if (!tcp) {
                    return -Errnos.EINVAL;
                }
                return setTcp(sk, o, name, val);
            }
            default -> {
                return -Errnos.EINVAL;
            }
        }
        return 0;
    }

    private static int setTcp(InetSock sk, Options o, int name, int val) {
        switch (name) {
            case TCP_NODELAY -> o.noDelay = val != 0;
            case TCP_MAXSEG -> {
                if (val != 0 && (val < TCP_MIN_MSS || val > MAX_TCP_WINDOW)) {
                    return -Errnos.EINVAL;
                }
                o.userMss = val;
            }
            case TCP_KEEPIDLE -> {
                if (val < 1 || val > MAX_TCP_KEEPIDLE) {
                    return -Errnos.EINVAL;
                }
                o.keepIdle = val;
            }
            case TCP_KEEPINTVL -> {
                if (val < 1 || val > MAX_TCP_KEEPINTVL) {
                    return -Errnos.EINVAL;
                }
                o.keepIntvl = val;
            }
            case TCP_KEEPCNT -> {
                if (val < 1 || val > MAX_TCP_KEEPCNT) {
                    return -Errnos.EINVAL;
                }
                o.keepCnt = val;
            }
            case TCP_SYNCNT -> {
                if (val < 1 || val > MAX_TCP_SYNCNT) {
                    return -Errnos.EINVAL;
                }
                o.synCnt = val;
            }
            // tcp_set_window_clamp: a clamp of 0 only on a closed socket (sock_addr programs run on
            // one; sock_ops callbacks on one in SYN_SENT or ESTABLISHED)
            case TCP_WINDOW_CLAMP -> {
                if (val == 0 && sk.state != InetSock.TCP_CLOSE) {
                    return -Errnos.EINVAL;
                }
                o.windowClamp = val == 0 ? 0 : Math.max(val, SOCK_MIN_RCVBUF / 2);
            }
            case TCP_USER_TIMEOUT -> {
                if (val < 0) {
                    return -Errnos.EINVAL;
                }
                o.userTimeout = val;
            }
            case TCP_NOTSENT_LOWAT -> o.notsentLowat = val;
            case TCP_THIN_LINEAR_TIMEOUTS -> {
                if (val < 0 || val > 1) {
                    return -Errnos.EINVAL;
                }
                o.thinLinear = val != 0;
            }
            case TCP_SAVE_SYN -> {
                if (val < 0 || val > 2) {
                    return -Errnos.EINVAL;
                }
                o.saveSyn = val;
            }
            case TCP_BPF_IW -> {
                if (val <= 0) {
                    return -Errnos.EINVAL; // and once data went out, which before the connect it has not
                }
                o.sndCwnd = val;
            }
            case TCP_BPF_SNDCWND_CLAMP -> {
                if (val <= 0) {
                    return -Errnos.EINVAL;
                }
                o.sndCwndClamp = val;
            }
            default -> {
                return -Errnos.EINVAL;
            }
        }
        return 0;
    }

    private static int get(InetSock sk, int level, int name, long[] out) {
        Options o = opts(sk);
        boolean tcp = sk.protocol() == InetSock.IPPROTO_TCP;
        switch (level) {
            case SOL_SOCKET -> out[0] = switch (name) {
                case SO_REUSEADDR -> o.reuseAddr ? 1 : 0;
                case SO_REUSEPORT -> o.reusePort ? 1 : 0;
                case SO_KEEPALIVE -> o.keepAlive ? 1 : 0;
                case SO_PRIORITY -> sk.priority;
                case SO_MARK -> sk.mark;
                case SO_SNDBUF -> o.sndBuf;
                case SO_RCVBUF -> o.rcvBuf;
                case SO_RCVLOWAT -> o.rcvLowat;
                case SO_MAX_PACING_RATE -> o.maxPacingRate;
                case SO_BINDTOIFINDEX -> sk.boundDevIf;
                case SO_TXREHASH -> {
                    if (!tcp) {
                        yield -1L;
                    }
                    yield o.txRehash;
                }
                default -> -2L;
            };
            case SOL_IP -> out[0] = name == IP_TOS ? o.tos : -2L;
            case SOL_IPV6 -> out[0] = !sk.v6() ? -2L : switch (name) {
                case IPV6_TCLASS -> o.tclass;
                case IPV6_AUTOFLOWLABEL -> o.autoFlowLabel ? 1 : 0;
                default -> -2L;
            };
            case SOL_TCP -> out[0] = !tcp ? -2L : switch (name) {
                case TCP_NODELAY -> o.noDelay ? 1 : 0;
                // do_tcp_getsockopt: the user's value while closed or listening, else mss_cache
                case TCP_MAXSEG -> o.userMss != 0 && (sk.state == InetSock.TCP_CLOSE || sk.state == InetSock.TCP_LISTEN)
                        ? o.userMss : sk.tcp != null ? sk.tcp.mssCache : TCP_MSS_DEFAULT;
                case TCP_KEEPIDLE -> o.keepIdle != 0 ? o.keepIdle : sysctlField("ipv4/tcp_keepalive_time", 0, 7200);
                case TCP_KEEPINTVL -> o.keepIntvl != 0 ? o.keepIntvl : sysctlField("ipv4/tcp_keepalive_intvl", 0, 75);
                case TCP_KEEPCNT -> o.keepCnt != 0 ? o.keepCnt : sysctlField("ipv4/tcp_keepalive_probes", 0, 9);
                case TCP_SYNCNT -> o.synCnt != 0 ? o.synCnt : sysctlField("ipv4/tcp_syn_retries", 0, 6);
                case TCP_WINDOW_CLAMP -> o.windowClamp;
                case TCP_USER_TIMEOUT -> o.userTimeout;
                case TCP_NOTSENT_LOWAT -> o.notsentLowat;
                case TCP_THIN_LINEAR_TIMEOUTS -> o.thinLinear ? 1 : 0;
                case TCP_SAVE_SYN -> o.saveSyn;
                default -> -2L;
            };
            default -> out[0] = -2L;
        }
        if (out[0] == -2L) {
            return -Errnos.EINVAL;
        }
        if (out[0] == -1L && level == SOL_SOCKET && name == SO_TXREHASH) {
            return -Errnos.EOPNOTSUPP;
        }
        return 0;
    }

    /**
     * TCP_CONGESTION set: at most TCP_CA_NAME_MAX - 1 bytes of optval up to a NUL; "cdg" is
     * ENOTSUPP for BPF; a name that is not an available algorithm is ENOENT (nothing is loaded).
     */
    private static int setCongestion(Options o, byte[] optval) {
        int n = 0;
        while (n < optval.length && n < CA_NAME_MAX - 1 && optval[n] != 0) {
            n++;
        }
        String name = new String(optval, 0, n, StandardCharsets.US_ASCII);
        if (optval.length >= 3 && new String(optval, 0, Math.min(optval.length, 3), StandardCharsets.US_ASCII).equals("cdg")
                && (optval.length == 3 || optval[3] == 0)) {
            return -Errnos.ENOTSUPP;
        }
        for (String a : sysctlString("ipv4/tcp_available_congestion_control", "").split("\\s+")) {
            if (!a.isEmpty() && a.equals(name)) {
                o.congestion = name;
                return 0;
            }
        }
        return -Errnos.ENOENT;
    }

    /** sk_setsockopt's SO_SNDBUF / SO_RCVBUF: min_t(u32, val, max), then twice that, at least the minimum. */
    static int buf(int val, int max, int min) {
        long v = Math.min(Integer.toUnsignedLong(val), Integer.toUnsignedLong(max));
        v = Math.min(v, Integer.MAX_VALUE / 2);
        return (int) Math.max(v * 2, min);
    }

    /** /proc/sys/net/{@code name} as text, or {@code fallback} if unreadable. */
    static String sysctlString(String name, String fallback) {
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/net", name))) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            return fallback;
        }
    }

    /** Field {@code index} of /proc/sys/net/{@code name}, or {@code fallback} if unreadable. */
    static int sysctlField(String name, int index, int fallback) {
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/net", name))) {
            String[] f = new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip().split("\\s+");
            return (int) Long.parseLong(f[index]);
        } catch (IOException | RuntimeException e) {
            return fallback;
        }
    }
}
