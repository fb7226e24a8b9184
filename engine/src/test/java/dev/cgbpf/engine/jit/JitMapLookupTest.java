package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.ProgramFault;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.maps.EngineMap;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * bpf_map_lookup_elem with its key on the stack, which the compiler inlines (map_gen_lookup),
 * against the interpreter's helper: array maps with keys inside, at and past max_entries
 * (negative as an int too), a hash map with 4-byte keys, a hash map with 8-byte keys (the
 * helper's own path, reading past the frame: a fault), a scalar instead of a map (a fault), and
 * writes and reads through the value pointer, inside, past and before the value (arrays of 8-,
 * 12- and 20-byte values). Each tier runs on maps of its own, built
 * alike; r0 or the fault and the maps' contents afterwards must be the same.
 */
class JitMapLookupTest {
    private static final byte[] FRAME = HexFormat.of().parseHex("0000000000000200000000010800450000200001");
    private static final int[] KEYS = {0, 1, 7, 15, 16, 17, 255, 0x7fffffff, -1, Integer.MIN_VALUE, 1 << 16};

    /**
     * One tier's world: a space with an array map (16 x u64), a hash of u32 keys, a hash of u64
     * keys, and arrays of 12-byte (stride 16) and 20-byte (stride 24) values.
     */
    private static final class World {
        final AddressSpace space = new AddressSpace();
        final EngineMap array;
        final EngineMap hash4;
        final EngineMap hash8;
        final EngineMap array12;
        final EngineMap array20;

        World() throws Exception {
            array = EngineMap.create(new MapSpec("arr", MapType.ARRAY, 4, 8, 16, 0), space);
            hash4 = EngineMap.create(new MapSpec("h4", MapType.HASH, 4, 8, 8, 0), space);
            hash8 = EngineMap.create(new MapSpec("h8", MapType.HASH, 8, 8, 8, 0), space);
            array12 = EngineMap.create(new MapSpec("a12", MapType.ARRAY, 4, 12, 16, 0), space);
            array20 = EngineMap.create(new MapSpec("a20", MapType.ARRAY, 4, 20, 16, 0), space);
            for (int i = 0; i < 16; i++) {
                array.updateElem(le(i, 4), le(1000L * i + 7, 8), 0);
                byte[] v12 = new byte[12];
                byte[] v20 = new byte[20];
                for (int b = 0; b < 20; b++) {
                    if (b < 12) {
                        v12[b] = (byte) (i * 16 + b + 1);
                    }
                    v20[b] = (byte) (i * 32 + b + 1);
                }
                array12.updateElem(le(i, 4), v12, 0);
                array20.updateElem(le(i, 4), v20, 0);
            }
            for (int k : new int[] {1, 16, -1, 255}) {
                hash4.updateElem(le(k, 4), le(k * 3L, 8), 0);
                hash8.updateElem(le(k, 8), le(k * 5L, 8), 0);
            }
        }

        long address(int fd) {
            return switch (fd) {
                case 1 -> array.objectAddress();
                case 2 -> hash4.objectAddress();
                case 3 -> hash8.objectAddress();
                case 4 -> array12.objectAddress();
                case 5 -> array20.objectAddress();
                default -> throw new IllegalArgumentException();
            };
        }

        String contents() {
            StringBuilder b = new StringBuilder();
            for (EngineMap m : List.of(array, hash4, hash8, array12, array20)) {
                byte[] k = m.nextKey(null);
                while (k != null) {
                    int i = m.lookupIndex(k);
                    b.append(HexFormat.of().formatHex(k)).append('=').append(HexFormat.of().formatHex(m.valueOf(i))).append(' ');
                    k = m.nextKey(k);
                }
                b.append('|');
            }
            return b.toString();
        }
    }

    static byte[] le(long v, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    @Test
    void inlinedLookupsAgreeWithTheHelper() throws Exception {
        int found = 0;
        int missed = 0;
        int faults = 0;
        for (int fd = 0; fd <= 5; fd++) {
            for (int key : KEYS) {
                for (int keyOff : new int[] {-4, -8, -512}) {
                    for (int after = 0; after < 8; after++) {
                        Program p = program(fd, key, keyOff, after);
                        String a = run(p, false);
                        String b = run(p, true);
                        assertEquals(a, b, "fd " + fd + " key " + key + " at fp" + keyOff + " then " + after);
                        if (a.startsWith("fault")) {
                            faults++;
                        } else if (a.startsWith("r0=0x4d ")) {
                            missed++;
                        } else {
                            found++;
                        }
                    }
                }
            }
        }
        assertTrue(found >= 100 && missed > 50 && faults > 50, "found " + found + " missed " + missed + " faults " + faults);
    }

    /**
     * *(u32 *)(fp + keyOff) = key; r1 = map fd (or the scalar 42 for fd 0); r2 = fp + keyOff;
     * r0 = lookup; if r0 == 0 return 77; then per {@code after}: return the value, add 1 to it and
     * return it, or write 8 bytes past its start (past the value: a fault).
     */
    private static Program program(int fd, int key, int keyOff, int after) {
        List<Insn> c = new ArrayList<>();
        c.add(new Insn(0x62, 10, 0, keyOff, key)); // *(u32 *)(r10 + keyOff) = key
        if (keyOff + 4 < 0) {
            c.add(new Insn(0x62, 10, 0, keyOff + 4, 0x1234)); // the bytes after it (an 8-byte key reads them)
        }
        if (fd == 0) {
            c.add(new Insn(0xb7, 1, 0, 0, 42));
        } else {
            c.add(new Insn(0x18, 1, Opcodes.PSEUDO_MAP_FD, 0, fd));
            c.add(new Insn(0x00, 0, 0, 0, 0));
        }
        c.add(new Insn(0xbf, 2, 10, 0, 0));
        c.add(new Insn(0x07, 2, 0, 0, keyOff));
        c.add(new Insn(0x85, 0, 0, 0, BaseHelpers.MAP_LOOKUP_ELEM));
        c.add(new Insn(0x55, 0, 0, 2, 0)); // if r0 != 0 goto +2
        c.add(new Insn(0xb7, 0, 0, 0, 77));
        c.add(new Insn(0x95, 0, 0, 0, 0));
        switch (after) {
            case 0 -> c.add(new Insn(0x79, 0, 0, 0, 0)); // r0 = *(u64 *)(r0 + 0)
            case 1 -> {
                c.add(new Insn(0x79, 3, 0, 0, 0));
                c.add(new Insn(0x07, 3, 0, 0, 1));
                c.add(new Insn(0x7b, 0, 3, 0, 0));
                c.add(new Insn(0xbf, 0, 3, 0, 0));
            }
            case 2 -> c.add(new Insn(0x7a, 0, 0, 4, 9)); // *(u64 *)(r0 + 4) = 9: past an 8-byte value
            case 3 -> c.add(new Insn(0x61, 0, 0, 4, 0)); // r0 = *(u32 *)(r0 + 4)
            case 4 -> c.add(new Insn(0x79, 0, 0, 8, 0)); // r0 = *(u64 *)(r0 + 8): past 8 and 12, inside 20
            case 5 -> c.add(new Insn(0x79, 0, 0, -8, 0)); // r0 = *(u64 *)(r0 - 8): the element before, or before the map
            case 6 -> c.add(new Insn(0x71, 0, 0, 11, 0)); // r0 = *(u8 *)(r0 + 11)
            default -> c.add(new Insn(0x69, 0, 0, 18, 0)); // r0 = *(u16 *)(r0 + 18)
        }
        c.add(new Insn(0x95, 0, 0, 0, 0));
        return Program.of(c.toArray(Insn[]::new));
    }

    private static String run(Program p, boolean compiled) throws Exception {
        World w = new World();
        Interpreter interp = Interpreter.decode(p, (src, imm, next) -> w.address(imm));
        Machine m = new Machine(w.space, BaseHelpers.TABLE, new SkBuffContext(FRAME));
        String result;
        try {
            long r0;
            if (compiled) {
                JitCompiler.Result r = JitCompiler.compile(p, interp);
                if (!(r instanceof JitCompiler.Compiled c)) {
                    throw new AssertionError("not compiled: " + r);
                }
                r0 = c.code().run(m, Interpreter.DEFAULT_BUDGET, interp);
            } else {
                r0 = interp.run(m, Interpreter.DEFAULT_BUDGET);
            }
            result = "r0=0x" + Long.toHexString(r0);
        } catch (ProgramFault f) {
            result = "fault " + f.getMessage();
        }
        return result + " " + w.contents();
    }
}
