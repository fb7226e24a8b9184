package dev.cgbpf.hook.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cgbpf.hook.compile.EventKind;
import dev.cgbpf.hook.compile.EventLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The denials log without a kernel: records decoded, the rate limit per container, the size bound. */
class DenialLogTest {
    @TempDir
    Path dir;

    /** A record as the programs write it: a socket denial of {@code cgroup} by pid 77. */
    static byte[] socketRecord(long cgroup) {
        ByteBuffer b = ByteBuffer.allocate(EventLayout.SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(EventLayout.CGROUP_ID, cgroup);
        b.putLong(EventLayout.PID_TGID, (77L << 32) | 78);
        b.put(EventLayout.COMM, "app".getBytes(StandardCharsets.US_ASCII));
        b.putInt(EventLayout.KIND, EventKind.SOCKET.code());
        b.putInt(EventLayout.RULE, 4);
        b.putInt(EventLayout.A0, 10).putInt(EventLayout.A1, 2).putInt(EventLayout.A2, 17);
        return b.array();
    }

    static LoggedEvent event(long cgroup, String container) {
        return LoggedEvent.of("t", container, "dev.cgbpf.deny-sockets udp",
                DenialEvent.decode(socketRecord(cgroup)).orElseThrow());
    }

    @Test
    void aRecordDecodesAndRoundTripsThroughItsJsonLine() {
        DenialEvent e = DenialEvent.decode(socketRecord(9)).orElseThrow();
        assertEquals(77, e.pid());
        assertEquals(78, e.tid());
        assertEquals("app", e.comm());
        assertEquals("socket inet6 dgram udp", e.object());
        LoggedEvent l = event(9, "web-1");
        assertEquals(l, LoggedEvent.parse(l.json()).orElseThrow());
        assertEquals("t  web-1  pid 77 (app)  socket inet6 dgram udp  denied by dev.cgbpf.deny-sockets udp", l.human());
        // not records of ours: another size, an unknown kind
        assertTrue(DenialEvent.decode(new byte[EventLayout.SIZE - 8]).isEmpty());
        byte[] bad = socketRecord(9);
        bad[EventLayout.KIND] = 99;
        assertTrue(DenialEvent.decode(bad).isEmpty());
        assertTrue(LoggedEvent.parse("{\"time\": ").isEmpty());
    }

    @Test
    void eachContainerHasItsOwnLimitAndTheWindowsEndWithTheCountLeftOut() throws Exception {
        List<String> tapped = new ArrayList<>();
        Path log = dir.resolve("sub/denials.log");
        try (DenialLog d = new DenialLog(log, 1 << 20, 3, 1000, tapped::add)) {
            for (int i = 0; i < 10; i++) {
                d.log(event(1, "a"), 5000 + i);
            }
            d.log(event(2, "b"), 5000);
            d.tick(5500, "t"); // the windows are still open
            d.tick(6000, "t"); // both end: a's 7 left out
            d.log(event(1, "a"), 6001);
            d.flush();
            assertEquals(7, d.suppressedTotal());
        }
        List<LoggedEvent> lines = Files.readAllLines(log).stream().map(l -> LoggedEvent.parse(l).orElseThrow()).toList();
        assertEquals(List.of("a", "a", "a", "b", "a 7", "a"), lines.stream()
                .map(l -> l.container() + (l.isSuppressed() ? " " + l.suppressed() : "")).toList());
        assertEquals(Files.readAllLines(log), tapped, "the followers get exactly the lines written");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log.getParent())));
    }

    @Test
    void pastItsSizeTheLogRotatesOnceSoItNeverHoldsMoreThanTwiceTheBound() throws Exception {
        Path log = dir.resolve("denials.log");
        int lineBytes = (event(1, "a").json() + "\n").getBytes(StandardCharsets.UTF_8).length;
        long max = 10L * lineBytes;
        try (DenialLog d = new DenialLog(log, max, Integer.MAX_VALUE, 1000, l -> { })) {
            for (int i = 0; i < 35; i++) {
                d.log(event(1, "a"), 0);
            }
            d.flush();
            assertEquals(35, d.linesWritten());
        }
        assertEquals(5, Files.readAllLines(log).size(), "35 lines: three rotations of 10, 5 in the new file");
        assertEquals(10, Files.readAllLines(dir.resolve("denials.log.1")).size());
        assertTrue(Files.size(log) + Files.size(dir.resolve("denials.log.1")) <= 2 * max);
        assertTrue(!Files.exists(dir.resolve("denials.log.2")));
    }
}
