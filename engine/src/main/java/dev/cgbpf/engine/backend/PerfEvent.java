package dev.cgbpf.engine.backend;

import java.util.List;

/**
 * A perf event of a backend, as perf_event_open(2) gives one for bpf_perf_event_output: type
 * PERF_TYPE_SOFTWARE, config PERF_COUNT_SW_BPF_OUTPUT, sample_type PERF_SAMPLE_RAW, counting on
 * one CPU for every task (pid -1), with a ring of {@link #DATA_PAGES} pages of records that
 * {@link #read} empties. A perf event array's update takes its fd
 * ({@link Backend#updatePerfEvent}); the array's slot keeps the event after this handle is closed.
 */
public interface PerfEvent extends AutoCloseable {
    /** The ring's data pages (a power of two, as mmap of a perf event wants it), after its metadata page. */
    int DATA_PAGES = 2;

    /** The CPU the event counts on. */
    int cpu();

    /** The records written since the last read, oldest first, consumed (the ring's data_tail moves past them). */
    List<PerfRecord> read() throws BpfException;

    /** Closes the handle's fd and ring. */
    @Override
    void close();
}
