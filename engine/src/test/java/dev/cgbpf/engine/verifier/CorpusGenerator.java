package dev.cgbpf.engine.verifier;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.isa.HelperIds;
import java.util.ArrayList;
import java.util.List;

/**
 * The generated part of the differential corpus: systematic sweeps the kernel answers case by
 * case. Context loads and stores at every offset and size of each program type (and of each
 * expected attach type that changes the rules), and a call of every helper id from each program
 * type with the arguments a context pointer in R1 gives.
 */
public final class CorpusGenerator {
    private CorpusGenerator() {
    }

    /** A program type with an expected attach type, and the size of its context plus some slack. */
    private record Ctx(ProgType type, AttachType attach, int span) {
    }

    private static final List<Ctx> CTXS = List.of(
            new Ctx(ProgType.SOCKET_FILTER, null, 196),
            new Ctx(ProgType.CGROUP_SKB, null, 196),
            new Ctx(ProgType.CGROUP_SKB, AttachType.CGROUP_INET_EGRESS, 196),
            new Ctx(ProgType.CGROUP_DEVICE, null, 16),
            new Ctx(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT, 76),
            new Ctx(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_CONNECT, 76),
            new Ctx(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP4_SENDMSG, 76),
            new Ctx(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_UDP6_SENDMSG, 76),
            new Ctx(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_BIND, 76),
            new Ctx(ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET6_BIND, 76),
            new Ctx(ProgType.CGROUP_SOCK, AttachType.CGROUP_INET_SOCK_CREATE, 84),
            new Ctx(ProgType.CGROUP_SOCK, AttachType.CGROUP_INET4_POST_BIND, 84),
            new Ctx(ProgType.CGROUP_SOCK, AttachType.CGROUP_INET6_POST_BIND, 84),
            new Ctx(ProgType.SOCK_OPS, null, 228));

    public static List<CorpusCase> all() {
        List<CorpusCase> out = new ArrayList<>();
        out.addAll(ctxSweep());
        out.addAll(sockSweep());
        out.addAll(helperSweep());
        return out;
    }

    /** Every (offset, size) load and store: the per-type context rules, field by field. */
    public static List<CorpusCase> ctxSweep() {
        List<CorpusCase> out = new ArrayList<>();
        String[] sizes = {"u8", "u16", "u32", "u64"};
        for (Ctx c : CTXS) {
            String tag = c.type.scenarioName() + (c.attach == null ? "" : "/" + c.attach.scenarioName());
            for (int s = 0; s < 4; s++) {
                int bytes = 1 << s;
                for (int off = 0; off < c.span; off += bytes) {
                    out.add(new CorpusCase("generated", "ctx-read " + tag + " off=" + off + " " + sizes[s], c.type,
                            c.attach, List.of("r2 = *(" + sizes[s] + " *)(r1 +" + off + ")", "r0 = 1", "exit")));
                    out.add(new CorpusCase("generated", "ctx-write " + tag + " off=" + off + " " + sizes[s], c.type,
                            c.attach, List.of("r2 = 0", "*(" + sizes[s] + " *)(r1 +" + off + ") = r2", "r0 = 1", "exit")));
                }
            }
        }
        return out;
    }

    /**
     * Loads through socket pointers at every offset and size: skb->sk (sock_common after the NULL
     * check), sock_addr's ctx->sk (sock) and sock_ops' ctx->sk (sock after the NULL check).
     */
    public static List<CorpusCase> sockSweep() {
        List<CorpusCase> out = new ArrayList<>();
        String[] sizes = {"u8", "u16", "u32", "u64"};
        record Src(String tag, ProgType type, AttachType attach, List<String> load) {
        }
        List<Src> srcs = List.of(
                new Src("skb->sk", ProgType.CGROUP_SKB, null,
                        List.of("r2 = *(u64 *)(r1 +168)", "if r2 == 0 goto out")),
                new Src("sock_addr->sk", ProgType.CGROUP_SOCK_ADDR, AttachType.CGROUP_INET4_CONNECT,
                        List.of("r2 = *(u64 *)(r1 +64)")),
                new Src("sock_ops->sk", ProgType.SOCK_OPS, null,
                        List.of("r2 = *(u64 *)(r1 +184)", "if r2 == 0 goto out")));
        for (Src src : srcs) {
            for (int s = 0; s < 4; s++) {
                int bytes = 1 << s;
                for (int off = 0; off < 88; off += bytes) {
                    List<String> body = new ArrayList<>(src.load());
                    body.add("r3 = *(" + sizes[s] + " *)(r2 +" + off + ")");
                    body.add("out: r0 = 1");
                    body.add("exit");
                    out.add(new CorpusCase("generated", "sock-read " + src.tag() + " off=" + off + " " + sizes[s],
                            src.type(), src.attach(), body));
                }
            }
        }
        return out;
    }

    /** Every helper id from every program type: allowed or "cannot use helper", and argument checks. */
    public static List<CorpusCase> helperSweep() {
        List<CorpusCase> out = new ArrayList<>();
        for (Ctx c : CTXS) {
            if (c.type == ProgType.CGROUP_SKB && c.attach != null) {
                continue;
            }
            String tag = c.type.scenarioName() + (c.attach == null ? "" : "/" + c.attach.scenarioName());
            for (int id = 1; id < HelperIds.maxId() + 2; id++) {
                out.add(new CorpusCase("generated", "helper " + tag + " #" + id, c.type, c.attach,
                        List.of("call " + HelperIds.name(id).orElse("unknown") + "#" + id, "r0 = 1", "exit")));
            }
        }
        return out;
    }
}
