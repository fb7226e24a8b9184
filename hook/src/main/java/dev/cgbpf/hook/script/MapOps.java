package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.Probe;
import java.util.HexFormat;

/** The ops {@code map}, {@code update}, {@code lookup}, {@code delete}, {@code freeze} and {@code pin}. */
final class MapOps {
    private MapOps() {
    }

    /** Update flag BPF_ANY (create or overwrite), unless the line gives {@code flags}. */
    private static final long BPF_ANY = 0;

    static ObjectNode map(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String name = line.string("name");
        s.checkNewMapName(name);
        MapType type;
        try {
            type = MapType.fromScenarioName(line.string("type"));
        } catch (IllegalArgumentException e) {
            throw new MalformedLineException(e.getMessage());
        }
        MapSpec spec = new MapSpec(name, type, line.uint("key_size"), line.uint("value_size"),
                line.uint("max_entries"), line.optUint("flags").orElse(0));
        BpfMap map = s.backend().createMap(spec);
        s.addMap(name, map);
        return Results.ok(line.op());
    }

    static ObjectNode update(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        BpfMap map = s.map(line.string("map"));
        byte[] key = sized(line, "key", map, map.spec().keySize());
        int given = (line.has("value") ? 1 : 0) + (line.has("prog") ? 1 : 0) + (line.has("cgroup") ? 1 : 0)
                + (line.has("listener") ? 1 : 0) + (line.has("perf_event") ? 1 : 0);
        if (given != 1) {
            throw new MalformedLineException("update needs exactly one of value, prog, cgroup, listener and perf_event");
        }
        if (line.has("listener")) {
            updateListener(line, s, map, key);
            return Results.ok(line.op());
        }
        if (line.has("port") || line.has("proto")) {
            throw new MalformedLineException("port and proto go with listener");
        }
        if (line.has("perf_event")) {
            // a perf event array's value is the event's fd
            s.backend().updatePerfEvent(map, key, s.perfEvent(line.string("perf_event")));
            return Results.ok(line.op());
        }
        if (line.has("prog")) {
            // a program array's value is the program's fd
            s.backend().updateProg(map, key, s.prog(line.string("prog")));
            return Results.ok(line.op());
        }
        if (line.has("cgroup")) {
            // a cgroup array's value is an fd of the cgroup's directory
            s.backend().updateCgroup(map, key, line.path("cgroup").relative());
            return Results.ok(line.op());
        }
        byte[] value = line.bytes("value");
        if (!map.spec().type().percpu()) {
            value = sized(line, "value", map, map.spec().valueSize());
        }
        s.backend().update(map, key, value, line.optUint("flags").map(Integer::toUnsignedLong).orElse(BPF_ANY));
        return Results.ok(line.op());
    }

    /**
     * Keeps the runner on CPU 0 for the rest of the scenario (the engine's only CPU): which key an
     * LRU hash evicts depends on the CPU of each update, a per-CPU value on the CPU of a test run,
     * and whether bpf_perf_event_output may write to an event of a given CPU on that CPU too.
     */
    static ObjectNode pin(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        if (line.uint("cpu") != 0) {
            throw new MalformedLineException("the engine runs on CPU 0 only: pin takes cpu 0");
        }
        s.pin(s.backend().pinThread(0));
        return Results.ok(line.op());
    }

    /**
     * A sockmap's or sockhash's value is a socket's fd: that of the helper endpoint the scenario
     * opened with {@code listen} at listener:port of proto (a TCP listener, a bound UDP socket).
     */
    private static void updateListener(OpLine line, Scenario s, BpfMap map, byte[] key)
            throws MalformedLineException, BpfException {
        if (!map.spec().type().holdsSockets()) {
            throw new MalformedLineException("listener is the value of a sockmap or sockhash, not of a "
                    + map.spec().type().scenarioName());
        }
        if (!line.has("port") || !line.has("proto")) {
            throw new MalformedLineException("listener needs its port and proto");
        }
        LoopbackAddress addr = line.address("listener");
        int port = line.uint("port");
        Probe.Proto proto = SocketOps.choice(Probe.Proto.class, "proto", line.string("proto"));
        if (s.listener(addr.inetAddress(), port, proto).isEmpty()) {
            throw new MalformedLineException("no listen of " + addr + " port " + port + " " + line.string("proto")
                    + " before this line");
        }
        s.backend().updateListener(map, key, addr.inetAddress(), port, proto);
    }

    static ObjectNode lookup(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        BpfMap map = s.map(line.string("map"));
        byte[] value = s.backend().lookup(map, sized(line, "key", map, map.spec().keySize()));
        ObjectNode o = Results.ok(line.op());
        o.put("value", HexFormat.of().formatHex(value));
        return o;
    }

    /** BPF_MAP_DELETE_ELEM. */
    static ObjectNode delete(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        BpfMap map = s.map(line.string("map"));
        s.backend().delete(map, sized(line, "key", map, map.spec().keySize()));
        return Results.ok(line.op());
    }

    /** BPF_MAP_FREEZE: the map's contents stay as they are for user space (and, with BPF_F_RDONLY_PROG, for programs). */
    static ObjectNode freeze(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        s.backend().freeze(s.map(line.string("map")));
        return Results.ok(line.op());
    }

    /**
     * bpf(2) takes no key or value length: the kernel reads exactly the map's size from the
     * pointer. A scenario giving another length is a mistake in the scenario, not an errno.
     */
    private static byte[] sized(OpLine line, String field, BpfMap map, int size) throws MalformedLineException {
        byte[] b = line.bytes(field);
        if (b.length != size) {
            throw new MalformedLineException(field + " is " + b.length + " bytes; map '" + line.string("map")
                    + "' has " + field + "_size " + size);
        }
        return b;
    }
}
