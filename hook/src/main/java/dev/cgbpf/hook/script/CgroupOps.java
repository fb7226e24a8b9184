package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.AttachFlag;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.QueryResult;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The cgroup ops: {@code mkdir}, {@code rmdir}, {@code attach}, {@code detach}, {@code query} and
 * {@code storage}. The runner only checks what the scenario wrote (names it declared, flag and
 * attach-type spellings); every rule about what may be attached where is the backend's answer.
 */
final class CgroupOps {
    private CgroupOps() {
    }

    /** Id buffer size of a query without {@code max}: the backend makes it large enough. */
    private static final int LARGE_ENOUGH = -1;

    static ObjectNode mkdir(OpLine line, Scenario s) throws BpfException {
        s.backend().mkdir(line.path("path").relative());
        return Results.ok(line.op());
    }

    static ObjectNode rmdir(OpLine line, Scenario s) throws BpfException {
        s.backend().rmdir(line.path("path").relative());
        return Results.ok(line.op());
    }

    static ObjectNode attach(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String cgroup = line.path("cgroup").relative();
        LoadedProg prog = s.prog(line.string("prog"));
        AttachType type = attachType(line.string("attach"));
        Set<AttachFlag> flags = flags(line.has("flags") ? line.strings("flags") : List.of());
        // the kernel reads replace_bpf_fd only with BPF_F_REPLACE; the scenario may still name one
        LoadedProg replace = line.has("replace") ? s.prog(line.string("replace")) : null;
        s.backend().attach(cgroup, prog, type, flags, replace);
        return Results.ok(line.op());
    }

    static ObjectNode detach(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String cgroup = line.path("cgroup").relative();
        AttachType type = attachType(line.string("attach"));
        LoadedProg prog = line.has("prog") ? s.prog(line.string("prog")) : null;
        s.backend().detach(cgroup, type, prog);
        return Results.ok(line.op());
    }

    static ObjectNode query(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String cgroup = line.path("cgroup").relative();
        AttachType type = attachType(line.string("attach"));
        boolean effective = line.optBool("effective").orElse(false);
        int max = line.optUint("max").orElse(LARGE_ENOUGH);
        QueryResult q = s.backend().query(cgroup, type, effective, max);
        if (q.errno() != null) {
            // ENOSPC: the total count, and the ids that fit
            ObjectNode o = Results.errno(line.op(), q.errno());
            o.put("count", q.count());
            o.set("progs", names(o, q.progs()));
            return o;
        }
        ObjectNode o = Results.ok(line.op());
        ArrayNode fl = o.putArray("flags");
        for (AttachFlag f : AttachFlag.values()) {
            if (q.flags().contains(f)) {
                fl.add(f.scenarioName());
            }
        }
        o.set("progs", names(o, q.progs()));
        o.put("count", q.count());
        return o;
    }

    static ObjectNode storage(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String cgroup = line.path("cgroup").relative();
        AttachType type = attachType(line.string("attach"));
        BpfMap map = s.map(line.string("map"));
        byte[] value = s.backend().storage(cgroup, type, map);
        ObjectNode o = Results.ok(line.op());
        o.put("value", HexFormat.of().formatHex(value));
        return o;
    }

    private static ArrayNode names(ObjectNode factory, List<String> progs) {
        ArrayNode a = factory.arrayNode();
        progs.forEach(a::add);
        return a;
    }

    static AttachType attachType(String name) throws MalformedLineException {
        try {
            return AttachType.fromScenarioName(name);
        } catch (IllegalArgumentException e) {
            throw new MalformedLineException(e.getMessage());
        }
    }

    private static Set<AttachFlag> flags(List<String> names) throws MalformedLineException {
        Set<AttachFlag> flags = EnumSet.noneOf(AttachFlag.class);
        for (String n : names) {
            AttachFlag f;
            try {
                f = AttachFlag.fromScenarioName(n);
            } catch (IllegalArgumentException e) {
                throw new MalformedLineException(e.getMessage() + " (allow_override, allow_multi, replace)");
            }
            if (!flags.add(f)) {
                throw new MalformedLineException("attach flag '" + n + "' is given twice");
            }
        }
        return flags;
    }
}
