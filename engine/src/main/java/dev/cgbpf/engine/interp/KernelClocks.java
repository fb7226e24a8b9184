package dev.cgbpf.engine.interp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * The host's kernel clocks as the time helpers read them, derived from the one clock Java reads
 * directly: {@link System#nanoTime()}, which on Linux is clock_gettime(CLOCK_MONOTONIC), the very
 * clock of bpf_ktime_get_ns. The others are CLOCK_MONOTONIC plus an offset the kernel keeps:
 * <ul>
 * <li>CLOCK_BOOTTIME adds the time spent suspended (offs_boot);</li>
 * <li>CLOCK_TAI is CLOCK_REALTIME plus the TAI-UTC offset set through adjtimex (0 until a time
 *     daemon sets it);</li>
 * <li>jiffies count ticks of 1/CONFIG_HZ s from INITIAL_JIFFIES (2^32 - 300 HZ), ticking at
 *     CLOCK_MONOTONIC multiples of the tick length, but a boot-dependent number of ticks behind
 *     (observed on 6.18: 64 ticks);</li>
 * <li>the coarse monotonic clock is CLOCK_MONOTONIC as of the last tick.</li>
 * </ul>
 * The offsets come from /proc/timer_list (readable by root), which prints each clock base's
 * offset and the jiffies next to "now"; without it the boot offset is estimated from
 * /proc/uptime (10 ms resolution), and TAI and jiffies are unknown. The tick length comes from
 * the kernel's build configuration (/proc/config.gz or /boot/config-RELEASE).
 * Values are read once, when the class loads: a suspend or an adjtimex later is not seen.
 */
public final class KernelClocks {
    /** INITIAL_JIFFIES without the HZ term: jiffies start 300 s before wrapping 32 bits. */
    private static final long JIFFIES_WRAP = 1L << 32;
    private static final long NSEC_PER_SEC = 1_000_000_000L;
    /** /proc/uptime's resolution: a smaller suspend offset cannot be told from none. */
    private static final long UPTIME_RESOLUTION_NS = 10_000_000L;

    private static final KernelClocks HOST = readHost();

    private final long bootOffsetNs;
    private final OptionalLong taiOffsetNs;
    private final OptionalInt hz;
    /** jiffies minus floor(monotonic / tick), when known. */
    private final OptionalLong jiffiesBase;

    KernelClocks(long bootOffsetNs, OptionalLong taiOffsetNs, OptionalInt hz, OptionalLong jiffiesBase) {
        this.bootOffsetNs = bootOffsetNs;
        this.taiOffsetNs = taiOffsetNs;
        this.hz = hz;
        this.jiffiesBase = jiffiesBase;
    }

    /** The clocks of the host the JVM runs on. */
    public static KernelClocks host() {
        return HOST;
    }

    /** bpf_ktime_get_ns: CLOCK_MONOTONIC. */
    public long monotonicNs() {
        return System.nanoTime();
    }

    /** bpf_ktime_get_boot_ns: CLOCK_BOOTTIME. */
    public long bootNs() {
        return System.nanoTime() + bootOffsetNs;
    }

    public boolean knowsTai() {
        return taiOffsetNs.isPresent();
    }

    /** bpf_ktime_get_tai_ns: CLOCK_TAI; only when {@link #knowsTai()}. */
    public long taiNs() {
        Instant now = Instant.now();
        return now.getEpochSecond() * NSEC_PER_SEC + now.getNano() + taiOffsetNs.orElseThrow();
    }

    public boolean knowsTick() {
        return hz.isPresent();
    }

    private long tickNs() {
        return NSEC_PER_SEC / hz.orElseThrow();
    }

    /** bpf_ktime_get_coarse_ns: CLOCK_MONOTONIC_COARSE, the monotonic time of the last tick; only when {@link #knowsTick()}. */
    public long coarseNs() {
        long now = System.nanoTime();
        return now - Math.floorMod(now, tickNs());
    }

    public boolean knowsJiffies() {
        return hz.isPresent() && jiffiesBase.isPresent();
    }

    /** bpf_jiffies64; only when {@link #knowsJiffies()}. */
    public long jiffies64() {
        return Math.floorDiv(System.nanoTime(), tickNs()) + jiffiesBase.orElseThrow();
    }

    // ---------------------------------------------------------------- reading the host

    private static KernelClocks readHost() {
        OptionalInt hz = configHz();
        String timerList = read(Path.of("/proc/timer_list"));
        if (timerList != null) {
            OptionalLong boot = clockOffset(timerList, 2);
            OptionalLong real = clockOffset(timerList, 1);
            OptionalLong tai = clockOffset(timerList, 3);
            if (boot.isPresent() && real.isPresent() && tai.isPresent()) {
                OptionalLong base = hz.isPresent() ? jiffiesBase(timerList, NSEC_PER_SEC / hz.getAsInt()) : OptionalLong.empty();
                return new KernelClocks(boot.getAsLong(), OptionalLong.of(tai.getAsLong() - real.getAsLong()), hz, base);
            }
        }
        return new KernelClocks(uptimeBootOffset(), OptionalLong.empty(), hz, OptionalLong.empty());
    }

    /** The ".offset" of "clock N:" in the first CPU's block of /proc/timer_list. */
    static OptionalLong clockOffset(String timerList, int clock) {
        Matcher m = Pattern.compile("clock " + clock + ":.*?\\.offset:\\s+(-?\\d+) nsecs", Pattern.DOTALL)
                .matcher(timerList);
        return m.find() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }

    /** jiffies - floor(now / tick) from the "now at" and "jiffies:" lines, printed together. */
    static OptionalLong jiffiesBase(String timerList, long tickNs) {
        Matcher now = Pattern.compile("now at (\\d+) nsecs").matcher(timerList);
        Matcher jiffies = Pattern.compile("jiffies: (\\d+)").matcher(timerList);
        if (!now.find() || !jiffies.find()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(Long.parseLong(jiffies.group(1)) - Long.parseLong(now.group(1)) / tickNs);
    }

    /**
     * CLOCK_BOOTTIME - CLOCK_MONOTONIC from /proc/uptime, which prints CLOCK_BOOTTIME truncated to
     * 10 ms: an estimate below that resolution is taken as "never suspended" (0).
     */
    private static long uptimeBootOffset() {
        String uptime = read(Path.of("/proc/uptime"));
        if (uptime == null) {
            return 0;
        }
        try {
            long mono = System.nanoTime();
            String seconds = uptime.strip().split("\\s+")[0];
            long boot = Math.round(Double.parseDouble(seconds) * 100) * UPTIME_RESOLUTION_NS;
            long estimate = boot - mono;
            return estimate < UPTIME_RESOLUTION_NS ? 0 : estimate;
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** CONFIG_HZ of the running kernel's build configuration, if the host has it. */
    private static OptionalInt configHz() {
        String config = readGzip(Path.of("/proc/config.gz"));
        if (config == null) {
            config = read(Path.of("/boot/config-" + System.getProperty("os.version")));
        }
        return config == null ? OptionalInt.empty() : parseHz(config);
    }

    static OptionalInt parseHz(String config) {
        Matcher m = Pattern.compile("(?m)^CONFIG_HZ=(\\d+)$").matcher(config);
        if (!m.find()) {
            return OptionalInt.empty();
        }
        int hz = Integer.parseInt(m.group(1));
        return hz > 0 && hz <= 10_000 ? OptionalInt.of(hz) : OptionalInt.empty();
    }

    /** INITIAL_JIFFIES for a tick rate: the value jiffies has at boot. */
    static long initialJiffies(int hz) {
        return JIFFIES_WRAP - 300L * hz;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.US_ASCII);
        } catch (IOException | SecurityException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    private static String readGzip(Path p) {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException | SecurityException e) {
            return null;
        }
    }
}
