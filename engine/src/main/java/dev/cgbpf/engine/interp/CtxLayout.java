package dev.cgbpf.engine.interp;

import java.util.List;

/**
 * The field table of one context struct and the access rule the kernel's {@code is_valid_access}
 * applies to it: the offset aligned to the access size, the access inside one field, writes only
 * where allowed and at the field's size, reads as the field's {@link CtxField.Read} says. A
 * rejected access faults with the verifier's own words,
 * {@code invalid bpf_context access off=72 size=4}.
 */
public final class CtxLayout {
    private final int size;
    private final CtxField[] byOffset;
    /** Per offset, the read sizes {@link #check} allows there: bit 0, 1, 2, 3 for 1, 2, 4, 8 bytes. */
    private final byte[] readSizes;

    public CtxLayout(int size, List<CtxField> fields) {
        this.size = size;
        this.byOffset = new CtxField[size];
        for (CtxField f : fields) {
            for (int i = f.offset(); i < f.end(); i++) {
                if (byOffset[i] != null) {
                    throw new IllegalArgumentException("fields " + byOffset[i].name() + " and " + f.name() + " overlap");
                }
                byOffset[i] = f;
            }
        }
        this.readSizes = new byte[size];
        for (int off = 0; off < size; off++) {
            for (int bit = 0; bit < 4; bit++) {
                int s = 1 << bit;
                CtxField f = off % s == 0 ? byOffset[off] : null;
                if (f != null && off + s <= f.end() && allowed(f, off, s, false)) {
                    readSizes[off] |= (byte) (1 << bit);
                }
            }
        }
    }

    /**
     * The reads {@link #check} allows, decided once per layout, as the verifier's ctx rule decides
     * them at load: entry {@code off} has bit {@code log2(size)} set when a read of {@code size}
     * bytes at {@code off} passes (a copy: callers may keep it).
     */
    public byte[] readSizes() {
        return readSizes.clone();
    }

    /** {@link #readSizes()} itself, for the contexts of this package (not to be changed). */
    byte[] sharedReadSizes() {
        return readSizes;
    }

    public int size() {
        return size;
    }

    /** The field an allowed access touches; faults like the verifier otherwise. */
    public CtxField check(int offset, int accessSize, boolean write) {
        CtxField f = offset >= 0 && offset < size && offset % accessSize == 0 ? byOffset[offset] : null;
        if (f == null || offset + accessSize > f.end() || !allowed(f, offset, accessSize, write)) {
            throw new Fault("invalid bpf_context access off=" + offset + " size=" + accessSize);
        }
        return f;
    }

    private static boolean allowed(CtxField f, int offset, int accessSize, boolean write) {
        if (write) {
            return f.write() && (f.read() == CtxField.Read.ANY || (offset == f.offset() && accessSize == f.size()));
        }
        return switch (f.read()) {
            case NONE -> false;
            case FULL -> offset == f.offset() && accessSize == f.size();
            case NARROW -> accessSize <= f.size();
            case ANY -> true;
        };
    }
}
