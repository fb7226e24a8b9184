package dev.cgbpf.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The kernel backend's pinThread: the calling thread's CPUs, as /proc/thread-self/status lists them, while pinned and after. */
class ThreadAffinityTest {
    private static String allowed() throws IOException {
        return Files.readAllLines(Path.of("/proc/thread-self/status")).stream()
                .filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow()
                .substring("Cpus_allowed_list:".length()).strip();
    }

    @Test
    void pinsTheCallingThreadAndGivesItsCpusBack() throws Exception {
        String before = allowed();
        Assumptions.assumeTrue(!before.equals("0"), "this thread may run on CPU 0 only already");
        // a thread started before the pin keeps its CPUs (one started after inherits the pin, as on Linux any does)
        CountDownLatch pinnedNow = new CountDownLatch(1);
        String[] other = new String[1];
        Thread t = new Thread(() -> {
            try {
                pinnedNow.await();
                other[0] = allowed();
            } catch (IOException | InterruptedException e) {
                other[0] = e.toString();
            }
        });
        t.start();
        try (AutoCloseable pinned = ThreadAffinity.pin(0)) {
            assertEquals("0", allowed());
            pinnedNow.countDown();
            t.join();
            assertEquals(before, other[0]);
        }
        assertEquals(before, allowed());
    }
}
