package dev.cgbpf.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.interp.Bprintf;
import dev.cgbpf.engine.isa.Assembler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * bpf_snprintf's format at load: the kernel's check (bpf_bprintf_prepare without arguments, the
 * answers of examples/scenarios/helper-snprintf) and the engine's own refusal of the conversions
 * that print a kernel address, which the kernel loads and the engine cannot print.
 */
class SnprintfFormatTest {
    private static final int BPF_F_RDONLY_PROG = 0x80;

    private final EngineBackend engine = new EngineBackend();

    @AfterEach
    void close() {
        engine.close();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void theFormatCheckCountsConversionsAgainstArguments() {
        assertEquals(0, Bprintf.check(ascii("%d %s %pI4 %c %%"), 4));
        assertEquals(-22, Bprintf.check(ascii("%d %s %pI4 %c"), 3), "one argument short");
        assertEquals(0, Bprintf.check(ascii("\u00e9\u0080%d"), 1), "6.18 lets bytes above 0x7f through");
        assertEquals(-22, Bprintf.check(ascii("\u0001%d"), 1), "an ASCII control byte");
        assertEquals(-22, Bprintf.check(ascii("%hd"), 1));
        assertEquals(-22, Bprintf.check(ascii("%sa"), 1), "a letter after %s");
    }

    @Test
    void addressConversionsAreNamed() {
        assertEquals("%p", Bprintf.addressConversion(ascii("x %p y")));
        assertEquals("%pK", Bprintf.addressConversion(ascii("%d %pK")));
        assertEquals("%pB", Bprintf.addressConversion(ascii("%pB")));
        assertNull(Bprintf.addressConversion(ascii("%pI4 %pi6 %pks %pus %s %d")));
    }

    /** A socket_filter program calling bpf_snprintf with the format in a frozen read-only map and one argument. */
    private LoadedProg load(String format) throws BpfException {
        BpfMap fmt = engine.createMap(new MapSpec("fmt", MapType.ARRAY, 4, 32, 1, BPF_F_RDONLY_PROG));
        byte[] v = new byte[32];
        byte[] f = ascii(format);
        System.arraycopy(f, 0, v, 0, f.length);
        engine.update(fmt, new byte[4], v, 0);
        engine.freeze(fmt);
        List<String> insns = List.of("r1 = 0", "*(u32 *)(r10 -4) = r1", "r2 = r10", "r2 += -4", "r1 = map[fmt]",
                "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r3 = r0", "r1 = 7", "*(u64 *)(r10 -16) = r1",
                "*(u64 *)(r10 -48) = r1", "*(u64 *)(r10 -40) = r1", "*(u64 *)(r10 -32) = r1", "*(u64 *)(r10 -24) = r1",
                "r1 = r10", "r1 += -48", "r2 = 32", "r4 = r10", "r4 += -16", "r5 = 8", "call bpf_snprintf#165", "out:",
                "r0 = 0", "exit");
        return engine.load(new LoadRequest("snp", ProgType.SOCKET_FILTER, null,
                new Assembler(Map.of("fmt", fmt.fd())::get).assemble(insns), "GPL", 1));
    }

    @Test
    void theEngineRefusesAddressConversionsAndLoadsTheRest() throws BpfException {
        for (String f : List.of("%p", "%pK|", "%px", "%ps", "%pS", "%pB")) {
            BpfException e = assertThrows(BpfException.class, () -> load(f), f);
            assertEquals("EINVAL", e.errno(), f);
            assertTrue(e.getMessage().contains("engine: bpf_snprintf#165 conversion " + f.replace("|", "")), e.getMessage());
        }
        load("%pI4");
        load("%d");
        BpfException e = assertThrows(BpfException.class, () -> load("%d %d"));
        assertTrue(e.getMessage().endsWith("Invalid format string"), e.getMessage());
    }
}
