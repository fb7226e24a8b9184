package dev.cgbpf.kernel;

import com.sun.jna.Memory;

/**
 * One {@code union bpf_attr} for a single bpf(2) call, in native memory, zeroed.
 *
 * <p>Zeroing matters: JNA's {@link Memory} is malloc'ed, not calloc'ed, and the kernel rejects an
 * attr whose bytes after the command's last field are not zero (E2BIG/EINVAL from its
 * CHECK_ATTR / tail-zero checks). The size handed to the kernel is the end of the last field the
 * command uses, as libbpf does, so the call works on kernels older and newer than the header.
 */
final class BpfAttr implements AutoCloseable {
    private final Memory memory;
    private final int size;

    BpfAttr(UapiField last) {
        this.size = last.end();
        this.memory = new Memory(size);
        memory.clear();
    }

    int size() {
        return size;
    }

    Memory memory() {
        return memory;
    }

    void u32(UapiField f, int value) {
        check(f, 4);
        memory.setInt(f.offset(), value);
    }

    void u64(UapiField f, long value) {
        check(f, 8);
        memory.setLong(f.offset(), value);
    }

    /** A user pointer field ({@code __aligned_u64}); an empty buffer is NULL. */
    void ptr(UapiField f, UserMem mem) {
        u64(f, mem == null ? 0L : mem.address());
    }

    /** A fixed char array such as prog_name: at most size-1 bytes, NUL-terminated. */
    void chars(UapiField f, byte[] bytes) {
        if (bytes.length >= f.size()) {
            throw new IllegalArgumentException(f.member() + " takes at most " + (f.size() - 1) + " bytes");
        }
        memory.write(f.offset(), bytes, 0, bytes.length);
    }

    int u32(UapiField f) {
        check(f, 4);
        return memory.getInt(f.offset());
    }

    long u64(UapiField f) {
        check(f, 8);
        return memory.getLong(f.offset());
    }

    private void check(UapiField f, int width) {
        if (!f.type().equals(UapiField.BPF_ATTR) || f.size() != width || f.end() > size) {
            throw new IllegalStateException(f.type() + " field " + f.member() + " (" + f.size() + " bytes at "
                    + f.offset() + ") accessed as " + width + " bytes in an attr of " + size);
        }
    }

    @Override
    public void close() {
        memory.close();
    }
}
