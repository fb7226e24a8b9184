package dev.cgbpf.tools.fuzz;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.Backend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.interp.BaseHelpers;
import dev.cgbpf.engine.isa.Insn;
import dev.cgbpf.engine.isa.Opcodes;
import dev.cgbpf.engine.isa.Program;
import dev.cgbpf.engine.jit.JitMode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Run fuzzing, three ways: the {@link FuzzProgramGenerator}'s programs, as socket_filter
 * programs, on the host kernel, on an engine that interprets and on an engine that compiles every
 * program at load. Every program the kernel and the engine both accept runs once through
 * BPF_PROG_TEST_RUN on each, on the same packet and the same map contents; the return value (or
 * the error), the packet out and both maps' contents afterwards must be the same on all three.
 * Without a kernel, the two engine tiers are compared with each other.
 */
public final class RunFuzz {
    /** What one run found. */
    /**
     * @param tierDisagreements programs on which the interpreter and the compiler differ (a compiler bug)
     * @param kernelDisagreements programs on which the interpreter and the kernel differ (docs/fidelity.md
     *                            names the known causes: a pointer returned as r0, uninitialised stack read)
     */
    public record Report(long programs, long ran, long tierDisagreements, long kernelDisagreements, long compiled,
                         long notCompiled, boolean kernel) {
        public boolean ok() {
            return tierDisagreements == 0;
        }

        public String summary() {
            return String.format("%d programs, %d run on %s, %d compiled (%d left to the interpreter); "
                            + "interpreter vs compiler: %d differ; engine vs kernel: %s",
                    programs, ran, kernel ? "kernel, interpreter and compiler" : "interpreter and compiler (no kernel)",
                    compiled, notCompiled, tierDisagreements, kernel ? kernelDisagreements + " differ" : "not run");
        }
    }

    static final byte[] PACKET = HexFormat.of().parseHex(
            "ffffffffffff0200000000010800450000200001000040117cc87f0000017f000001d4310035000c0000deadbeef");
    private static final MapSpec[] MAPS = {new MapSpec("hash", MapType.HASH, 4, 8, 16, 0),
        new MapSpec("array", MapType.ARRAY, 4, 48, 4, 0)};
    /** Placeholder map fds in generated programs, replaced by each backend's own. */
    private static final int[] PLACEHOLDER = {100_000, 100_001};
    /** Helpers whose answers differ from run to run: a program calling one is not compared. */
    private static final Set<Integer> VARYING = Set.of(BaseHelpers.KTIME_GET_NS, BaseHelpers.GET_PRANDOM_U32,
            BaseHelpers.JIFFIES64, BaseHelpers.KTIME_GET_BOOT_NS, BaseHelpers.KTIME_GET_COARSE_NS,
            BaseHelpers.KTIME_GET_TAI_NS, BaseHelpers.GET_SMP_PROCESSOR_ID);

    private RunFuzz() {
    }

    /** Runs {@code count} programs from {@code seed}; {@code kernel} may be null. Disagreements go to {@code out}. */
    public static Report run(long count, long seed, Backend kernel, PrintStream out) {
        try (EngineBackend interp = new EngineBackend(); EngineBackend jit = new EngineBackend()) {
            interp.host().setJitMode(JitMode.OFF);
            jit.host().setJitMode(JitMode.ON);
            List<Backend> backends = new ArrayList<>(List.of(interp, jit));
            List<String> names = new ArrayList<>(List.of("interpreter", "compiler"));
            if (kernel != null) {
                backends.add(kernel);
                names.add("kernel");
            }
            List<BpfMap[]> maps = new ArrayList<>();
            for (Backend b : backends) {
                BpfMap[] m = new BpfMap[MAPS.length];
                for (int i = 0; i < MAPS.length; i++) {
                    m[i] = b.createMap(MAPS[i]);
                }
                maps.add(m);
            }
            FuzzProgramGenerator gen = new FuzzProgramGenerator(seed, PLACEHOLDER);
            long ran = 0;
            long[] disagreements = new long[3];
            try {
                for (long n = 0; n < count; n++) {
                    Program p = gen.next(n % 4 == 0); // mostly unmutated: more of them load
                    if (varying(p)) {
                        continue;
                    }
                    List<String> outcomes = new ArrayList<>();
                    boolean allLoaded = true;
                    for (int i = 0; i < backends.size() && allLoaded; i++) {
                        String o = runOn(backends.get(i), maps.get(i), p);
                        allLoaded = o != null;
                        outcomes.add(o);
                    }
                    if (!allLoaded) {
                        continue;
                    }
                    ran++;
                    for (int i = 1; i < outcomes.size(); i++) {
                        if (!outcomes.get(i).equals(outcomes.get(0))) {
                            disagreements[i]++;
                            if (disagreements[i] <= 20) {
                                out.println("DIFFER " + names.get(0) + ": " + outcomes.get(0) + "\n       " + names.get(i)
                                        + ": " + outcomes.get(i) + "\n       program " + p.toHex());
                            }
                        }
                    }
                }
            } finally {
                for (BpfMap[] ms : maps) {
                    for (BpfMap m : ms) {
                        m.close();
                    }
                }
            }
            var stats = jit.host().jitStats();
            return new Report(count, ran, disagreements[1], disagreements[2], stats.compiled(), stats.notCompiled(),
                    kernel != null);
        } catch (BpfException e) {
            throw new IllegalStateException("run fuzz: " + e.getMessage(), e);
        }
    }

