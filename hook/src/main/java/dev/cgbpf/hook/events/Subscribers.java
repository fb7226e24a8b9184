package dev.cgbpf.hook.events;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live readers of the denial lines ({@code cgbpf events --follow}): each gets every line the
 * log writes, through a bounded queue; a reader too slow to keep up loses lines (counted in its
 * subscription) rather than slowing the event reader down.
 */
public final class Subscribers {
    static final int QUEUE = 1024;
    private final CopyOnWriteArrayList<Subscription> subs = new CopyOnWriteArrayList<>();

    /** One reader: take lines until it closes. */
    public final class Subscription implements AutoCloseable {
        private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE);
        private final AtomicLong lost = new AtomicLong();

        /** The next line, or null when none came within {@code timeoutMillis}. */
        public String next(long timeoutMillis) throws InterruptedException {
            return queue.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        }

        /** Lines this reader lost because its queue was full; reading resets it. */
        public long takeLost() {
            return lost.getAndSet(0);
        }

        @Override
        public void close() {
            subs.remove(this);
        }
    }

    public Subscription subscribe() {
        Subscription s = new Subscription();
        subs.add(s);
        return s;
    }

    public void publish(String line) {
        for (Subscription s : subs) {
            if (!s.queue.offer(line)) {
                s.lost.incrementAndGet();
            }
        }
    }

    public int count() {
        return subs.size();
    }
}
