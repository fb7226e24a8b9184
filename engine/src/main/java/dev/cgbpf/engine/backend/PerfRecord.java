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

    /** header.size of a struct perf_event_header (u16 at byte 6, little-endian): the whole record's size. */
    public static int recordSize(byte[] header) {
        return (header[6] & 0xff) | (header[7] & 0xff) << 8;
    }

    /** The record whose struct perf_event_header (u32 type, u16 misc, u16 size, little-endian) is {@code header}. */
    public static PerfRecord of(byte[] header, byte[] body) {
        int type = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16 | (header[3] & 0xff) << 24;
        int misc = (header[4] & 0xff) | (header[5] & 0xff) << 8;
        return new PerfRecord(type, misc, body);
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
