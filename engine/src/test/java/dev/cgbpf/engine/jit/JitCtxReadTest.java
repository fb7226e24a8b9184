package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.hooks.BpfCgroupDevCtx;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.CtxField;
import dev.cgbpf.engine.interp.CtxLayout;
import dev.cgbpf.engine.interp.Fault;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.ProgContext;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.interp.SkBuffContext;
import dev.cgbpf.engine.interp.StructContext;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The compiler's direct context reads (convert_ctx_access: a read the context's rule allows at a
 * known offset is one read of its image) against the interpreter's checked {@code load}: every
 * offset from 8 before the context to 8 past its end, every size, plain and sign-extending loads,
 * through r1 itself and through a copy moved by a constant, for each context with a field table
 * (socket_filter's {@code __sk_buff}, cgroup_device's {@code bpf_cgroup_dev_ctx}, and a layout
 * with every kind of field over random bytes). Values and faults must be the same, and the
 * direct table must allow exactly what {@link CtxLayout#check} allows.
 */
class JitCtxReadTest {
    private static final byte[] FRAME = HexFormat.of().parseHex(
            "000000000000020000000001080045000020000100004011bcc87f0000017f000001d4310035000c0000deadbeef");

    /** A layout with each kind of field, over an image of random bytes. */
    static final class AllKinds extends StructContext {
        static final CtxLayout LAYOUT = new CtxLayout(64, List.of(
                new CtxField("narrow", 0, 4, CtxField.Read.NARROW, false),
                new CtxField("full", 4, 4, CtxField.Read.FULL, true),
                new CtxField("none", 8, 4, CtxField.Read.NONE, false),
                new CtxField("wide", 16, 8, CtxField.Read.FULL, false),
                new CtxField("array", 24, 20, CtxField.Read.ANY, true),
                new CtxField("narrow8", 48, 8, CtxField.Read.NARROW, false)));

        AllKinds(long seed) {
            super(LAYOUT);
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < 64; i += 8) {
                put(i, 8, r.nextLong());
            }
        }

        @Override
        public dev.cgbpf.engine.interp.Packet packet() {
            return null;
        }
    }

    @Test
    void everyOffsetAndSizeReadsAsTheInterpreterReads() {
        check("socket_filter", SkBuffContext.SOCKET_FILTER.size(), () -> new SkBuffContext(FRAME));
        check("cgroup_device", BpfCgroupDevCtx.LAYOUT.size(),
                () -> new BpfCgroupDevCtx(BpfCgroupDevCtx.DEV_CHAR, BpfCgroupDevCtx.ACC_READ | BpfCgroupDevCtx.ACC_WRITE,
                        0x88776655, 0xf1f2f3f4));
        check("all kinds", AllKinds.LAYOUT.size(), () -> new AllKinds(18));
    }

    @Test
    void theDirectTableIsTheAccessRule() {
        for (CtxLayout l : List.of(SkBuffContext.SOCKET_FILTER, BpfCgroupDevCtx.LAYOUT, AllKinds.LAYOUT)) {
            byte[] t = l.readSizes();
            assertEquals(l.size(), t.length);
            for (int off = 0; off < l.size(); off++) {
                for (int bit = 0; bit < 4; bit++) {
                    boolean allowed;
                    try {
                        l.check(off, 1 << bit, false);
                        allowed = true;
                    } catch (Fault f) {
                        allowed = false;
                    }
                    assertEquals(allowed, (t[off] & (1 << bit)) != 0, "off " + off + " size " + (1 << bit));
                }
            }
        }
    }

    private static void check(String name, int ctxSize, Supplier<ProgContext> ctx) {
        AddressSpace space = new AddressSpace();
        Supplier<Machine> machine = () -> new Machine(space, BaseHelpers.TABLE, ctx.get());
        int[] sizeCodes = {0x10, 0x08, 0x00, 0x18}; // BPF_B, H, W, DW
        int direct = 0;
        int faults = 0;
        for (int off = -8; off < ctxSize + 8; off++) {
            for (int s = 0; s < 4; s++) {
                for (boolean sx : new boolean[] {false, true}) {
                    if (sx && s == 3) {
                        continue; // no sign-extending 8-byte load
                    }
                    int code = (sx ? 0x81 : 0x61) | sizeCodes[s];
                    for (int shift : new int[] {0, 8, -4}) {
                        // r6 = r1 + shift; r0 = *(size *)(r6 + off - shift); exit
                        Program p = Program.of(
                                new Insn(0xbf, 6, 1, 0, 0),
                                new Insn(0x07, 6, 0, 0, shift),
                                new Insn(code, 0, 6, off - shift, 0),
                                new Insn(0x95, 0, 0, 0, 0));
                        TwoTiers.Outcome o = TwoTiers.agree(name + " off " + off + " size " + (1 << s) + (sx ? " sx" : "")
                                + " shift " + shift, p, PseudoResolver.NONE, machine, Interpreter.DEFAULT_BUDGET);
                        if (o.result().startsWith("fault")) {
                            faults++;
                        } else {
                            direct++;
                        }
                    }
                }
            }
        }
        assertTrue(direct > 0 && faults > 0, name + ": reads " + direct + ", faults " + faults);
    }
}
