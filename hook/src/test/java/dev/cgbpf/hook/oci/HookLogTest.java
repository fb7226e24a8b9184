package dev.cgbpf.hook.oci;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Random;
import java.util.TimeZone;
import org.junit.jupiter.api.Test;

/** The log's hand-made timestamps against java.time's, and when info lines reach slf4j. */
class HookLogTest {
    @Test
    void timestampsAreIso8601WithMillisecondsAndTheZonesOffset() {
        Random r = new Random(7);
        for (String zone : new String[] {"UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Pacific/Apia"}) {
            TimeZone tz = TimeZone.getTimeZone(zone);
            for (int i = 0; i < 2000; i++) {
                // 1972..2200 (before, zones had offsets in seconds, which no log needs), DST switches
                // and leap days included by chance and by the fixed cases
                long ms = i < 3 ? new long[] {0L, 951_782_400_000L, -1L}[i]
                        : 63_072_000_000L + (long) (r.nextDouble() * 7_195_000_000_000L);
                String ours = HookLog.timestamp(ms, tz);
                OffsetDateTime theirs = Instant.ofEpochMilli(ms).atZone(ZoneId.of(zone)).toOffsetDateTime()
                        .truncatedTo(ChronoUnit.MILLIS);
                assertEquals(theirs, OffsetDateTime.parse(ours), ms + " in " + zone + ": " + ours);
                assertEquals(ours.length(), ours.endsWith("Z") ? 24 : 29, ours);
            }
        }
        assertEquals("2000-02-29T00:00:00.000Z", HookLog.timestamp(951_782_400_000L, TimeZone.getTimeZone("UTC")));
        assertEquals("1969-12-31T23:59:59.999Z", HookLog.timestamp(-1L, TimeZone.getTimeZone("UTC")));
    }

    @Test
    void infoLinesReachSlf4jOnlyAtInfoOrBelow() {
        String old = System.getProperty(HookLog.LEVEL_PROPERTY);
        try {
            System.clearProperty(HookLog.LEVEL_PROPERTY);
            assertTrue(HookLog.slf4jShows("info"), "slf4j-simple's default level is info");
            assertFalse(HookLog.slf4jShows("debug"));
            System.setProperty(HookLog.LEVEL_PROPERTY, "warn");
            assertFalse(HookLog.slf4jShows("info"));
            System.setProperty(HookLog.LEVEL_PROPERTY, " DEBUG ");
            assertTrue(HookLog.slf4jShows("info"));
            assertTrue(HookLog.slf4jShows("debug"));
            assertFalse(HookLog.slf4jShows("trace"));
        } finally {
            if (old == null) {
                System.clearProperty(HookLog.LEVEL_PROPERTY);
            } else {
                System.setProperty(HookLog.LEVEL_PROPERTY, old);
            }
        }
    }
}
