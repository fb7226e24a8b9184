package dev.cgbpf.engine.maps;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The keys of a hash map's elements (kernel: the htab's buckets), each naming the element slot
 * that holds its value, in insertion order for get_next_key. The kernel walks its buckets in the
 * order of a seeded jhash, which no one can reproduce; insertion order, oldest first, is the
 * engine's stand-in. An absent (or null) key yields the first key, the last key none.
 */
final class KeyIndex {
    /** A key by content. */
    private record Key(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    private final Map<Key, Integer> index = new HashMap<>();
    private final byte[][] keys;
    /** insertion-order list through the used slots; -1 ends it */
    private final int[] next;
    private final int[] prev;
    private int head = -1;
    private int tail = -1;

    KeyIndex(int slots) {
        keys = new byte[slots][];
        next = new int[slots];
        prev = new int[slots];
    }

    /** The slot of {@code key}, or -1. */
    int get(byte[] key) {
        Integer slot = index.get(new Key(key));
        return slot == null ? -1 : slot;
    }

    /** Adds {@code key} (absent) with its value in {@code slot} (unused), as the newest key. */
    void add(byte[] key, int slot) {
        Key k = new Key(key.clone());
        keys[slot] = k.bytes();
        index.put(k, slot);
        next[slot] = -1;
        prev[slot] = tail;
        if (tail >= 0) {
            next[tail] = slot;
        } else {
            head = slot;
        }
        tail = slot;
    }

    /** Removes {@code key}: its slot, or -1 when it was absent. */
    int remove(byte[] key) {
        Integer slot = index.remove(new Key(key));
        if (slot == null) {
            return -1;
        }
        unlink(slot);
        return slot;
    }

    /** Removes the key whose value is in {@code slot}; false when the slot holds none. */
    boolean removeSlot(int slot) {
        if (keys[slot] == null) {
            return false;
        }
        index.remove(new Key(keys[slot]));
        unlink(slot);
        return true;
    }

    private void unlink(int s) {
        if (prev[s] >= 0) {
            next[prev[s]] = next[s];
        } else {
            head = next[s];
        }
        if (next[s] >= 0) {
            prev[next[s]] = prev[s];
        } else {
            tail = prev[s];
        }
        keys[s] = null;
    }

    /** The key after {@code key} (null or absent: the first); null when there is none. */
    byte[] next(byte[] key) {
        Integer slot = key == null ? null : index.get(new Key(key));
        int n = slot == null ? head : next[slot];
        return n < 0 ? null : keys[n].clone();
    }

    int size() {
        return index.size();
    }
}
