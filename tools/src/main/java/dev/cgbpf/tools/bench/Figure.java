package dev.cgbpf.tools.bench;

import java.util.List;

/** Median, min and max of one figure of wall times, in ms. */
public record Figure(double medianMs, double minMs, double maxMs, int runs) {
    static Figure of(List<Long> nanos) {
        double[] ms = nanos.stream().mapToDouble(n -> n / 1e6).sorted().toArray();
        double median = ms.length % 2 == 1 ? ms[ms.length / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
        return new Figure(median, ms[0], ms[ms.length - 1], ms.length);
    }
}
