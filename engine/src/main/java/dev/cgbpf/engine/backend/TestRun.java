package dev.cgbpf.engine.backend;

/** BPF_PROG_TEST_RUN: a packet in, the program's return value and the packet out. */
public final class TestRun {
    private TestRun() {
    }

    /** @param repeat how many times to run (0 and 1 both mean once, as in the kernel) */
    public record Request(byte[] dataIn, int repeat) {
    }

    /** @param durationNs mean nanoseconds per run as the backend measured it */
    public record Result(long retval, byte[] dataOut, long durationNs) {
    }
}
