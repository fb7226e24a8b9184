package dev.cgbpf.engine.interp;

import dev.cgbpf.engine.conformance.ConformanceTable;
import dev.cgbpf.engine.isa.Assembler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The base helpers the engine added for issue 4, run on the interpreter: bpf_strtol/strtoul,
 * bpf_trace_printk, the clocks and the CPU. The answers are the running kernel's (the same
 * programs are compared with 6.18 in native's HelperDifferentialTest).
 */
class HelperSemanticsTest {
    private static long run(HelperTable table, List<String> lines) {
        Machine m = new Machine(new AddressSpace(), table, new SkBuffContext(ConformanceTable.DEFAULT_PACKET));
        return Interpreter.decode(new Assembler().assemble(lines), PseudoResolver.NONE).run(m, 100_000);
    }

    /** {@code s} and its NUL at fp-64.. */
    private static List<String> stackString(String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        List<String> l = new ArrayList<>();
        for (int i = 0; i <= b.length; i++) {
            l.add("*(u8 *)(r10 -" + (64 - i) + ") = " + (i < b.length ? b[i] & 0xff : 0));
        }
        return l;
    }

    /** {answer, *res} of a strtol/strtoul call; *res is pre-set to 7 to show that errors zero it. */
    private static long[] strtox(String helper, String s, int len, long flags) {
        long[] out = new long[2];
        for (int k = 0; k < 2; k++) {
            List<String> l = stackString(s);
            l.addAll(List.of("r1 = 7", "*(u64 *)(r10 -72) = r1", "r1 = r10", "r1 += -64", "r2 = " + len,
                    "r3 = " + flags + " ll", "r4 = r10", "r4 += -72", "call " + helper,
                    k == 0 ? "r0 += 0" : "r0 = *(u64 *)(r10 -72)", "exit"));
            out[k] = run(BaseHelpers.TABLE, l);
        }
        return out;
    }

    @ParameterizedTest(name = "strtol \"{0}\" len {1} flags {2}: {3}, {4}")
    @CsvSource(delimiter = '|', value = {
        "'  -123x'|7|10|6|-123",
        "0x1f|4|0|4|31",
        "0x1f|4|16|4|31",
        "0x1f|4|8|1|0",
        "0xg|3|0|1|0",
        "0xg|3|16|-22|0",
        "017|3|0|3|15",
        "abc|3|10|-22|0",
        "12|2|3|-22|0",
        "12|2|42|-22|0",
        "'   '|3|10|-22|0",
        "123|2|10|2|12",
        "9223372036854775807|19|10|19|9223372036854775807",
        "9223372036854775808|19|10|-34|0",
        "-9223372036854775808|20|10|20|-9223372036854775808"})
    void strtolParsesAsTheKernel(String s, int len, long flags, long answer, long res) {
        long[] r = strtox("bpf_strtol#105", s, len, flags);
        assertEquals(answer, r[0]);
        assertEquals(res, r[1]);
    }

    @Test
    void strtoulRefusesASignAndKeepsAllSixtyFourBits() {
        assertEquals(-22, strtox("bpf_strtoul#106", "-1", 2, 10)[0]);
        long[] max = strtox("bpf_strtoul#106", "18446744073709551615", 20, 10);
        assertEquals(20, max[0]);
        assertEquals(-1L, max[1]);
        assertEquals(-34, strtox("bpf_strtoul#106", "18446744073709551616", 20, 10)[0]);
        // flags above the base bits are -EINVAL
        assertEquals(-22, strtox("bpf_strtoul#106", "1", 1, 1L << 40 | 10)[0]);
    }

    private static long printk(String fmt, String... args) {
        List<String> l = stackString(fmt);
        l.addAll(List.of("*(u32 *)(r10 -32) = 6513249", "*(u32 *)(r10 -28) = 0")); // "abc" and NULs at fp-32
        String[] regs = {"r3", "r4", "r5"};
        for (int i = 0; i < args.length; i++) {
            l.add(args[i].equals("str") ? regs[i] + " = r10" : regs[i] + " = " + args[i] + " ll");
            if (args[i].equals("str")) {
                l.add(regs[i] + " += -32");
            }
        }
        l.addAll(List.of("r1 = r10", "r1 += -64", "r2 = " + (fmt.length() + 1), "call bpf_trace_printk#6", "exit"));
        return run(BaseHelpers.TABLE, l);
    }

    @Test
    void tracePrintkAnswersTheLinesLength() {
        assertEquals(4, printk("x=%d\n", "5"));
        assertEquals("  -42|-42  |-0042".length(), printk("%5d|%-5d|%05d", "-42", "-42", "-42"));
        assertEquals("-1 ffffffff ffffffffffffffff".length(), printk("%d %x %lx", "-1", "-1", "-1"));
        assertEquals("abc|       abc|".length(), printk("%s|%10s|", "str", "str"));
        assertEquals("100%".length(), printk("100%%"));
        assertEquals(16, printk("%p", "0"), "a pointer prints 16 hex digits");
        assertEquals("97.98.99.0".length(), printk("%pI4", "str"), "fp-32 holds \"abc\": 4 bytes read as an address");
    }

