package dev.cgbpf.engine.interp;

/**
 * A context whose fields are plain values kept in a little-endian image of the uapi struct, which
 * is what the kernel's rewritten context accesses amount to for the fields it exposes. Subclasses
 * fill the image and override {@link #read} for fields that are not plain values (pointers).
 */
public abstract class StructContext implements ProgContext {
    protected final CtxLayout layout;
    protected final byte[] image;

    protected StructContext(CtxLayout layout) {
        this.layout = layout;
        this.image = new byte[layout.size()];
    }

    /**
     * Every read the layout allows is a plain image read here ({@link #read} is not overridden by
     * any subclass; one that overrides it for a field must leave that field out of this table).
     */
    @Override
    public byte[] directReads() {
        return layout.sharedReadSizes();
    }

    @Override
    public final byte[] image() {
        return image;
    }

    @Override
    public int size() {
        return layout.size();
    }

    @Override
    public long load(int offset, int size) {
        CtxField f = layout.check(offset, size, false);
        return read(f, offset, size);
    }

    @Override
    public void store(int offset, int size, long value) {
        layout.check(offset, size, true);
        put(offset, size, value);
    }

    /** The value of an allowed read; narrow reads of a little-endian field take its low-order bytes. */
    protected long read(CtxField field, int offset, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (image[offset + i] & 0xff);
        }
        return v;
    }

    protected final void put(int offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            image[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    protected final long get(int offset, int size) {
        long v = 0;
        for (int i = size - 1; i >= 0; i--) {
            v = (v << 8) | (image[offset + i] & 0xff);
        }
        return v;
    }
}
