package dev.cgbpf.tools.bench;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.jit.JitMode;
import dev.cgbpf.engine.jit.JitStats;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * What compiling a benchmark program costs the engine: the time JitCompiler takes (warm: after
 * {@link #WARM} compiles of the same program, the mean of {@link #TIMED}) and the metaspace one
 * compiled program holds while it is loaded ({@link #LIVE} copies loaded at once, metaspace used
 * after a collection compared with before, divided by the copies).
 */
public final class JitCost {
    public static final int WARM = 100;
    public static final int TIMED = 100;
    public static final int LIVE = 300;

    /**
     * @param compileMicros warm compile time of the whole program
     * @param metaspaceBytes metaspace per loaded compiled program
     * @param bytecodeBytes bytecode the compiler wrote for it
     */
    public record Cost(double compileMicros, double metaspaceBytes, long bytecodeBytes) {
    }

    private JitCost() {
    }

    /** @param quick a few compiles and copies only (a smoke run; the figures are rough) */
    public static Cost measure(BenchProgram bp, boolean quick) throws BpfException {
        int warm = quick ? 5 : WARM;
        int timed = quick ? 5 : TIMED;
        int liveCopies = quick ? 20 : LIVE;
        try (EngineBackend b = new EngineBackend()) {
            b.host().setJitMode(JitMode.ON);
            BpfMap map = bp.usesMap()
                    ? b.createMap(new MapSpec("bench", MapType.ARRAY, 4, 8, BenchPrograms.MAP_ENTRIES, 0)) : null;
            LoadRequest req = new LoadRequest(bp.name(), ProgType.SOCKET_FILTER, null,
                    bp.build().apply(map == null ? -1 : map.fd()), "GPL", 0);
            for (int i = 0; i < warm; i++) {
                b.load(req).close();
            }
            JitStats.Snapshot before = b.host().jitStats();
            for (int i = 0; i < timed; i++) {
                b.load(req).close();
            }
            JitStats.Snapshot after = b.host().jitStats();
            if (after.compiled() - before.compiled() != timed) {
                throw new BpfException(Errno.EINVAL, bp.name() + " was not compiled");
            }
            double micros = (after.compileNanos() - before.compileNanos()) / 1e3 / timed;
            long bytecode = (after.bytecodeBytes() - before.bytecodeBytes()) / timed;
            settle();
            long metaBefore = metaspaceUsed();
            List<LoadedProg> live = new ArrayList<>();
            for (int i = 0; i < liveCopies; i++) {
                live.add(b.load(req));
            }
            settle();
            double perProgram = (double) (metaspaceUsed() - metaBefore) / liveCopies;
            for (LoadedProg p : live) {
                p.close();
            }
            if (map != null) {
                map.close();
            }
            return new Cost(micros, perProgram, bytecode);
        }
    }

    private static void settle() {
        for (int i = 0; i < 2; i++) {
            System.gc();
        }
    }

    private static long metaspaceUsed() {
        long used = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getName().equals("Metaspace")) {
                used += pool.getUsage().getUsed();
            }
        }
        return used;
    }
}
