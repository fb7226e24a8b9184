package dev.cgbpf.engine.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.interp.Interpreter;
import dev.cgbpf.engine.interp.Machine;
import dev.cgbpf.engine.interp.ProgContext;
import dev.cgbpf.engine.interp.ProgramFault;
import dev.cgbpf.engine.interp.PseudoResolver;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.jit.JitCompiler;
import java.util.HexFormat;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The compiler's direct context reads for the hook contexts that have them (cgroup_skb's
 * {@code __sk_buff}, {@code bpf_sock_ops}, lirc_mode2's sample): every offset from 8 before the
 * context to 8 past it, every size, plain and sign-extending, read by the interpreter's checked
 * {@code load} and by compiled code; the values (pointers included) and faults must be the same,
 * and the table must allow a read only where {@code load} gives the image's bytes.
 */
class HookCtxDirectReadTest {
    private static final byte[] IPV4_UDP = HexFormat.of().parseHex(
            "450000200001000040117cc87f0000017f000001d4310035000c0000deadbeef");

    @Test
    void everyOffsetAndSizeReadsAsTheInterpreterReads() {
        InetSock sk = new InetSock(false, 2, 17);
        sk.mark = 0x01020304;
        sk.priority = 0x0a0b0c0d;
        check("cgroup_skb", CgroupSkbCtx.SIZE, () -> new CgroupSkbCtx(SkBuff.egress(IPV4_UDP, sk, 0x55667788, false), sk));
        InetSock tcp = new InetSock(false, 1, 6);
        tcp.tcp.packetsOut = 3;
        tcp.tcp.sndCwnd = 0x11223344;
        tcp.tcp.bytesAcked = 0x0102030405060708L;
        tcp.tcp.cbFlags = 4;
        check("sock_ops", 224, () -> new BpfSockOpsCtx(4, new int[] {7, 8, 9, 10}, tcp, IPV4_UDP));
        check("lirc_mode2", 4, () -> new LircMode2Ctx(0x01abcdef));
    }

    private static void check(String name, int span, Supplier<ProgContext> ctx) {
        ProgContext probe = ctx.get();
        assertTrue(probe.directReads().length > 0 && probe.directReads().length <= probe.size(), name);
        AddressSpace space = new AddressSpace();
        int[] sizeCodes = {0x10, 0x08, 0x00, 0x18};
        int reads = 0;
        int faults = 0;
        for (int off = -8; off < Math.max(span, probe.size()) + 8; off++) {
            for (int s = 0; s < 4; s++) {
                for (boolean sx : new boolean[] {false, true}) {
                    if (sx && s == 3) {
                        continue;
                    }
                    Program p = Program.of(
                            new Insn(0xbf, 6, 1, 0, 0),
                            new Insn((sx ? 0x81 : 0x61) | sizeCodes[s], 0, 6, off, 0),
                            new Insn(0x95, 0, 0, 0, 0));
                    Interpreter interp = Interpreter.decode(p, PseudoResolver.NONE);
                    JitCompiler.Result r = JitCompiler.compile(p, interp);
                    assertTrue(r instanceof JitCompiler.Compiled, name + ": " + r);
                    JitCompiler.Compiled c = (JitCompiler.Compiled) r;
                    String a = run(() -> interp.run(new Machine(space, BaseHelpers.TABLE, ctx.get()), Interpreter.DEFAULT_BUDGET));
                    String b = run(() -> c.code().run(new Machine(space, BaseHelpers.TABLE, ctx.get()),
                            Interpreter.DEFAULT_BUDGET, interp));
                    assertEquals(a, b, name + " off " + off + " size " + (1 << s) + (sx ? " sx" : ""));
                    if (a.startsWith("fault")) {
                        faults++;
                    } else {
                        reads++;
                    }
                }
            }
        }
        assertTrue(reads > 0 && faults > 0, name + ": reads " + reads + ", faults " + faults);
    }

    private static String run(Supplier<Long> body) {
        try {
            return "r0=0x" + Long.toHexString(body.get());
        } catch (ProgramFault f) {
            return "fault " + f.getMessage();
        }
    }
}
