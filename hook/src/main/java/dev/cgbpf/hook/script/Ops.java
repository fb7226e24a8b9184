package dev.cgbpf.hook.script;

import static dev.cgbpf.hook.script.FieldKind.BIND_ADDR;
import static dev.cgbpf.hook.script.FieldKind.BOOL;
import static dev.cgbpf.hook.script.FieldKind.HEX;
import static dev.cgbpf.hook.script.FieldKind.LOOPBACK_ADDR;
import static dev.cgbpf.hook.script.FieldKind.NAME;
import static dev.cgbpf.hook.script.FieldKind.OBJECT;
import static dev.cgbpf.hook.script.FieldKind.PATH;
import static dev.cgbpf.hook.script.FieldKind.PORT;
import static dev.cgbpf.hook.script.FieldKind.STRING;
import static dev.cgbpf.hook.script.FieldKind.STRING_ARRAY;
import static dev.cgbpf.hook.script.FieldKind.UINT;
import static dev.cgbpf.hook.script.FieldSpec.opt;
import static dev.cgbpf.hook.script.FieldSpec.req;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The op table of the scenario format (docs/SCENARIOS.md), the one place that says which ops
 * exist, which fields they take, and which handler runs them.
 */
final class Ops {
    private Ops() {
    }

    private static final Map<String, OpSpec> TABLE = table(
            op("mkdir", CgroupOps::mkdir, req("path", PATH)),
            op("rmdir", CgroupOps::rmdir, req("path", PATH)),
            op("map", MapOps::map, req("name", NAME), req("type", STRING), req("key_size", UINT),
                    req("value_size", UINT), req("max_entries", UINT), opt("flags", UINT)),
            op("update", MapOps::update, req("map", NAME), req("key", HEX), opt("value", HEX), opt("prog", NAME),
                    opt("cgroup", PATH), opt("listener", LOOPBACK_ADDR), opt("port", PORT), opt("proto", STRING),
                    opt("perf_event", NAME), opt("flags", UINT)),
            op("lookup", MapOps::lookup, req("map", NAME), req("key", HEX)),
            op("delete", MapOps::delete, req("map", NAME), req("key", HEX)),
            op("pin", MapOps::pin, req("cpu", UINT)),
            op("freeze", MapOps::freeze, req("map", NAME)),
            op("load", LoadOp::run, req("name", NAME), req("type", STRING), opt("expected_attach", STRING),
                    opt("insns", STRING_ARRAY), opt("hex", HEX), opt("license", STRING)),
            op("attach", CgroupOps::attach, req("cgroup", PATH), req("prog", NAME), req("attach", STRING),
                    opt("flags", STRING_ARRAY), opt("replace", NAME)),
            op("detach", CgroupOps::detach, req("cgroup", PATH), req("attach", STRING), opt("prog", NAME)),
            op("query", CgroupOps::query, req("cgroup", PATH), req("attach", STRING), opt("effective", BOOL), opt("max", UINT)),
            op("storage", CgroupOps::storage, req("cgroup", PATH), req("attach", STRING), req("map", NAME)),
            op("device", DeviceOp::run, req("cgroup", PATH), req("dev", STRING), req("access", STRING)),
            op("socket", SocketOps::socket, req("cgroup", PATH), req("family", STRING), req("type", STRING), opt("protocol", UINT)),
            op("listen", SocketOps::listen, req("addr", LOOPBACK_ADDR), req("port", PORT), req("proto", STRING)),
            op("bind", SocketOps::bind, req("cgroup", PATH), req("family", STRING), req("proto", STRING),
                    req("addr", BIND_ADDR), req("port", PORT)),
            op("connect", SocketOps::connect, req("cgroup", PATH), req("family", STRING), req("proto", STRING),
                    req("addr", LOOPBACK_ADDR), req("port", PORT)),
            op("sendmsg", SocketOps::sendmsg, req("cgroup", PATH), req("family", STRING), req("addr", LOOPBACK_ADDR),
                    req("port", PORT), opt("src", LOOPBACK_ADDR)),
            op("run", RunOp::run, req("prog", NAME), req("ctx", OBJECT), opt("repeat", UINT)),
            op("perf_event", PerfOps::perfEvent, req("name", NAME), req("cpu", UINT)),
            op("perf_read", PerfOps::read, req("perf_events", STRING_ARRAY)));

    static Optional<OpSpec> lookup(String op) {
        return Optional.ofNullable(TABLE.get(op));
    }

    private static OpSpec op(String name, OpHandler handler, FieldSpec... fields) {
        return new OpSpec(name, Arrays.asList(fields), handler);
    }

    private static Map<String, OpSpec> table(OpSpec... specs) {
        Map<String, OpSpec> m = new LinkedHashMap<>();
        for (OpSpec s : specs) {
            m.put(s.name(), s);
        }
        return Map.copyOf(m);
    }
}
