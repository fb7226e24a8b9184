package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import java.util.Iterator;

/**
 * The op {@code run}: BPF_PROG_TEST_RUN. For the packet program types (socket_filter, cgroup_skb)
 * {@code ctx} is {@code {"data":"<hex>"}}, the packet; the result is the return value. The other
 * types have no context a scenario could give: their {@code ctx} is {@code {}} and the backend
 * answers as the kernel does (which has no test run for them: ENOTSUPP).
 */
final class RunOp {
    private RunOp() {
    }

    static ObjectNode run(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        LoadedProg prog = s.prog(line.string("prog"));
        JsonNode ctx = line.object("ctx");
        byte[] data = takesPacket(prog.type()) ? packet(prog.type(), ctx) : noContext(prog.type(), ctx);
        TestRun.Result r = s.backend().testRun(prog, new TestRun.Request(data, line.optUint("repeat").orElse(0)));
        ObjectNode o = Results.ok(line.op());
        o.put("retval", r.retval());
        return o;
    }

    private static boolean takesPacket(ProgType type) {
        return type == ProgType.SOCKET_FILTER || type == ProgType.CGROUP_SKB;
    }

    private static byte[] packet(ProgType type, JsonNode ctx) throws MalformedLineException {
        String kind = type.scenarioName();
        for (Iterator<String> it = ctx.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("data")) {
                throw new MalformedLineException("the ctx of a " + kind + " run has no field '" + f + "' (only 'data')");
            }
        }
        JsonNode data = ctx.get("data");
        if (data == null || !data.isTextual()) {
            throw new MalformedLineException("the ctx of a " + kind + " run needs 'data' (packet bytes as hex)");
        }
        return OpLine.hex("ctx.data", data.textValue());
    }

    private static byte[] noContext(ProgType type, JsonNode ctx) throws MalformedLineException {
        if (!ctx.isEmpty()) {
            throw new MalformedLineException("the ctx of a " + type.scenarioName()
                    + " run must be {} (BPF_PROG_TEST_RUN takes no context for it)");
        }
        return new byte[0];
    }
}