    @Test
    void tracePrintkRefusesWhatBprintfPrepareRefuses() {
        assertEquals(-22, printk("%d%d%d%d", "1", "2", "3"), "a fourth conversion");
        for (String bad : List.of("%q", "%.2d", "%#x", "%", "%hd", "%sa", "%pI5", "bell\u0007")) {
            assertEquals(-22, printk(bad, "str"), bad);
        }
        // no NUL within fmt_size
        List<String> l = stackString("abc");
        l.addAll(List.of("r1 = r10", "r1 += -64", "r2 = 3", "call bpf_trace_printk#6", "exit"));
        assertEquals(-22, run(BaseHelpers.TABLE, l));
    }

    @Test
    void programsRunOnCpuZeroOfItsNode() {
        assertEquals(BaseHelpers.ENGINE_CPU, run(BaseHelpers.TABLE, List.of("call bpf_get_smp_processor_id#8", "exit")));
        assertEquals(BaseHelpers.numaNodeOfCpu(0), run(BaseHelpers.TABLE, List.of("call bpf_get_numa_node_id#42", "exit")));
    }

    static final String TIMER_LIST = """
            now at 20563933425108 nsecs

            cpu: 0
             clock 0:
              .base:       0000000000000000
              .offset:     0 nsecs
             clock 1:
              .offset:     1795624603882137195 nsecs
             clock 2:
              .offset:     5000 nsecs
             clock 3:
              .offset:     1795624640882137195 nsecs
            jiffies: 4300033215
            """;

    @Test
    void clockOffsetsComeFromTheTimerList() {
        assertEquals(OptionalLong.of(5000), KernelClocks.clockOffset(TIMER_LIST, 2));
        assertEquals(37_000_000_000L, KernelClocks.clockOffset(TIMER_LIST, 3).getAsLong()
                - KernelClocks.clockOffset(TIMER_LIST, 1).getAsLong());
        // 20563.933 s at 250 Hz is 5140983 ticks; jiffies run 64 ticks behind from INITIAL_JIFFIES
        long base = KernelClocks.jiffiesBase(TIMER_LIST, 4_000_000).getAsLong();
        assertEquals(KernelClocks.initialJiffies(250) - 64, base);
        assertEquals(OptionalInt.of(250), KernelClocks.parseHz("# CONFIG_HZ_1000 is not set\nCONFIG_HZ_250=y\nCONFIG_HZ=250\n"));
        assertEquals(OptionalInt.empty(), KernelClocks.parseHz("CONFIG_HZ_250=y\n"));
    }

    @Test
    void clocksTheHostDoesNotShowAreLeftOutOfTheTable() {
        KernelClocks unknown = new KernelClocks(0, OptionalLong.empty(), OptionalInt.empty(), OptionalLong.empty());
        HelperTable t = BaseHelpers.table(unknown);
        assertTrue(t.has(BaseHelpers.KTIME_GET_NS) && t.has(BaseHelpers.KTIME_GET_BOOT_NS));
        assertFalse(t.has(BaseHelpers.KTIME_GET_TAI_NS));
        assertFalse(t.has(BaseHelpers.JIFFIES64));
        assertFalse(t.has(BaseHelpers.KTIME_GET_COARSE_NS));
        KernelClocks known = new KernelClocks(1000, OptionalLong.of(37_000_000_000L), OptionalInt.of(250), OptionalLong.of(5));
        HelperTable k = BaseHelpers.table(known);
        assertTrue(k.has(BaseHelpers.KTIME_GET_TAI_NS) && k.has(BaseHelpers.JIFFIES64) && k.has(BaseHelpers.KTIME_GET_COARSE_NS));
        long before = System.nanoTime();
        long boot = run(k, List.of("call bpf_ktime_get_boot_ns#125", "exit"));
        long coarse = run(k, List.of("call bpf_ktime_get_coarse_ns#160", "exit"));
        long jiffies = run(k, List.of("call bpf_jiffies64#118", "exit"));
        long after = System.nanoTime();
        assertTrue(boot >= before + 1000 && boot <= after + 1000, "boot = monotonic + the suspend offset");
        assertEquals(0, coarse % 4_000_000, "coarse time is a tick boundary");
        assertTrue(coarse <= after && coarse > before - 4_000_000);
        assertTrue(jiffies >= before / 4_000_000 + 5 && jiffies <= after / 4_000_000 + 5);
    }
}
