package dev.cgbpf.engine.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cgbpf.engine.EngineBackend;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.BpfMap;
import dev.cgbpf.engine.backend.LoadRequest;
import dev.cgbpf.engine.backend.LoadedProg;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgType;
import dev.cgbpf.engine.backend.TestRun;
import dev.cgbpf.engine.isa.Assembler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The current task is the thread calling into the engine: a test run's program sees this test's
 * thread, as /proc/thread-self describes it. (The kernel side is examples/scenarios/current-task-helpers.)
 */
class CurrentTaskTest {
    private static final byte[] FRAME = HexFormat.of().parseHex(
            "ffffffffffff0200000000010800450000200001000040117cc87f0000017f000002d4310035000c0000deadbeef");
    private final EngineBackend engine = new EngineBackend();

    @AfterEach
    void close() {
        engine.close();
    }

    /** Runs a cgroup_skb program whose body writes into the 64-byte value r9 points to; returns the value. */
    private ByteBuffer run(List<String> body) throws BpfException {
        BpfMap out = engine.createMap(new MapSpec("out", MapType.ARRAY, 4, 64, 1, 0));
        List<String> p = new ArrayList<>(List.of("r6 = r1", "r1 = 0", "*(u32 *)(r10 -4) = r1", "r2 = r10", "r2 += -4",
                "r1 = map[out]", "call bpf_map_lookup_elem#1", "if r0 == 0x0 goto out", "r9 = r0"));
        p.addAll(body);
        p.addAll(List.of("out:", "r0 = 1", "exit"));
        try (LoadedProg prog = engine.load(new LoadRequest("t", ProgType.CGROUP_SKB, null,
                new Assembler(Map.of("out", out.fd())::get).assemble(p), "GPL", 0))) {
            engine.testRun(prog, new TestRun.Request(FRAME, 0));
        }
        return ByteBuffer.wrap(engine.lookup(out, new byte[4])).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long[] procIds() throws IOException {
        String[] parts = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString().split("/");
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[2])};
    }

    private static long realId(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).strip().split("\\s+")[0]);
            }
        }
        throw new IOException("no " + key);
    }

    @Test
    void idsUidGidAndCommAreTheCallingThreads() throws Exception {
        String saved = Thread.currentThread().getName();
        ByteBuffer v = run(List.of("call bpf_get_current_pid_tgid#14", "*(u64 *)(r9 +0) = r0",
                "call bpf_get_current_uid_gid#15", "*(u64 *)(r9 +8) = r0",
                "r1 = -1", "*(u64 *)(r9 +16) = r1", "*(u64 *)(r9 +24) = r1",
                "r1 = r9", "r1 += 16", "r2 = 16", "call bpf_get_current_comm#16", "*(u64 *)(r9 +32) = r0",
                "call bpf_get_current_task#35", "*(u64 *)(r9 +40) = r0",
                "call bpf_get_current_task_btf#158", "*(u64 *)(r9 +48) = r0"));
        long[] ids = procIds();
        assertEquals(ids[0] << 32 | ids[1], v.getLong(0), "tgid, pid");
        assertEquals(realId("Gid:") << 32 | realId("Uid:"), v.getLong(8), "gid, uid");
        byte[] comm = new byte[16];
        v.get(16, comm);
        String expected = Files.readString(Path.of("/proc/thread-self/comm")).strip();
        byte[] want = new byte[16];
        byte[] e = expected.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(e, 0, want, 0, Math.min(15, e.length));
        assertEquals(HexFormat.of().formatHex(want), HexFormat.of().formatHex(comm), "comm, NUL-padded: " + expected);
        assertEquals(0, v.getLong(32));
        assertEquals(v.getLong(40), v.getLong(48), "one task pointer for both helpers");
        assertEquals(0xffff8880L, v.getLong(40) >>> 32, "an address in the direct map");
        assertEquals(saved, Thread.currentThread().getName());
    }

    @Test
    void nsPidTgidAnswersForTheThreadsOwnPidNamespaceOnly() throws Exception {
        Path ns = Path.of("/proc/thread-self/ns/pid");
        long dev = ((Number) Files.getAttribute(ns, "unix:dev")).longValue();
        long ino = ((Number) Files.getAttribute(ns, "unix:ino")).longValue();
        List<String> call = List.of("r1 = -1", "*(u64 *)(r9 +8) = r1",
                "r1 = " + dev + " ll", "r2 = " + ino + " ll", "r3 = r9", "r3 += 8", "r4 = 8",
                "call bpf_get_ns_current_pid_tgid#120", "*(u64 *)(r9 +0) = r0");
        ByteBuffer v = run(call);
        long[] ids = procIds();
        assertEquals(0, v.getLong(0));
        assertEquals(ids[1], v.getInt(8) & 0xffffffffL, "pid");
        assertEquals(ids[0], v.getInt(12) & 0xffffffffL, "tgid");

        ByteBuffer wrong = run(List.of("r1 = -1", "*(u64 *)(r9 +8) = r1",
                "r1 = " + dev + " ll", "r2 = " + (ino + 1) + " ll", "r3 = r9", "r3 += 8", "r4 = 8",
                "call bpf_get_ns_current_pid_tgid#120", "*(u64 *)(r9 +0) = r0"));
        assertEquals(-22, wrong.getLong(0));
        assertEquals(0, wrong.getLong(8), "zeroed");
    }
}
