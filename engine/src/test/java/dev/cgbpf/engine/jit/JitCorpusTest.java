package dev.cgbpf.engine.jit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.Probe;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.verifier.CorpusCase;
import dev.cgbpf.engine.verifier.CorpusGenerator;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The verifier corpus's accepted programs on two engines, one interpreting and one compiling every
 * program at load: socket_filter and cgroup_skb programs through BPF_PROG_TEST_RUN (twice, so that
 * what the first run left in the maps matters), cgroup_device programs attached and asked about a
 * device. The return value or the error, the packet out and every map's contents must be the same.
 * (The other program types need sockets to run; the example scenarios cover them.)
 */
class JitCorpusTest {
    private static final byte[] PACKET = HexFormat.of().parseHex(
            "ffffffffffff0200000000010800450000200001000040117cc87f0000017f000001d4310035000c0000deadbeef");

    @Test
    void acceptedCorpusProgramsAgree() throws Exception {
        List<CorpusCase> all = new ArrayList<>(CorpusCase.handWritten());
        all.addAll(CorpusGenerator.all());
        int ran = 0;
        int compiled = 0;
        for (CorpusCase c : all) {
            if (c.type() != ProgType.SOCKET_FILTER && c.type() != ProgType.CGROUP_SKB
                    && c.type() != ProgType.CGROUP_DEVICE) {
                continue;
            }
            if (nondeterministic(c)) {
                continue; // a random number or a clock: the two runs could not agree
            }
            String a;
            String b;
            try (EngineBackend interp = new EngineBackend(); EngineBackend jit = new EngineBackend()) {
                interp.host().setJitMode(JitMode.OFF);
                jit.host().setJitMode(JitMode.ON);
                a = run(interp, c);
                if (a == null) {
                    continue; // the verifier refuses it
                }
                b = run(jit, c);
                compiled += (int) jit.host().jitStats().compiled();
            }
            ran++;
            assertEquals(a, b, c.toString());
        }
        assertTrue(ran > 150, "accepted corpus programs run: " + ran);
        assertEquals(ran, compiled, "every accepted program compiled");
    }

    /** What running {@code c} twice shows, or null when it does not load. */
    private static String run(EngineBackend b, CorpusCase c) throws Exception {
        Map<String, BpfMap> maps = new TreeMap<>();
        for (Map.Entry<String, MapSpec> e : CorpusCase.MAPS.entrySet()) {
            BpfMap m = b.createMap(e.getValue());
            maps.put(e.getKey(), m);
            if (e.getValue().type() == MapType.ARRAY) {
                for (int i = 0; i < e.getValue().maxEntries(); i++) {
                    byte[] v = new byte[e.getValue().valueSize()];
                    for (int j = 0; j < v.length; j++) {
                        v[j] = (byte) (i * 13 + j);
                    }
                    b.update(m, key(i), v, 0);
                }
            }
        }
        LoadedProg p;
        try {
            p = b.load(new LoadRequest(c.name(), c.type(), c.attach(), c.program(n -> maps.containsKey(n) ? maps.get(n).fd() : -1), "GPL", 0));
        } catch (BpfException e) {
            return null;
        }
        StringBuilder out = new StringBuilder();
        try (p) {
            for (int round = 0; round < 2; round++) {
                try {
                    if (c.type() == ProgType.CGROUP_DEVICE) {
                        if (round == 0) {
                            b.mkdir("c");
                            b.attach("c", p, AttachType.CGROUP_DEVICE, Set.of(), null);
                        }
                        out.append(b.device("c", new Probe.DeviceAccess(round == 0 ? 'c' : 'b', 1, 3 + round,
                                round == 0 ? "rw" : "m")));
                    } else {
                        TestRun.Result r = b.testRun(p, new TestRun.Request(PACKET, 1));
                        out.append("r0=").append(r.retval()).append(' ').append(HexFormat.of().formatHex(r.dataOut()));
                    }
                } catch (BpfException e) {
                    out.append(e.errno()).append(' ').append(e.getMessage());
                }
                out.append(" | ");
            }
        }
        for (Map.Entry<String, BpfMap> e : maps.entrySet()) {
            out.append(e.getKey()).append(':');
            if (e.getValue().spec().type() == MapType.RINGBUF) {
                // a ring has no keys: its records, as its reader gets them
                b.ringBuf(e.getValue()).consume(r -> out.append(HexFormat.of().formatHex(r)).append(' '), Integer.MAX_VALUE);
                e.getValue().close();
                continue;
            }
            byte[] k = null;
            while ((k = nextKey(b, e.getValue(), k)) != null) {
                out.append(HexFormat.of().formatHex(k)).append('=')
                        .append(HexFormat.of().formatHex(b.lookup(e.getValue(), k))).append(' ');
            }
            e.getValue().close();
        }
        return out.toString();
    }

    /** Whether the program calls bpf_get_prandom_u32 or a clock. */
    private static boolean nondeterministic(CorpusCase c) {
        Set<Integer> helpers = Set.of(BaseHelpers.KTIME_GET_NS, BaseHelpers.GET_PRANDOM_U32, BaseHelpers.JIFFIES64,
                BaseHelpers.KTIME_GET_BOOT_NS, BaseHelpers.KTIME_GET_COARSE_NS, BaseHelpers.KTIME_GET_TAI_NS);
        return c.program(n -> 1).insns().stream()
                .anyMatch(i -> i.code() == 0x85 && i.src() == 0 && helpers.contains(i.imm()));
    }

    private static byte[] nextKey(EngineBackend b, BpfMap m, byte[] k) {
        try {
            return b.nextKey(m, k);
        } catch (BpfException e) {
            return null; // ENOENT: the last key
        }
    }

    private static byte[] key(int i) {
        return new byte[] {(byte) i, 0, 0, 0};
    }
}
