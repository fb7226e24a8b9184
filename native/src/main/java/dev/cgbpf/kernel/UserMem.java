package dev.cgbpf.kernel;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A user-space buffer that a bpf_attr points at (insns, license, keys, values, packets, logs).
 * Closed deterministically rather than left to JNA's cleaner.
 *
 * <p>JNA cannot allocate a zero-byte {@link Memory} (IllegalArgumentException), so an empty
 * buffer is represented by address 0, which is what the kernel expects for "no buffer".
 */
final class UserMem implements AutoCloseable {
    private final Memory memory;
    private final int size;

    private UserMem(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("buffer size " + size);
        }
        this.size = size;
        this.memory = size == 0 ? null : new Memory(size);
        if (memory != null) {
            memory.clear();
        }
    }

    static UserMem zeroed(int size) {
        return new UserMem(size);
    }

    static UserMem of(byte[] bytes) {
        UserMem m = new UserMem(bytes.length);
        if (bytes.length > 0) {
            m.memory.write(0, bytes, 0, bytes.length);
        }
        return m;
    }

    /** A NUL-terminated C string. */
    static UserMem cString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return of(Arrays.copyOf(utf8, utf8.length + 1));
    }

    long address() {
        return memory == null ? 0L : Pointer.nativeValue(memory);
    }

    int size() {
        return size;
    }

    byte[] read(int length) {
        if (length < 0 || length > size) {
            throw new IllegalArgumentException("read of " + length + " bytes from a buffer of " + size);
        }
        byte[] out = new byte[length];
        if (length > 0) {
            memory.read(0, out, 0, length);
        }
        return out;
    }

    int u32(int offset) {
        return memory.getInt(offset);
    }

    /** The C string at the start of the buffer (up to the first NUL or the end), as UTF-8. */
    String cStringValue() {
        byte[] all = read(size);
        int n = 0;
        while (n < all.length && all[n] != 0) {
            n++;
        }
        return new String(all, 0, n, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        if (memory != null) {
            memory.close();
        }
    }
}
