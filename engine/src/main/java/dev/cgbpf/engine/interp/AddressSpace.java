package dev.cgbpf.engine.interp;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * The address space shared by every run of one engine backend: map values and map objects live
 * here for as long as their map lives. Slots below {@link #RUN_SLOTS} belong to each run (context,
 * packet, stack frames) and are held by the run's {@link Machine}, so runs never see each other's
 * stacks.
 */
public final class AddressSpace {
    /** Per-run slots: 0 the context, 1 the packet, 2..9 the stack frames, 10 a socket. */
    public static final int RUN_SLOTS = 16;
    public static final int CTX_SLOT = 0;
    public static final int PACKET_SLOT = 1;
    public static final int FIRST_STACK_SLOT = 2;
    /** After the stack frames ({@link Machine#MAX_FRAMES} of them): a socket a context points to (bpf_sock). */
    public static final int SOCK_SLOT = FIRST_STACK_SLOT + Machine.MAX_FRAMES;

    private volatile Region[] table = new Region[64];
    private final Deque<Integer> freeSlots = new ArrayDeque<>();
    private int nextSlot = RUN_SLOTS;

    /** Reserves a slot for a region that the caller builds with it, then {@link #install}s. */
    public synchronized int reserveSlot() {
        Integer reused = freeSlots.pollFirst();
        return reused != null ? reused : nextSlot++;
    }

    public synchronized void install(Region region) {
        Region[] t = table;
        if (region.slot >= t.length) {
            t = Arrays.copyOf(t, Math.max(t.length * 2, region.slot + 1));
        } else {
            t = t.clone();
        }
        t[region.slot] = region;
        table = t;
    }

    public synchronized void release(Region region) {
        Region[] t = table.clone();
        if (t[region.slot] == region) {
            t[region.slot] = null;
            table = t;
            freeSlots.addLast(region.slot);
        }
    }

    Region shared(int slot) {
        Region[] t = table;
        return slot >= 0 && slot < t.length ? t[slot] : null;
    }
}
