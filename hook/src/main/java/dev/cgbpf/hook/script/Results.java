package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.BpfException;

/**
 * Result objects in the format's key order: {@code op} first, then {@code ok:true} and the op's
 * fields, or {@code errno} (and what the op adds to it, e.g. a load's {@code log}).
 */
final class Results {
    private Results() {
    }

    static ObjectNode ok(String op) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("op", op);
        o.put("ok", true);
        return o;
    }

    static ObjectNode errno(String op, BpfException e) {
        return errno(op, e.errno());
    }

    static ObjectNode errno(String op, String errno) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("op", op);
        o.put("errno", errno);
        return o;
    }

    static ObjectNode lineError(int line, String reason) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("line", line);
        // the format promises a one-line reason
        o.put("error", reason.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip());
        return o;
    }
}
