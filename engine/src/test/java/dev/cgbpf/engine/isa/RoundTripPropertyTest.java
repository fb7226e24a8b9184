package dev.cgbpf.engine.isa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** assemble(disassemble(p)) == p over random valid programs of every instruction kind. */
class RoundTripPropertyTest {
    private static final int PROGRAMS = 3000;

    private static final IntFunction<String> NAMES = fd ->
            fd >= RandomInsns.NAMED_FD_MIN && fd <= RandomInsns.NAMED_FD_MAX ? "map_" + fd : null;
    private static final Function<String, Integer> FDS = name ->
            name.startsWith("map_") ? Integer.valueOf(name.substring(4)) : null;

    private final Disassembler disasm = new Disassembler(NAMES);
    private final Assembler asm = new Assembler(FDS);

    @Test
    void bareFormRoundTrips() {
        long seed = Long.getLong("cgbpf.seed", System.nanoTime());
        Random rnd = new Random(seed);
        RandomInsns gen = new RandomInsns(rnd);
        Set<Integer> opcodes = new HashSet<>();
        int slots = 0;
        for (int n = 0; n < PROGRAMS; n++) {
            Program p = gen.program(1 + rnd.nextInt(20));
            slots += p.size();
            p.insns().forEach(i -> opcodes.add(i.code()));
            Encoding.check(p); // the generator makes only valid programs
            List<String> bare = disasm.bareLines(p);
            List<String> listing = disasm.listing(p);
            try {
                assertEquals(p, asm.assemble(bare), "bare form");
                assertEquals(p, asm.assemble(listing), "listing form");
            } catch (AssertionError | RuntimeException e) {
                fail("seed " + seed + " (rerun with -Dcgbpf.seed=" + seed + "), program " + n + ":\n"
                        + String.join("\n", listing) + "\n" + e, e);
            }
        }
        // every opcode RFC 9669 defines was generated (plus the zero opcode of LD_IMM64's second slot)
        assertEquals(ValidOpcodes.all().size() + 1, opcodes.size(), "seed " + seed + ": opcodes " + opcodes);
        assertTrue(slots > PROGRAMS, "generated " + slots + " slots");
    }
}
