package dev.cgbpf.tools.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Random scenarios (docs/SCENARIOS.md) of socket operations against random cgroup_sock_addr and
 * cgroup_sock programs, for {@link SocketFuzz}. Everything stays on loopback, and the choices keep
 * each answer deterministic on the kernel: datagrams go only where a UDP listener waits (a datagram
 * nobody receives costs the kernel's probe 2 s), bpf_bind binds to port 0 (a fixed port would sit in
 * TIME_WAIT after a TCP connect and change the next run's answers), and every port is one of the
 * scenario's own, outside the ephemeral range.
 */
final class SocketScenarioGenerator {
    /** The fuzzer's ports: above the example scenarios' (61300-61999), below 65500. */
    static final int FIRST_PORT = 62000;
    static final int PORT_SPAN = 3400;
    static final int PORTS_PER_SCENARIO = 4;

    /** Bind addresses: the format allows the wildcard there only. */
    private static final String[] BIND_V4 = {"127.0.0.1", "127.0.0.2", "0.0.0.0", "127.255.255.255"};
    private static final String[] BIND_V6 = {"::1", "::", "::ffff:127.0.0.1", "::ffff:127.0.0.2"};
    private static final String[] V4 = {"127.0.0.1", "127.0.0.2", "127.255.255.255"};
    private static final String[] V6 = {"::1", "::ffff:127.0.0.1", "::ffff:127.0.0.2", "::ffff:127.255.255.255"};
    /** Where a datagram may go: a listener answers on each of these (or the send fails at once). */
    private static final String[] SEND_V4 = {"127.0.0.1", "127.255.255.255"};
    private static final String[] SEND_V6 = {"::1", "::ffff:127.0.0.1"};
    private static final String[] ATTACH = {"cgroup_inet4_bind", "cgroup_inet6_bind", "cgroup_inet4_connect",
        "cgroup_inet6_connect", "cgroup_udp4_sendmsg", "cgroup_udp6_sendmsg"};
    /** user_ip4 values (network order read as a little-endian u32, as a signed imm). */
    private static final int[] IP4 = {0x0100007f, 0x0200007f, 0x0300007f, 0xffffff7f};
    private static final int[] SEND_IP4 = {0x0100007f, 0xffffff7f};

    private final SplittableRandom rnd;
    private int label;

    SocketScenarioGenerator(SplittableRandom rnd) {
        this.rnd = rnd;
    }

    /** One scenario: listeners, 1 to 4 programs attached to c, then {@code ops} socket operations. */
    List<String> scenario(int index, long seed, int ops) {
        int base = FIRST_PORT + (int) Math.floorMod(seed * 131 + (long) index * PORTS_PER_SCENARIO, (long) PORT_SPAN);
        int[] ports = new int[PORTS_PER_SCENARIO];
        for (int i = 0; i < ports.length; i++) {
            ports[i] = base + i;
        }
        List<String> out = new ArrayList<>();
        out.add("{\"op\":\"mkdir\",\"path\":\"c\"}");
        out.add("{\"op\":\"mkdir\",\"path\":\"c/d\"}");
        for (int p : ports) {
            out.add(listen("127.0.0.1", p, "udp"));
            out.add(listen("::1", p, "udp"));
        }
        out.add(listen("127.0.0.1", ports[0], "tcp"));
        out.add(listen("::1", ports[1], "tcp"));
        out.add(listen("127.0.0.2", ports[2], "tcp"));
        int programs = 1 + rnd.nextInt(4);
        for (int i = 0; i < programs; i++) {
            String name = "p" + i;
            if (rnd.nextInt(5) == 0) {
                out.add(load(name, "cgroup_sock", "cgroup_inet_sock_create", sockCreate()));
                out.add(attach(rnd.nextBoolean() ? "c" : "c/d", name, "cgroup_inet_sock_create"));
            } else {
                String at = ATTACH[rnd.nextInt(ATTACH.length)];
                out.add(load(name, "cgroup_sock_addr", at, sockAddr(at, ports)));
                out.add(attach(rnd.nextBoolean() ? "c" : "c/d", name, at));
            }
        }
        for (int i = 0; i < ops; i++) {
            out.add(op(ports));
        }
        return out;
    }

    private static String listen(String addr, int port, String proto) {
        return "{\"op\":\"listen\",\"addr\":\"" + addr + "\",\"port\":" + port + ",\"proto\":\"" + proto + "\"}";
    }

    private static String load(String name, String type, String attach, List<String> insns) {
        StringBuilder b = new StringBuilder("{\"op\":\"load\",\"name\":\"" + name + "\",\"type\":\"" + type
                + "\",\"expected_attach\":\"" + attach + "\",\"insns\":[");
        for (int i = 0; i < insns.size(); i++) {
            b.append(i == 0 ? "" : ",").append('"').append(insns.get(i)).append('"');
        }
        return b.append("]}").toString();
    }

    private String attach(String cgroup, String prog, String at) {
        return "{\"op\":\"attach\",\"cgroup\":\"" + cgroup + "\",\"prog\":\"" + prog + "\",\"attach\":\"" + at
                + "\",\"flags\":[\"allow_multi\"]}";
    }

    private String op(int[] ports) {
        String cgroup = switch (rnd.nextInt(4)) {
            case 0 -> "";
            case 1 -> "c/d";
            default -> "c";
        };
        boolean v6 = rnd.nextBoolean();
        String family = v6 ? "inet6" : "inet";
        String proto = rnd.nextBoolean() ? "tcp" : "udp";
        int port = rnd.nextInt(6) == 0 ? 0 : ports[rnd.nextInt(ports.length)];
        String head = "\"cgroup\":\"" + cgroup + "\",\"family\":\"" + family + "\"";
        return switch (rnd.nextInt(4)) {
            case 0 -> "{\"op\":\"socket\"," + head + ",\"type\":\"" + (rnd.nextBoolean() ? "stream" : "dgram") + "\"}";
            case 1 -> "{\"op\":\"bind\"," + head + ",\"proto\":\"" + proto + "\",\"addr\":\""
                    + pick(v6 ? BIND_V6 : BIND_V4) + "\",\"port\":" + port + "}";
            case 2 -> "{\"op\":\"connect\"," + head + ",\"proto\":\"" + proto + "\",\"addr\":\""
                    + pick(v6 ? V6 : V4) + "\",\"port\":" + port + "}";
            default -> {
                String src = !v6 && rnd.nextInt(3) == 0 ? ",\"src\":\"" + (rnd.nextBoolean() ? "127.0.0.1" : "127.0.0.2")
                        + "\"" : "";
                yield "{\"op\":\"sendmsg\"," + head + ",\"addr\":\"" + pick(v6 ? SEND_V6 : SEND_V4) + "\",\"port\":"
                        + ports[rnd.nextInt(ports.length)] + src + "}";
            }
        };
    }

    private String pick(String[] a) {
        return a[rnd.nextInt(a.length)];
    }

    /** A sock_create program: refuse by type or protocol, set bound_dev_if, mark or priority, or allow. */
    private List<String> sockCreate() {
        List<String> p = new ArrayList<>();
        p.add("r6 = r1");
        int actions = 1 + rnd.nextInt(3);
        for (int i = 0; i < actions; i++) {
            switch (rnd.nextInt(4)) {
                case 0 -> {
                    String l = next();
                    p.add("r2 = *(u32 *)(r6 +" + (rnd.nextBoolean() ? 8 : 12) + ")");
                    p.add("if r2 != " + (rnd.nextBoolean() ? "0x2" : "0x11") + " goto " + l);
                    p.add("r0 = 0");
                    p.add("exit");
                    p.add(l + ":");
                }
                case 1 -> {
                    p.add("r2 = " + new int[] {0, 1, 99999}[rnd.nextInt(3)]);
                    p.add("*(u32 *)(r6 +0) = r2");
                }
                case 2 -> p.add("*(u32 *)(r6 +16) = " + rnd.nextInt(1000));
                default -> p.add("*(u32 *)(r6 +20) = " + rnd.nextInt(7));
            }
        }
        p.add("r0 = 1");
        p.add("exit");
        return p;
    }

    /** A sock_addr program for {@code at}: reads, rewrites, bpf_bind (connect), a verdict. */
    private List<String> sockAddr(String at, int[] ports) {
        boolean v6 = at.contains("6");
        boolean send = at.contains("sendmsg");
        boolean connect = at.contains("connect");
        boolean bind = at.contains("bind");
        List<String> p = new ArrayList<>();
        p.add("r6 = r1");
        int actions = 1 + rnd.nextInt(4);
        for (int i = 0; i < actions; i++) {
            switch (rnd.nextInt(connect ? 9 : 8)) {
                case 0 -> { // a decision on the port, read at a random width and offset
                    String l = next();
                    int port = ports[rnd.nextInt(ports.length)];
                    int be = ((port & 0xff) << 8) | (port >>> 8);
                    switch (rnd.nextInt(3)) {
                        case 0 -> p.add("r2 = *(u32 *)(r6 +24)");
                        case 1 -> p.add("r2 = *(u16 *)(r6 +" + (rnd.nextBoolean() ? 24 : 26) + ")");
                        default -> {
                            p.add("r2 = *(u8 *)(r6 +" + (24 + rnd.nextInt(4)) + ")");
                            be &= 0xff;
                        }
                    }
                    p.add("if r2 != " + be + " goto " + l);
                    p.add(rnd.nextBoolean() ? "r0 = 0" : "r0 = 1");
                    p.add("exit");
                    p.add(l + ":");
                }
                case 1 -> { // rewrite the port
                    int port = ports[rnd.nextInt(ports.length)];
                    p.add("*(u32 *)(r6 +24) = " + (((port & 0xff) << 8) | (port >>> 8)));
                }
                case 2 -> { // rewrite the address
                    if (v6) {
                        boolean mapped = !send && rnd.nextInt(3) == 0;
                        p.add("*(u32 *)(r6 +8) = 0");
                        p.add("*(u32 *)(r6 +12) = 0");
                        p.add("*(u32 *)(r6 +16) = " + (mapped ? -65536 : 0));
                        p.add("*(u32 *)(r6 +20) = " + (mapped ? 0x0100007f : 0x01000000));
                    } else {
                        int[] pool = send ? SEND_IP4 : IP4;
                        p.add("*(u32 *)(r6 +4) = " + pool[rnd.nextInt(pool.length)]);
                    }
                }
                case 3 -> { // a decision on family, type or protocol
                    String l = next();
                    int off = new int[] {0, 28, 32, 36}[rnd.nextInt(4)];
                    p.add("r2 = *(u32 *)(r6 +" + off + ")");
                    p.add("if r2 != " + new int[] {1, 2, 6, 10, 17}[rnd.nextInt(5)] + " goto " + l);
                    p.add("r0 = 0");
                    p.add("exit");
                    p.add(l + ":");
                }
                case 4 -> { // the source of a datagram
                    if (send) {
                        if (v6) {
                            p.add("*(u32 *)(r6 +44) = 0");
                            p.add("*(u32 *)(r6 +48) = 0");
                            p.add("*(u32 *)(r6 +52) = 0");
                            p.add("*(u32 *)(r6 +56) = 16777216");
                        } else {
                            p.add("*(u32 *)(r6 +40) = " + (rnd.nextBoolean() ? 0x0100007f : 0x0200007f));
                        }
                    }
                }
                case 5 -> { // the socket behind the context: state, src port, src address
                    String l = next();
                    p.add("r7 = *(u64 *)(r6 +64)");
                    p.add("r2 = *(u32 *)(r7 +" + new int[] {72, 44, 24, 4, 8}[rnd.nextInt(5)] + ")");
                    p.add("if r2 == 0x" + Integer.toHexString(rnd.nextInt(3)) + " goto " + l);
                    p.add("r0 = 1");
                    p.add("exit");
                    p.add(l + ":");
                }
                case 6 -> p.addAll(sockopt());
                case 7 -> p.addAll(skLookup(ports));
                default -> p.addAll(bpfBind(v6));
            }
        }
        int verdict = rnd.nextInt(8) == 0 ? 0 : 1;
        if (bind && rnd.nextInt(6) == 0) {
            verdict = 2 + rnd.nextInt(2);
        }
        p.add("r0 = " + verdict);
        p.add("exit");
        return p;
    }

    /** SOL_SOCKET, SOL_IP, SOL_IPV6 and SOL_TCP options, some the kernel refuses; the answer decides the verdict. */
    private static final int[][] OPTS = {{1, 36}, {1, 12}, {1, 2}, {1, 9}, {1, 7}, {1, 8}, {1, 18}, {1, 62}, {1, 74},
        {1, 3}, {0, 1}, {0, 2}, {41, 67}, {41, 70}, {6, 1}, {6, 2}, {6, 4}, {6, 6}, {6, 7}, {6, 10}, {6, 13}, {6, 3}};
    private static final int[] OPT_VALUES = {0, 1, 2, 5, 100, 1000, 5000, -1, 99999, 0x1f};

    /** bpf_setsockopt or bpf_getsockopt of a random option; a non-zero return or a got value decides. */
    private List<String> sockopt() {
        List<String> p = new ArrayList<>();
        int[] o = OPTS[rnd.nextInt(OPTS.length)];
        boolean set = rnd.nextBoolean();
        String l = next();
        p.add("r1 = " + OPT_VALUES[rnd.nextInt(OPT_VALUES.length)]);
        p.add("*(u64 *)(r10 -48) = r1");
        p.add("r1 = r6");
        p.add("r2 = " + o[0]);
        p.add("r3 = " + o[1]);
        p.add("r4 = r10");
        p.add("r4 += -48");
        p.add("r5 = " + (rnd.nextInt(8) == 0 ? 8 : 4));
        p.add(set ? "call bpf_setsockopt#49" : "call bpf_getsockopt#57");
        if (!set && rnd.nextBoolean()) {
            p.add("r0 = *(u32 *)(r10 -48)");
            p.add("if r0 != " + OPT_VALUES[rnd.nextInt(OPT_VALUES.length)] + " goto " + l);
        } else {
            p.add("if r0 == " + (rnd.nextBoolean() ? "0x0" : "-22") + " goto " + l);
        }
        p.add("r0 = " + (rnd.nextBoolean() ? 0 : 1));
        p.add("exit");
        p.add(l + ":");
        return p;
    }

    /** bpf_sk_lookup_tcp/udp of a scenario port on 127.0.0.1 or ::1; found or not decides. */
    private List<String> skLookup(int[] ports) {
        List<String> p = new ArrayList<>();
        int port = ports[rnd.nextInt(ports.length)];
        int be = ((port & 0xff) << 8) | (port >>> 8);
        boolean v6 = rnd.nextBoolean();
        String l = next();
        for (int off = -48; off < -8; off += 4) {
            p.add("*(u32 *)(r10 " + off + ") = 0");
        }
        if (v6) {
            p.add("*(u32 *)(r10 -36) = 16777216");
            p.add("*(u32 *)(r10 -20) = 16777216");
            p.add("*(u16 *)(r10 -14) = " + be);
        } else {
            p.add("*(u32 *)(r10 -48) = 16777343");
            p.add("*(u32 *)(r10 -44) = 16777343");
            p.add("*(u16 *)(r10 -38) = " + be);
        }
        p.add("r1 = r6");
        p.add("r2 = r10");
        p.add("r2 += -48");
        p.add("r3 = " + (v6 ? 36 : 12));
        p.add("r4 = -1");
        p.add("r5 = 0");
        p.add(rnd.nextBoolean() ? "call bpf_sk_lookup_tcp#84" : "call bpf_sk_lookup_udp#85");
        p.add("if r0 == 0x0 goto " + l);
        p.add("r1 = r0");
        p.add("call bpf_sk_release#86");
        p.add("r0 = " + (rnd.nextInt(3) == 0 ? 0 : 1));
        p.add("exit");
        p.add(l + ":");
        return p;
    }

    /** bpf_bind to a loopback address (or a v4-mapped or any one) with port 0; r0 kept in r8. */
    private List<String> bpfBind(boolean v6) {
        List<String> p = new ArrayList<>();
        if (v6) {
            int kind = rnd.nextInt(3);
            p.add("*(u16 *)(r10 -28) = 10");
            p.add("*(u16 *)(r10 -26) = 0");
            p.add("*(u32 *)(r10 -24) = 0");
            p.add("*(u32 *)(r10 -20) = 0");
            p.add("*(u32 *)(r10 -16) = 0");
            p.add("*(u32 *)(r10 -12) = " + (kind == 1 ? -65536 : 0));
            p.add("*(u32 *)(r10 -8) = " + (kind == 0 ? 0x01000000 : kind == 1 ? 0x0100007f : 0));
            p.add("*(u32 *)(r10 -4) = 0");
            p.add("r2 = r10");
            p.add("r2 += -28");
            p.add("r3 = " + (rnd.nextInt(6) == 0 ? 16 : 28));
        } else {
            p.add("*(u16 *)(r10 -16) = 2");
            p.add("*(u16 *)(r10 -14) = 0");
            p.add("*(u32 *)(r10 -12) = " + IP4[rnd.nextInt(IP4.length)]);
            p.add("*(u64 *)(r10 -8) = 0");
            p.add("r2 = r10");
            p.add("r2 += -16");
            p.add("r3 = " + (rnd.nextInt(6) == 0 ? 8 : 16));
        }
        p.add("r1 = r6");
        p.add("call bpf_bind#64");
        p.add("r8 = r0");
        return p;
    }

    private String next() {
        return "l" + (label++);
    }
}
