package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import java.util.Iterator;

/**
 * The op {@code run}: BPF_PROG_TEST_RUN. This version runs socket_filter programs, whose context
 * is the packet: {@code ctx} is {@code {"data":"<hex>"}} and the result is the return value.
 */
final class RunOp {
    private RunOp() {
    }

    static ObjectNode run(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        LoadedProg prog = s.prog(line.string("prog"));
        if (prog.type() != ProgType.SOCKET_FILTER) {
            throw new MalformedLineException("run of a " + prog.type().scenarioName()
                    + " program is not supported yet by this version (socket_filter only)");
        }
        byte[] data = packet(line.object("ctx"));
        TestRun.Result r = s.backend().testRun(prog, new TestRun.Request(data, line.optUint("repeat").orElse(0)));
        ObjectNode o = Results.ok(line.op());
        o.put("retval", r.retval());
        return o;
    }

    private static byte[] packet(JsonNode ctx) throws MalformedLineException {
        for (Iterator<String> it = ctx.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("data")) {
                throw new MalformedLineException("the ctx of a socket_filter run has no field '" + f + "' (only 'data')");
            }
        }
        JsonNode data = ctx.get("data");
        if (data == null || !data.isTextual()) {
            throw new MalformedLineException("the ctx of a socket_filter run needs 'data' (packet bytes as hex)");
        }
        return OpLine.hex("ctx.data", data.textValue());
    }
}
