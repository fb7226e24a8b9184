package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.isa.Assembler;
import dev.cgbpf.engine.isa.Program;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Programs with bpf-to-bpf calls loaded through the engine Backend (its verifier included) and
 * through the kernel, then test-run on the same packets: both must load and give the same
 * return value for every packet.
 */
class CallsTestRunDifferentialTest {
    @BeforeAll
    static void kernel() {
        KernelRequired.check();
    }

    /** A cgroup_skb filter: the subprogram reads the packet through a pointer range it proves itself. */
    private static final String SKB_PORT_FILTER = """
            r6 = r1
            r2 = *(u32 *)(r6 +76)
            r3 = *(u32 *)(r6 +80)
            r1 = r2
            r2 = r3
            call l4_proto
            if r0 == 17 goto drop
            r1 = r6
            call len_ok
            exit
            drop:
            r0 = 0
            exit
            l4_proto:
            r0 = 0
            r4 = r1
            r4 += 20
            if r4 > r2 goto out
            r0 = *(u8 *)(r1 +9)
            out:
            exit
            len_ok:
            r0 = *(u32 *)(r1 +0)
            if r0 > 100 goto big
            r0 = 1
            exit
            big:
            r0 = 0
            exit
            """;

    /** A callee fills the caller's stack through a pointer; the caller sums what it finds. */
    private static final String STACK_THROUGH_POINTER = """
            r6 = 1
            r1 = r10
            r1 += -16
            r2 = 5
            call fill
            r0 = *(u64 *)(r10 -16)
            r1 = *(u64 *)(r10 -8)
            r0 += r1
            r0 += r6
            RETURN
            fill:
            r6 = 100
            *(u64 *)(r1 +0) = r2
            r2 += 3
            *(u64 *)(r1 +8) = r2
            r0 = 0
            exit
            """;

    /** Three frames deep, each with its own stack, the innermost reading the skb length via ctx. */
    private static final String NESTED = """
            r6 = 7
            *(u64 *)(r10 -8) = r6
            call a
            r1 = *(u64 *)(r10 -8)
            r0 += r1
            RETURN
            a:
            *(u64 *)(r10 -8) = 1000
            call b
            r1 = *(u64 *)(r10 -8)
            r0 += r1
            exit
            b:
            r0 = *(u32 *)(r1 +0)
            r0 &= 0xff
            exit
            """;

    /** RETURN ends the main program: as it is for a socket filter, as a verdict bit for cgroup_skb. */
    static Stream<Arguments> programs() {
        String filter = "exit";
        String skb = "r0 &= 1\nexit";
        return Stream.of(
                Arguments.of("skb_port_filter", ProgType.CGROUP_SKB, SKB_PORT_FILTER),
                Arguments.of("skb_stack_through_pointer", ProgType.CGROUP_SKB, STACK_THROUGH_POINTER.replace("RETURN", skb)),
                Arguments.of("skb_nested", ProgType.CGROUP_SKB, NESTED.replace("RETURN", skb)),
                Arguments.of("filter_nested", ProgType.SOCKET_FILTER, NESTED.replace("RETURN", filter)),
                Arguments.of("filter_stack_through_pointer", ProgType.SOCKET_FILTER,
                        STACK_THROUGH_POINTER.replace("RETURN", filter)));
    }

    /** IPv4 frames: UDP and TCP, short and long, and one too short for the IPv4 header. */
    private static List<byte[]> packets() {
        List<byte[]> out = new ArrayList<>();
        for (int proto : new int[] {17, 6}) {
            for (int size : new int[] {34, 60, 200}) {
                byte[] p = ProgTestRunTest.packet(size, 0x0800);
                p[14] = 0x45;
                p[14 + 9] = (byte) proto;
                out.add(p);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("programs")
    void engineAndKernelAgree(String name, ProgType type, String asm) throws BpfException {
        Program p = new Assembler().assemble(asm);
        LoadRequest req = new LoadRequest(name, type, null, p, "GPL", 0);
        try (Backend kernel = new KernelBackend(); Backend engine = new EngineBackend();
             LoadedProg k = kernel.load(req); LoadedProg e = engine.load(req)) {
            int i = 0;
            for (byte[] packet : packets()) {
                long want = kernel.testRun(k, new TestRun.Request(packet, 1)).retval();
                long got = engine.testRun(e, new TestRun.Request(packet, 1)).retval();
                assertEquals(want, got, name + " packet " + i + " (" + packet.length + " bytes)");
                i++;
            }
        }
    }
}
