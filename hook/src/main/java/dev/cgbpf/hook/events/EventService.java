package dev.cgbpf.hook.events;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.hook.oci.AttachRecord;
import dev.cgbpf.hook.oci.ContainerFiles;
import dev.cgbpf.hook.oci.ContainerStatus;
import dev.cgbpf.hook.oci.HookException;
import dev.cgbpf.hook.oci.HookSettings;
import dev.cgbpf.hook.oci.HostEvents;
import dev.cgbpf.kernel.RingBuf;

import java.io.IOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The daemon's event reader: one thread that waits on the host's ring buffer (poll(2) on the map
 * fd), decodes each record, finds its container by cgroup id ({@link ContainerIndex}) and hands
 * the line to the {@link DenialLog}, which rate-limits it and passes what it writes to the
 * {@link Subscribers}. Every second it ends the log's rate windows; every few seconds it re-reads
 * the records, which also brings in the ring's overflow count from the containers' counter maps.
 */
public final class EventService implements AutoCloseable {
    /** Where and how much: the log's path and size bound, the per-container rate limit. */
    public record Options(Path logPath, long maxBytes, int burst, long windowMillis) {
        public static final Options DEFAULT = new Options(DenialLog.DEFAULT_PATH, DenialLog.DEFAULT_MAX_BYTES,
                DenialLog.DEFAULT_BURST, DenialLog.DEFAULT_WINDOW_MILLIS);

        public Options withLogPath(Path p) {
            return new Options(p, maxBytes, burst, windowMillis);
        }
    }

    static final long REFRESH_MILLIS = 5_000;
    private static final int BATCH = 4096;

    private final HostEvents.Opened ring;
    private final RingBuf reader;
    private final DenialLog log;
    private final Subscribers subscribers;
    private final ContainerIndex index;
    private final Consumer<String> warn;
    private final Thread thread;
    private final AtomicLong read = new AtomicLong();
    private final AtomicLong foreign = new AtomicLong();
    /** The ring's overflow: the sum of every container's EVENTS_LOST slot, kept when a container goes. */
    private final AtomicLong dropped = new AtomicLong();
    private final Map<Long, Long> lostSeen = new HashMap<>();
    private volatile boolean stopping;

    private EventService(HostEvents.Opened ring, RingBuf reader, DenialLog log, Subscribers subscribers,
                         ContainerIndex index, Consumer<String> warn) {
        this.subscribers = subscribers;
        this.ring = ring;
        this.reader = reader;
        this.log = log;
        this.index = index;
        this.warn = warn;
        this.thread = new Thread(this::loop, "cgbpf-events");
        this.thread.setDaemon(true);
    }

    /** Opens (or makes) the ring buffer and the log, and starts reading. */
    public static EventService start(HookSettings settings, Options o, Consumer<String> warn) throws HookException {
        HostEvents.Opened ring = HostEvents.open(settings);
        RingBuf reader = null;
        try {
            reader = RingBuf.map(ring.ring().fd(), ring.ring().spec().maxEntries());
            Subscribers subs = new Subscribers();
            EventService s = new EventService(ring, reader, new DenialLog(o.logPath(), o.maxBytes(), o.burst(),
                    o.windowMillis(), subs::publish), subs, new ContainerIndex(settings, warn), warn);
            s.thread.start();
            return s;
        } catch (BpfException e) {
            ring.close();
            throw new HookException("the denial event ring buffer: " + e.getMessage());
        } catch (IOException e) {
            if (reader != null) {
                reader.close();
            }
            ring.close();
            throw new HookException("the denials log " + o.logPath() + ": " + e.getMessage());
        }
    }

    private void loop() {
        long lastTick = System.currentTimeMillis();
        long lastRefresh = 0;
        while (!stopping) {
            try {
                if (reader.await(500)) {
                    reader.consume(this::handle, BATCH);
                }
                long now = System.currentTimeMillis();
                if (now - lastTick >= 1000) {
                    lastTick = now;
                    log.tick(now, OffsetDateTime.now().toString());
                }
                if (now - lastRefresh >= REFRESH_MILLIS) {
                    lastRefresh = now;
                    index.refresh(now);
                    countLost();
                }
            } catch (BpfException | IOException | RuntimeException e) {
                warn.accept("events: " + e.getMessage());
                sleep(1000);
            }
        }
    }

    private void handle(byte[] rec) {
        read.incrementAndGet();
        DenialEvent e = DenialEvent.decode(rec).orElse(null);
        if (e == null) {
            foreign.incrementAndGet();
            return;
        }
        long now = System.currentTimeMillis();
        AttachRecord r = index.lookup(e.cgroupId());
        LoggedEvent line = LoggedEvent.of(OffsetDateTime.now().toString(), r == null ? null : r.id(),
                ContainerIndex.ruleText(r, e), e);
        try {
            log.log(line, now);
        } catch (IOException ex) {
            warn.accept("events: writing " + log.path() + ": " + ex.getMessage());
        }
    }

    /** Adds what each container's EVENTS_LOST slot grew by since the last look. */
    private void countLost() {
        Map<Long, Long> now = new HashMap<>();
        for (ContainerStatus c : index.statuses()) {
            AttachRecord r = c.record();
            if (!AttachRecord.KERNEL.equals(r.backend())) {
                continue;
            }
            long v = r.pinDir() == null ? 0 : ring.eventsLost(Path.of(r.pinDir()).resolve(ContainerFiles.COUNTERS));
            long before = lostSeen.getOrDefault(r.cgroupId(), 0L);
            if (v > before) {
                dropped.addAndGet(v - before);
            }
            now.put(r.cgroupId(), v);
        }
        lostSeen.clear();
        lostSeen.putAll(now);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public Subscribers subscribers() {
        return subscribers;
    }

    public ContainerIndex index() {
        return index;
    }

    public Path logPath() {
        return log.path();
    }

    /** Records read from the ring buffer. */
    public long eventsRead() {
        return read.get();
    }

    /** Events the ring buffer had no room for (counted by the programs). */
    public long eventsDropped() {
        return dropped.get();
    }

    /** Events the log's rate limit left out. */
    public long eventsSuppressed() {
        return log.suppressedTotal();
    }

    @Override
    public void close() {
        stopping = true;
        try {
            thread.join(3000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            log.close();
        } catch (IOException e) {
            // nothing more to write
        }
        reader.close();
        ring.close();
    }
}
