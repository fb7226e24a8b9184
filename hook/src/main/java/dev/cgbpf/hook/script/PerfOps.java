package dev.cgbpf.hook.script;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.PerfRecord;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The ops {@code perf_event} (perf_event_open(2) of a BPF_OUTPUT event on a CPU) and {@code
 * perf_read} (the records of events' rings). The perf scenarios also use {@code pin}, which keeps
 * the scenario's thread on CPU 0 so that the CPU a program runs on is part of the scenario: it is
 * in {@link MapOps}, which the LRU scenarios share.
 */
final class PerfOps {
    private PerfOps() {
    }

    /** PERF_RECORD_LOST: the event's id (which differs between runs, never printed), then the count lost. */
    private static final int LOST = 2;

    static ObjectNode perfEvent(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        String name = line.string("name");
        s.checkNewPerfEventName(name);
        s.addPerfEvent(name, s.backend().perfEventOpen(line.uint("cpu")));
        return Results.ok(line.op());
    }

    static ObjectNode read(OpLine line, Scenario s) throws MalformedLineException, BpfException {
        ObjectNode o = Results.ok(line.op());
        ArrayNode records = o.putArray("records");
        for (String name : line.strings("perf_events")) {
            for (PerfRecord r : s.perfEvent(name).read()) {
                record(records.addObject(), r);
            }
        }
        return o;
    }

    private static void record(ObjectNode o, PerfRecord r) {
        byte[] b = r.body();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (r.type() == PerfRecord.SAMPLE && b.length >= 4) {
            // PERF_SAMPLE_RAW: a u32 size, then the raw data with its padding
            int size = bb.getInt(0);
            o.put("type", "sample");
            o.put("misc", r.misc());
            o.put("size", size);
            o.put("raw", HexFormat.of().formatHex(Arrays.copyOfRange(b, 4, Math.min(b.length, 4 + size))));
        } else if (r.type() == LOST && b.length >= 16) {
            o.put("type", "lost");
            o.put("lost", bb.getLong(8));
        } else {
            o.put("type", r.type());
            o.put("misc", r.misc());
            o.put("data", HexFormat.of().formatHex(b));
        }
    }
}
