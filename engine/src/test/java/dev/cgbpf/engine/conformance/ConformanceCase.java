package dev.cgbpf.engine.conformance;

import java.util.ArrayList;
import java.util.List;

/**
 * One instruction-semantics case: a socket_filter program in the verifier-log syntax that leaves
 * its answer in r0, the expected 64-bit r0, and the packet it runs on.
 *
 * <p>The program is {@code body}, then the main exit (labelled {@code done}, so the body may jump
 * there), then {@code subprogs} (bpf-to-bpf functions, entered by label). Because the kernel's
 * BPF_PROG_TEST_RUN reports only the low 32 bits of r0, {@link #highHalfProgram()} is the same
 * program with {@code r0 >>= 32} before the main exit: run both to see all 64 bits. A legacy packet
 * load out of bounds ends either program with r0 = 0, which the halves agree on.
 *
 * @param name unique, says what is tested
 * @param body main program lines, without its exit
 * @param subprogs function lines after the main exit (may be empty)
 * @param expected r0 at the main exit, from the reference model or by hand, never from the engine
 * @param packet the whole Ethernet frame BPF_PROG_TEST_RUN gets
 */
public record ConformanceCase(String name, List<String> body, List<String> subprogs, long expected, byte[] packet) {

    public ConformanceCase {
        body = List.copyOf(body);
        subprogs = List.copyOf(subprogs);
        packet = packet.clone();
    }

    /** The program whose r0 is {@link #expected()}. */
    public List<String> program() {
        return assemble(List.of());
    }

    /** The program whose r0 is the upper half of {@link #expected()}. */
    public List<String> highHalfProgram() {
        return assemble(List.of("r0 >>= 32"));
    }

    private List<String> assemble(List<String> beforeExit) {
        List<String> out = new ArrayList<>(body);
        out.add("done:");
        out.addAll(beforeExit);
        out.add("exit");
        out.addAll(subprogs);
        return out;
    }

    /** Whether the program calls bpf-to-bpf functions (its subprograms follow the main program). */
    public boolean callsSubprograms() {
        return !subprogs.isEmpty();
    }

    /** What BPF_PROG_TEST_RUN reports as retval for {@link #program()}. */
    public long expectedLow() {
        return expected & 0xffffffffL;
    }

    /** What BPF_PROG_TEST_RUN reports as retval for {@link #highHalfProgram()}. */
    public long expectedHigh() {
        return expected >>> 32;
    }

    @Override
    public byte[] packet() {
        return packet.clone();
    }

    @Override
    public String toString() {
        return name;
    }
}
