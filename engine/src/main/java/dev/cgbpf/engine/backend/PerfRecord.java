package dev.cgbpf.engine.backend;

import java.util.Arrays;

/**
 * One record of a perf event's ring (struct perf_event_header, then the body): {@code type} (e.g.
 * PERF_RECORD_SAMPLE, 9), {@code misc}, and the body, header.size - 8 bytes. A sample of an event
 * with sample_type PERF_SAMPLE_RAW has as its body a u32 size and that many raw bytes: the data
 * bpf_perf_event_output gave, padded so that the size field and the data end on 8 bytes.
 */
public record PerfRecord(int type, int misc, byte[] body) {
    /** PERF_RECORD_SAMPLE */
    public static final int SAMPLE = 9;
    /** sizeof(struct perf_event_header) */
    public static final int HEADER = 8;

    public PerfRecord {
        body = body.clone();
    }

    @Override
    public byte[] body() {
        return body.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PerfRecord r && r.type == type && r.misc == misc && Arrays.equals(r.body, body);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * type + misc) + Arrays.hashCode(body);
    }

    @Override
    public String toString() {
        return "PerfRecord[type=" + type + ", misc=" + misc + ", " + body.length + " bytes]";
    }
}