    private static boolean varying(Program p) {
        return p.insns().stream().anyMatch(i -> i.code() == (Opcodes.JMP | Opcodes.CALL) && i.src() == 0
                && VARYING.contains(i.imm()));
    }

    /** The program with the backend's map fds in place of the placeholders. */
    private static Program withMaps(Program p, BpfMap[] maps) {
        List<Insn> out = new ArrayList<>(p.insns());
        for (int i = 0; i < out.size(); i++) {
            Insn in = out.get(i);
            if (in.isLdImm64() && in.src() == Opcodes.PSEUDO_MAP_FD) {
                for (int m = 0; m < PLACEHOLDER.length; m++) {
                    if (in.imm() == PLACEHOLDER[m]) {
                        out.set(i, new Insn(in.code(), in.dst(), in.src(), in.off(), maps[m].fd()));
                    }
                }
            }
        }
        return new Program(out);
    }

    /** Loads, resets the maps, runs once; what it gave and what the maps hold; null when the load fails. */
    private static String runOn(Backend b, BpfMap[] maps, Program p) throws BpfException {
        LoadedProg lp;
        try {
            lp = b.load(new LoadRequest("fuzz", ProgType.SOCKET_FILTER, null, withMaps(p, maps), "GPL", 0));
        } catch (BpfException e) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        try (lp) {
            reset(b, maps);
            try {
                TestRun.Result r = b.testRun(lp, new TestRun.Request(PACKET, 1));
                sb.append("r0=").append(Long.toHexString(r.retval())).append(' ')
                        .append(HexFormat.of().formatHex(r.dataOut()));
            } catch (BpfException e) {
                sb.append(e.errno());
            }
        }
        for (int m = 0; m < maps.length; m++) {
            sb.append(" | ").append(MAPS[m].name()).append(':');
            for (int k = 0; k < 16; k++) {
                try {
                    byte[] v = b.lookup(maps[m], key(k));
                    sb.append(' ').append(k).append('=').append(HexFormat.of().formatHex(v));
                } catch (BpfException e) {
                    // ENOENT: no such key
                }
            }
        }
        return sb.toString();
    }

    /** The same contents before every run: the array's values numbered, the hash with keys 0 and 3. */
    private static void reset(Backend b, BpfMap[] maps) throws BpfException {
        for (int k = 0; k < 16; k++) {
            try {
                b.delete(maps[0], key(k));
            } catch (BpfException e) {
                // ENOENT
            }
        }
        for (int k : new int[] {0, 3}) {
            b.update(maps[0], key(k), value(8, k + 1), 0);
        }
        for (int k = 0; k < 4; k++) {
            b.update(maps[1], key(k), value(48, 10 * k), 0);
        }
    }

    private static byte[] key(int k) {
        return new byte[] {(byte) k, 0, 0, 0};
    }

    private static byte[] value(int size, int seed) {
        byte[] v = new byte[size];
        for (int i = 0; i < size; i++) {
            v[i] = (byte) (seed + i);
        }
        return v;
    }
}
