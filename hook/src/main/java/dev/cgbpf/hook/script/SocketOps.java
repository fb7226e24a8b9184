package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Probe;
import java.net.InetAddress;
import java.util.Locale;

/**
 * The socket ops: {@code socket}, {@code listen}, {@code bind}, {@code connect} and
 * {@code sendmsg}. Addresses must be of the op's family as written (dotted for inet, a colon form
 * for inet6, where ::ffff:127.x.y.z is the dual-stack way to reach IPv4); answers print as
 * inet_ntop prints the socket's address, so an inet6 socket's IPv4 peer reads ::ffff:127.0.0.1.
 */
final class SocketOps {
    private SocketOps() {
    }

    static ObjectNode socket(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String cgroup = line.path("cgroup").relative();
        Probe.Family family = family(line.string("family"));
        Probe.SockType type = choice(Probe.SockType.class, "type", line.string("type"));
        int protocol = line.optUint("protocol").orElse(0);
        if (protocol > 255) {
            throw new MalformedLineException("protocol " + protocol + " is not an IP protocol number (0 to 255)");
        }
        Probe.SocketInfo info = s.backend().socket(cgroup, family, type, protocol);
        ObjectNode o = Results.ok(line.op());
        o.put("bound_dev_if", info.boundDevIf());
        o.put("mark", info.mark());
        o.put("priority", info.priority());
        return o;
    }

    static ObjectNode listen(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        LoopbackAddress addr = line.address("addr");
        int port = line.uint("port");
        if (port == 0) {
            // the kernel would pick a port, and the scenario could never name it
            throw new MalformedLineException("listen needs a fixed port (1 to 65535), not 0");
        }
        Probe.Proto proto = choice(Probe.Proto.class, "proto", line.string("proto"));
        s.backend().listen(addr.inetAddress(), port, proto);
        s.addListener(new Listener(addr, port, proto));
        return Results.ok(line.op());
    }

    static ObjectNode bind(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String cgroup = line.path("cgroup").relative();
        Probe.Family family = family(line.string("family"));
        Probe.Proto proto = choice(Probe.Proto.class, "proto", line.string("proto"));
        LoopbackAddress addr = ofFamily(line, "addr", family);
        Probe.Bound b = s.backend().bind(cgroup, family, proto, addr.inetAddress(), line.uint("port"));
        ObjectNode o = Results.ok(line.op());
        o.put("addr", text(b.addr(), family));
        o.put("port", b.port());
        return o;
    }

    static ObjectNode connect(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String cgroup = line.path("cgroup").relative();
        Probe.Family family = family(line.string("family"));
        Probe.Proto proto = choice(Probe.Proto.class, "proto", line.string("proto"));
        LoopbackAddress addr = ofFamily(line, "addr", family);
        Probe.Connected c = s.backend().connect(cgroup, family, proto, addr.inetAddress(), line.uint("port"));
        ObjectNode o = Results.ok(line.op());
        o.put("peer_addr", text(c.peerAddr(), family));
        o.put("peer_port", c.peerPort());
        o.put("local_addr", text(c.localAddr(), family));
        return o;
    }

    static ObjectNode sendmsg(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String cgroup = line.path("cgroup").relative();
        Probe.Family family = family(line.string("family"));
        LoopbackAddress addr = ofFamily(line, "addr", family);
        InetAddress src = line.has("src") ? ofFamily(line, "src", family).inetAddress() : null;
        Probe.Delivered d = s.backend().sendmsg(cgroup, family, addr.inetAddress(), line.uint("port"), src);
        // both addresses are as the receiving socket saw them: in the listener's family
        Probe.Family receiver = s.listener(d.peerAddr(), d.peerPort(), Probe.Proto.UDP)
                .map(l -> l.addr().family())
                .orElse(d.peerAddr().getAddress().length == 4 ? Probe.Family.INET : Probe.Family.INET6);
        ObjectNode o = Results.ok(line.op());
        o.put("peer_addr", text(d.peerAddr(), receiver));
        o.put("peer_port", d.peerPort());
        o.put("src_addr", text(d.srcAddr(), receiver));
        return o;
    }

    private static String text(InetAddress a, Probe.Family family) {
        return InetNtop.format(a, family == Probe.Family.INET6);
    }

    private static LoopbackAddress ofFamily(OpLine line, String field, Probe.Family family)
            throws MalformedLineException {
        LoopbackAddress a = line.address(field);
        if (a.family() != family) {
            throw new MalformedLineException(field + " " + a + " is not an address of family " + family.scenarioName()
                    + (family == Probe.Family.INET6 ? " (IPv4 through an inet6 socket is ::ffff:a.b.c.d)" : ""));
        }
        return a;
    }

    private static Probe.Family family(String name) throws MalformedLineException {
        return choice(Probe.Family.class, "family", name);
    }

    /** One of an enum's values by its lower-case name; the error lists them. */
    static <E extends Enum<E>> E choice(Class<E> kind, String field, String name)
            throws MalformedLineException {
        StringBuilder known = new StringBuilder();
        for (E e : kind.getEnumConstants()) {
            String n = e.name().toLowerCase(Locale.ROOT);
            if (n.equals(name)) {
                return e;
            }
            known.append(known.length() == 0 ? "" : ", ").append(n);
        }
        throw new MalformedLineException("unknown " + field + " '" + name + "' (" + known + ")");
    }
}
